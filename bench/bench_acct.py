#!/usr/bin/env python
"""The ACCT wing board and the estate-wide "what is overdue now", beside naive per-case baselines.

Seeds the ``estate`` size (120 prisons, 88,000 people, about 1,800 open ACCTs written by the demo's
bulk ACCT writer) into a SEPARATE benchmark database and times the seed. Then it takes the estate
prison nearest 1,000 people and adds ACCTs (from the same generator) until exactly 50 are open,
and measures p50/p95/p99 latency of:

  wing board      acct.selectors.wing_board for the whole prison (a fixed number of queries:
                  one annotated query for the cases, three for their latest reviews, plans and
                  outstanding demands, two for the current cells and their types; then the pure
                  rules) vs naive: each case loaded, then its IAP, assessment, latest review,
                  plan, last observation, last conversation, demands, latest concern, safer-cell
                  decision, person and cell fetched with separate queries (about 13 a case)
  estate overdue  acct.selectors.estate_overdue_now over the estate: the live ACCTs whose stored
                  next due time has passed (partial index), their facts as plain values (four
                  queries), the rules, one count of live cases per prison; vs naive: the same
                  per-case queries for every live case. Also timed beside it in the same run: the
                  selector as it was before next_due_at (every live case through
                  facts.with_facts/states_for), and the selector with PostgreSQL's JIT off

Both sides of the board write the one audit event a board view writes (the estate query writes
none), and each pair is checked to give the same answer before it is timed.

Usage (from the repository root):
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/saferprisons_bench \\
      .venv/bin/python bench/bench_acct.py        # PostgreSQL; the database is created if missing
  .venv/bin/python bench/bench_acct.py            # SQLite at var/bench.sqlite3
Options: --iterations N (200; the naive sides run fewer, see --naive-board/--naive-estate),
--seed N (2026), --reuse (keep an estate already seeded there), --explain (write EXPLAIN ANALYZE
of the main queries to bench/results/acct-explain-<vendor>.txt).
Results: a markdown table on stdout and bench/results/acct-<vendor>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from bench_people import (  # noqa: E402  (after the path is set)
    configure_environment,
    database_version,
    machine,
    summarise,
)

RESULTS = REPO / "bench" / "results"
GOAL_BOARD_P95_MS = 100.0
GOAL_ESTATE_MS = 200.0
BOARD_POPULATION = 1000
BOARD_OPEN_CASES = 50
WARM_UP = 5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--naive-board", type=int, default=40)
    parser.add_argument("--naive-estate", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--reuse", action="store_true", help="Do not reseed an estate already there."
    )
    parser.add_argument("--explain", action="store_true", help="Write EXPLAIN ANALYZE plans.")
    return parser.parse_args()


def measure(fast, naive, n_fast: int, n_naive: int) -> tuple[dict, dict]:
    """Time ``fast`` n_fast times and ``naive`` n_naive times, the naive calls spread evenly
    between the fast ones (alternating which goes first), so background load on the shared
    machine falls on both columns alike."""
    for _ in range(WARM_UP):
        fast()
    naive()
    wall: dict = {fast: [], naive: []}
    cpu: dict = {fast: [], naive: []}

    def timed(fn) -> None:
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        wall[fn].append((time.perf_counter() - started) * 1000)
        cpu[fn].append((time.process_time() - started_cpu) * 1000)

    every = max(1, n_fast // max(1, n_naive))
    for index in range(n_fast):
        pair = [fast]
        if index % every == 0 and len(wall[naive]) < n_naive:
            pair = [fast, naive] if (index // every) % 2 == 0 else [naive, fast]
        for fn in pair:
            timed(fn)
    while len(wall[naive]) < n_naive:
        timed(naive)

    def summary(fn) -> dict:
        # This process's CPU time beside the wall-clock time: on the shared machine the gap is
        # time spent waiting (for the database, or for a core another process holds).
        cpu_ms = summarise(cpu[fn])
        return {
            **summarise(wall[fn]),
            "cpu_p50_ms": cpu_ms["p50_ms"],
            "cpu_p95_ms": cpu_ms["p95_ms"],
        }

    return summary(fast), summary(naive)


def count_queries(fn) -> int:
    """SQL statements one call sends (counted as they go: the naive estate sends tens of
    thousands, beyond what Django's query log keeps)."""
    from django.db import connection

    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        fn()
    return count


def main() -> int:  # noqa: C901 - one straight script
    args = parse_args()
    url = configure_environment()

    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from saferprisons.accounts.models import User
    from saferprisons.acct import facts, rules, selectors
    from saferprisons.acct.constants import LIVE_STATUSES, SAFER_CELL_TYPES, CaseStatus
    from saferprisons.acct.models import (
        AcctCase,
        AssessmentInterview,
        CaseEntry,
        CaseReview,
        Concern,
        ImmediateActionPlan,
        ReviewDemand,
        SaferCellDecision,
        SupervisionPlan,
    )
    from saferprisons.audit.constants import Action
    from saferprisons.audit.services import record
    from saferprisons.core import clock
    from saferprisons.demo import generators as gen
    from saferprisons.demo.services import flush_demo_data, has_domain_data, seed_demo
    from saferprisons.estate.models import Prison
    from saferprisons.people.models import CellAllocation, Prisoner

    vendor = connection.vendor
    print(f"database: {vendor} ({url.split('@')[-1]})")
    call_command("migrate", verbosity=0)

    # --- the estate ------------------------------------------------------------------------

    seed_info: dict = {"reused": True}
    estate_there = Prisoner.objects.count() >= gen.ESTATE_POPULATION
    if not (args.reuse and estate_there):
        flush_seconds = 0.0
        if has_domain_data():
            started = time.perf_counter()
            flush_demo_data()
            flush_seconds = time.perf_counter() - started
        load_before = os.getloadavg()
        started = time.perf_counter()
        report = seed_demo(size="estate", seed=args.seed, progress=lambda m: print(f"  {m}"))
        seed_seconds = time.perf_counter() - started
        seed_info = {
            "reused": False,
            "seed": args.seed,
            "seed_seconds": round(seed_seconds, 1),
            "flush_seconds_before": round(flush_seconds, 1),
            "acct_writer": report.acct_writer,
            "acct_stages": report.acct_stages,
            "acct_overdue_at_seed": report.acct_overdue,
            "counts": report.counts,
            "load_average_before_after": [
                [round(x, 2) for x in load_before],
                [round(x, 2) for x in os.getloadavg()],
            ],
        }
        print(f"estate seeded in {seed_seconds:.1f}s")

    # --- the board's prison: nearest 1,000 people, topped up to 50 open ACCTs --------------

    populations = dict(
        Prisoner.objects.filter(prison__isnull=False)
        .values_list("prison")
        .annotate(n=Count("pk"))
        .values_list("prison", "n")
    )
    prison = min(
        Prison.objects.filter(pk__in=populations),
        key=lambda p: (abs(populations[p.pk] - BOARD_POPULATION), p.code),
    )
    added = top_up_open_accts(prison, BOARD_OPEN_CASES, random.Random(f"{args.seed}/board"))
    open_here = AcctCase.objects.filter(prisoner__prison=prison, status=CaseStatus.OPEN).count()
    live_here = AcctCase.objects.filter(prisoner__prison=prison, status__in=LIVE_STATUSES).count()
    assert open_here == BOARD_OPEN_CASES, open_here
    if added:
        from saferprisons.demo.services import refresh_statistics

        refresh_statistics()
    print(
        f"board prison {prison.code}: {populations[prison.pk]} people, {open_here} open ACCTs "
        f"({added} added), {live_here} on the board with post-closure"
    )
    manager = User.objects.get(username=gen.username_for("CUSTODIAL_MANAGER", prison.code))

    # --- the naive baselines -----------------------------------------------------------------

    timings = rules.Timings.from_settings()

    def naive_state(case: AcctCase, now: datetime):
        """One case's due items the naive way: a query per fact."""
        start = case.period_started_at
        review = (
            CaseReview.objects.filter(case=case, held_at__gte=start)
            .order_by("-held_at", "-id")
            .first()
        )
        plan = (
            SupervisionPlan.objects.filter(case=case, started_at__gte=start).order_by("-id").first()
        )

        def last(kind):
            return (
                CaseEntry.objects.filter(case=case, kind=kind, seen_or_spoken_to=True)
                .order_by("-occurred_at")
                .values_list("occurred_at", flat=True)
                .first()
            )

        demands = list(
            ReviewDemand.objects.filter(case=case, satisfied_by__isnull=True).order_by(
                "due_at", "id"
            )
        )
        case_facts = rules.CaseFacts(
            status=case.status,
            period_started_at=start,
            closed_at=case.closed_at,
            has_iap=ImmediateActionPlan.objects.filter(case=case, recorded_at__gte=start).exists(),
            has_assessment=AssessmentInterview.objects.filter(
                case=case, interviewed_at__gte=start
            ).exists(),
            has_review_in_period=review is not None,
            next_review_at=review.next_review_at if review else None,
            demands=[(d.due_at, d.reason) for d in demands],
            plan=rules.PlanInForce(facts.plan_levels(plan), plan.started_at) if plan else None,
            last_observation_at=last("OBSERVATION"),
            last_conversation_at=last("CONVERSATION"),
        )
        return rules.due_items(case_facts, now, timings), review, plan

    def naive_board(now: datetime | None = None):
        now = now or clock.now()
        rows = []
        for case in AcctCase.objects.filter(prisoner__prison=prison, status__in=LIVE_STATUSES):
            items, review, plan = naive_state(case, now)
            prisoner = case.prisoner  # a query
            allocation = CellAllocation.objects.filter(
                prisoner=prisoner, ended_at__isnull=True
            ).first()
            cell = allocation.cell if allocation else None  # a query
            safer = cell is not None and any(
                t.code in SAFER_CELL_TYPES for t in cell.cell_types.all()
            )
            concern = Concern.objects.filter(case=case).order_by("-raised_at").first()
            decision = SaferCellDecision.objects.filter(case=case).order_by("-decided_at").first()
            new_concern = concern is not None and concern.raised_at >= now - timings.new_concern
            # High risk or constant supervision, not in a safer cell, no decision since.
            since = [review.held_at] if review is not None and review.risk_level == "HIGH" else []
            since += [plan.started_at] if plan is not None and plan.constant else []
            warning = (
                case.status == CaseStatus.OPEN
                and bool(since)
                and not safer
                and (decision is None or decision.decided_at < max(since))
            )
            rank, rank_at = rules.urgency(
                items, now, timings, new_concern=new_concern, high_risk_unsafe=warning
            )
            rows.append((rank, rank_at, case.log_number, prisoner.prison_number, items, warning))
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        record(
            actor=manager,
            action=Action.VIEW,
            object_type="acct_wing_board",
            object_id=prison.public_id,
            prison_code=prison.code,
            details={"wing": None, "result_count": len(rows), "log_numbers": [r[2] for r in rows]},
        )
        return rows

    def naive_estate(now: datetime | None = None):
        now = now or clock.now()
        overdue = []
        for case in AcctCase.objects.filter(status__in=LIVE_STATUSES):
            items, _, _ = naive_state(case, now)
            prisoner = case.prisoner  # a query
            code = prisoner.prison.code  # a query
            overdue += [
                (code, case.log_number, prisoner.prison_number, i.kind, i.due_at)
                for i in items
                if i.overdue
            ]
        return sorted(overdue, key=lambda r: (r[4], r[1]))

    def board(now: datetime | None = None):
        return selectors.wing_board(manager, prison, now=now)

    def estate(now: datetime | None = None):
        return selectors.estate_overdue_now(now=now)

    def previous(now: datetime | None = None):
        return previous_estate_overdue(now=now)

    def estate_jit_off(now: datetime | None = None):
        return estate_overdue_without_jit(now=now)

    # Both sides must give the same answer, or the comparison means nothing.
    now = clock.now()
    fast_rows = [
        (r.urgency, r.urgency_at, r.case.log_number, r.prisoner.prison_number, r.items,
         r.safer_cell_warning)
        for r in board(now).rows
    ]  # fmt: skip
    assert fast_rows == naive_board(now), "the naive board differs"
    fast_overdue = [
        (r.prison_code, r.log_number, r.prison_number, r.kind, r.due_at) for r in estate(now).rows
    ]
    assert fast_overdue == naive_estate(now), "the naive estate query differs"
    before = previous(now)
    assert fast_overdue == before[0], "the previous estate query differs"
    assert estate(now).open_cases == before[1], "the live cases per prison differ"
    assert fast_overdue == [
        (r.prison_code, r.log_number, r.prison_number, r.kind, r.due_at)
        for r in estate_jit_off(now).rows
    ], "the estate query without JIT differs"
    # The cases the index finds (next due time passed) are exactly those with something overdue.
    due_cases = AcctCase.objects.filter(status__in=LIVE_STATUSES, next_due_at__lt=now).count()
    assert due_cases == len({row[1] for row in fast_overdue}), "next_due_at is out of step"
    live_cases = AcctCase.objects.filter(status__in=LIVE_STATUSES).count()
    open_cases = AcctCase.objects.filter(status=CaseStatus.OPEN).count()
    print(f"checked: same answers; estate {open_cases} open, {live_cases} live, "
          f"{len(fast_overdue)} overdue items now")  # fmt: skip

    # --- measure -----------------------------------------------------------------------------

    results = []
    plan = [
        ("wing board (whole prison)", board, naive_board, args.naive_board),
        ("estate overdue now", estate, naive_estate, args.naive_estate),
    ]
    for label, fast, naive, n_naive in plan:
        load = os.getloadavg()
        optimised, baseline = measure(fast, naive, args.iterations, n_naive)
        row = {
            "operation": label,
            "optimised": optimised,
            "naive": baseline,
            "queries": count_queries(fast),
            "naive_queries": count_queries(naive),
            "load_average_1_5_15_before": [round(x, 2) for x in load],
        }
        row["p95_speedup"] = round(row["naive"]["p95_ms"] / max(optimised["p95_ms"], 1e-3), 1)
        results.append(row)
        print(f"  measured {label}")

    # The selector as it was before next_due_at, and the selector with JIT off, each timed
    # beside the selector as it is (the same load falls on both sides of each pair).
    load = os.getloadavg()
    now_timing, before_timing = measure(estate, previous, args.iterations, args.iterations // 2)
    comparison = {
        "cases_read": due_cases,
        "current": now_timing,
        "previous": before_timing,
        "previous_queries": count_queries(previous),
        "load_average_1_5_15_before": [round(x, 2) for x in load],
    }
    load = os.getloadavg()
    jit_off, jit_on = measure(estate_jit_off, estate, args.iterations, args.iterations // 2)
    comparison["jit"] = {
        "jit_off": jit_off,
        "as_is": jit_on,
        "jit_off_queries": count_queries(estate_jit_off),
        "load_average_1_5_15_before": [round(x, 2) for x in load],
    }
    print("  measured the estate query before next_due_at, and without JIT")

    # Where the estate query's time goes: the due cases query, the three follow-up queries,
    # the rules in Python, the count of live cases per prison.
    breakdown = estate_breakdown(args.iterations // 4)
    explain_path = None
    if args.explain:
        explain_path = write_explain(vendor, facts, AcctCase, LIVE_STATUSES, prison)

    board_p95 = results[0]["optimised"]["p95_ms"]
    estate_p95 = results[1]["optimised"]["p95_ms"]
    output = {
        "benchmark": "acct",
        "vendor": vendor,
        "database_version": database_version(connection),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "iterations": args.iterations,
        "naive_iterations": {"board": args.naive_board, "estate": args.naive_estate},
        "warm_up": WARM_UP,
        "estate": {
            "prisons": Prison.objects.count(),
            "prisoners": Prisoner.objects.count(),
            "acct_cases": AcctCase.objects.count(),
            "open_acct_cases": open_cases,
            "live_acct_cases": live_cases,
            "overdue_items_at_check": len(fast_overdue),
            **seed_info,
        },
        "board_prison": {
            "code": prison.code,
            "people": populations[prison.pk],
            "open_accts": open_here,
            "rows_on_board": live_here,
            "accts_added_for_the_benchmark": added,
        },
        "results": results,
        "estate_before_next_due_at_and_jit": comparison,
        "estate_breakdown_ms": breakdown,
        "explain": str(explain_path.relative_to(REPO)) if explain_path else None,
        "goal": {
            "board_p95_ms_at_most": GOAL_BOARD_P95_MS,
            "board_p95_ms": board_p95,
            "board_met": board_p95 <= GOAL_BOARD_P95_MS,
            "estate_ms_at_most": GOAL_ESTATE_MS,
            "estate_p95_ms": estate_p95,
            "estate_met": estate_p95 <= GOAL_ESTATE_MS,
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"acct-{vendor}.json"
    path.write_text(json.dumps(output, indent=2, default=str) + "\n")
    print()
    print(markdown(output))
    print(f"\nwritten {path.relative_to(REPO)}")
    return 0


def previous_estate_overdue(*, now: datetime | None = None) -> tuple[list[tuple], Counter]:
    """``estate_overdue_now`` as it was before ``AcctCase.next_due_at`` (kept here to compare):
    every live case through ``facts.with_facts`` and ``states_for`` (model instances with
    their person, prisons, latest reviews with their users, plans), then the rules.
    (overdue rows as tuples, live cases per prison code)."""
    from saferprisons.acct import facts, rules
    from saferprisons.acct.constants import LIVE_STATUSES
    from saferprisons.acct.models import AcctCase
    from saferprisons.core import clock

    now = now or clock.now()
    timings = rules.Timings.from_settings()
    cases = list(
        facts.with_facts(
            AcctCase.objects.filter(status__in=LIVE_STATUSES).select_related(
                "prison", "prisoner__prison"
            )
        )
    )
    states = facts.states_for(cases)
    rows = []
    open_cases: Counter = Counter()
    for case in cases:
        prison = case.prisoner.prison or case.prison
        open_cases[prison.code] += 1
        rows += [
            (prison.code, case.log_number, case.prisoner.prison_number, item.kind, item.due_at)
            for item in rules.due_items(states[case.pk].facts, now, timings)
            if item.overdue
        ]
    return sorted(rows, key=lambda r: (r[4], r[1])), open_cases


def estate_overdue_without_jit(*, now: datetime | None = None):
    """The selector with PostgreSQL's JIT compiler off for its statements (``SET LOCAL`` in a
    transaction of its own): measured to decide whether the selector should do this."""
    from django.db import connection, transaction

    from saferprisons.acct import selectors

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        return selectors.estate_overdue_now(now=now)


def top_up_open_accts(prison, target: int, rng: random.Random) -> int:
    """Give people in ``prison`` who have never had an ACCT new open ones (stages drawn as the
    demo draws them; high risk without a safer cell free becomes raised) until ``target`` are
    open. Written by the demo's bulk ACCT writer. Returns how many were added."""
    from saferprisons.accounts.models import User
    from saferprisons.acct.constants import CaseStatus
    from saferprisons.acct.models import AcctCase
    from saferprisons.core import clock
    from saferprisons.demo import acct_histories as ah
    from saferprisons.demo import acct_writer
    from saferprisons.demo import generators as gen
    from saferprisons.people.models import CellAllocation, Movement, Prisoner

    missing = (
        target - AcctCase.objects.filter(prisoner__prison=prison, status=CaseStatus.OPEN).count()
    )
    if missing <= 0:
        return 0
    now = clock.now()
    arrived: dict[int, datetime] = {}
    for prisoner_id, at in Movement.objects.filter(to_prison=prison).values_list(
        "prisoner_id", "occurred_at"
    ):
        arrived[prisoner_id] = max(at, arrived.get(prisoner_id, at))
    wings = {
        a.prisoner_id: a.cell.path.split("-")[0]
        for a in CellAllocation.objects.filter(
            prisoner__prison=prison, ended_at__isnull=True
        ).select_related("cell")
    }
    people = list(
        Prisoner.objects.filter(prison=prison, acct_cases__isnull=True).order_by("prison_number")
    )
    rng.shuffle(people)
    histories = []
    for prisoner in people:
        if len(histories) == missing:
            break
        stage, flags = ah.draw_stage(rng, ah.STATUS_OPEN)
        if ah.wants_safer_cell(stage, flags):
            stage, flags = ah.OPEN_RAISED, flags - {ah.CONSTANT, ah.CELL_DECISION}
        spec = gen.PersonSpec(
            prison_number=prisoner.prison_number,
            first_name=prisoner.first_name,
            last_name=prisoner.last_name,
            sex=prisoner.sex,
            date_of_birth=prisoner.date_of_birth,
            legal_status=prisoner.legal_status,
            first_language=prisoner.first_language,
            health_needs="",
            days_in_custody=(now - arrived[prisoner.pk]).days,
        )
        if spec.acct_history_limit < ah.MIN_AGE[stage]:
            continue
        histories.append(
            (
                ah.history(rng, spec, stage, flags),
                acct_writer.Subject(prisoner, prison, wings[prisoner.pk]),
            )
        )
    users = {u.username: u for u in User.objects.filter(prisons=prison)}
    acct_writer.write(
        writer="bulk", now=now, histories=histories, users=users, username_for=gen.username_for
    )
    return len(histories)


def estate_breakdown(n: int) -> dict:
    """The parts of ``estate_overdue_now``, timed one by one."""
    from django.db.models import Count

    from saferprisons.acct import facts, rules, selectors
    from saferprisons.acct.constants import LIVE_STATUSES
    from saferprisons.acct.models import AcctCase
    from saferprisons.core import clock

    parts: dict[str, list[float]] = {
        "due cases query alone": [],
        "due_facts (that query and the three follow-ups)": [],
        "rules": [],
        "live cases per prison": [],
    }
    timings = rules.Timings.from_settings()
    live = AcctCase.objects.filter(status__in=LIVE_STATUSES)
    code = selectors._case_prison_code
    extra = ("code", "log_number", "prisoner__prison_number")
    for _ in range(max(5, n)):
        now = clock.now()
        due = live.filter(next_due_at__lt=now).annotate(code=code())
        started = time.perf_counter()
        list(
            due.annotate(**facts._due_annotations())
            .order_by()
            .values_list(*facts._DUE_COLUMNS, *extra)
        )
        queried = time.perf_counter()
        states = facts.due_facts(due, *extra)
        followed = time.perf_counter()
        for _, case_facts, _ in states:
            rules.due_items(case_facts, now, timings)
        ruled = time.perf_counter()
        dict(live.order_by().values(code=code()).annotate(n=Count("pk")).values_list("code", "n"))
        counted = time.perf_counter()
        parts["due cases query alone"].append((queried - started) * 1000)
        parts["due_facts (that query and the three follow-ups)"].append((followed - queried) * 1000)
        parts["rules"].append((ruled - followed) * 1000)
        parts["live cases per prison"].append((counted - ruled) * 1000)
    return {name: summarise(values) for name, values in parts.items()}


def write_explain(vendor: str, facts, AcctCase, live_statuses, prison) -> Path:  # noqa: N803
    from django.db.models import Count

    from saferprisons.acct import selectors
    from saferprisons.core import clock

    options = {"analyze": True, "buffers": True} if vendor == "postgresql" else {}
    live = AcctCase.objects.filter(status__in=live_statuses)
    code = selectors._case_prison_code
    estate = (
        live.filter(next_due_at__lt=clock.now())
        .annotate(code=code())
        .annotate(**facts._due_annotations())
        .order_by()
        .values_list(*facts._DUE_COLUMNS, "code", "log_number", "prisoner__prison_number")
    )
    counts = live.order_by().values(code=code()).annotate(n=Count("pk")).values_list("code", "n")
    before = facts.with_facts(live.select_related("prison", "prisoner__prison"))
    board = facts.with_facts(
        AcctCase.objects.filter(prisoner__prison=prison, status__in=live_statuses).select_related(
            "prison", "prisoner"
        )
    )
    text = [
        "-- estate_overdue_now: the due cases query (next_due_at passed, facts.due_facts)",
        str(estate.query),
        estate.explain(**options),
        "",
        "-- estate_overdue_now: live cases per prison",
        counts.explain(**options),
        "",
        "-- before next_due_at: the cases query (facts.with_facts over every live case)",
        before.explain(**options),
        "",
        f"-- wing_board: the cases query for prison {prison.code}",
        board.explain(**options),
    ]
    path = RESULTS / f"acct-explain-{vendor}.txt"
    path.write_text("\n".join(text) + "\n")
    return path


def markdown(output: dict) -> str:
    estate, board = output["estate"], output["board_prison"]
    lines = [
        f"**{output['database_version']}**, {estate['prisoners']:,} people in "
        f"{estate['prisons']} prisons, {estate['open_acct_cases']:,} open ACCTs "
        f"({estate['live_acct_cases']:,} with post-closure); board prison {board['code']}: "
        f"{board['people']} people, {board['open_accts']} open ACCTs, {board['rows_on_board']} "
        f"rows; {output['iterations']} iterations (naive: board "
        f"{output['naive_iterations']['board']}, estate {output['naive_iterations']['estate']})"
        + (f"; estate seeded in {estate['seed_seconds']}s" if "seed_seconds" in estate else ""),
        "",
        "| operation | p50 ms | p95 ms | p99 ms | CPU p50/p95 ms | queries/call | naive p50 ms "
        "| naive p95 ms | naive queries/call | p95 speed-up |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in output["results"]:
        fast, naive = row["optimised"], row["naive"]
        lines.append(
            f"| {row['operation']} | {fast['p50_ms']} | {fast['p95_ms']} | {fast['p99_ms']} "
            f"| {fast['cpu_p50_ms']} / {fast['cpu_p95_ms']} | {row['queries']} "
            f"| {naive['p50_ms']} | {naive['p95_ms']} | {row['naive_queries']} "
            f"| {row['p95_speedup']}× |"
        )
    lines.append("")
    lines.append("Estate query, by part (p50 / p95 ms): " + "; ".join(
        f"{name} {part['p50_ms']} / {part['p95_ms']}"
        for name, part in output["estate_breakdown_ms"].items()
    ))  # fmt: skip
    c = output["estate_before_next_due_at_and_jit"]
    lines.append(
        f"Estate query reading the {c['cases_read']} cases past their next due time: p50 "
        f"{c['current']['p50_ms']} / p95 {c['current']['p95_ms']} ms, beside the selector "
        f"before next_due_at (every live case, {c['previous_queries']} queries) in the same "
        f"run: p50 {c['previous']['p50_ms']} / p95 {c['previous']['p95_ms']} ms. With JIT off: "
        f"p50 {c['jit']['jit_off']['p50_ms']} / p95 {c['jit']['jit_off']['p95_ms']} ms beside "
        f"p50 {c['jit']['as_is']['p50_ms']} / p95 {c['jit']['as_is']['p95_ms']} ms as is."
    )
    goal = output["goal"]
    lines.append(
        f"Goals: board p95 ≤ {goal['board_p95_ms_at_most']:.0f} ms — {goal['board_p95_ms']} ms: "
        f"**{'met' if goal['board_met'] else 'NOT met'}**; estate ≤ "
        f"{goal['estate_ms_at_most']:.0f} ms — p95 {goal['estate_p95_ms']} ms: "
        f"**{'met' if goal['estate_met'] else 'NOT met'}**."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
