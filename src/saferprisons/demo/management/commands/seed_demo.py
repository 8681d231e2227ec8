"""``manage.py seed_demo --size demo|estate|tiny --seed N [--flush]``: synthetic, fictional data."""

from django.core.management.base import BaseCommand, CommandError

from saferprisons.accounts.roles import ROLES
from saferprisons.acct.constants import DueKind
from saferprisons.demo import acct_histories, acct_writer, generators
from saferprisons.demo.services import DemoDataExists, SeedReport, seed_demo


class Command(BaseCommand):
    help = (
        "Fill the database with fictional prisons, people and staff. tiny: 1 prison, ~60 people "
        "(tests); demo: 3 prisons, ~1,500 people; estate: 120 prisons, ~88,000 people "
        "(benchmarks). The same seed always gives the same data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=generators.SIZES, default="demo")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--flush",
            action="store_true",
            help="Remove existing prisons, people and demo staff first (audit events are kept).",
        )
        parser.add_argument(
            "--acct-writer",
            choices=acct_writer.WRITERS,
            default=None,
            help="How ACCT histories are written: through the ACCT services (default, except for "
            "the estate size) or in bulk (default for the estate size).",
        )

    def handle(self, *args, size, seed, flush, acct_writer=None, **options):
        verbose = options.get("verbosity", 1) >= 2
        try:
            report = seed_demo(
                size=size,
                seed=seed,
                flush=flush,
                acct_writer_name=acct_writer,
                progress=(lambda message: self.stdout.write(f"  {message}")) if verbose else None,
            )
        except DemoDataExists as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(summary(report)))
        self.stdout.write(sign_in_table(report))

    # (helpers below are module functions so the benchmark can print the same summary)


def summary(report: SeedReport) -> str:
    counts = ", ".join(f"{name.replace('_', ' ')} {n:,}" for name, n in report.counts.items())
    return (
        f"Seeded '{report.size}' (seed {report.seed}) in {report.seconds:.1f}s: {counts}.\n"
        f"{acct_summary(report)}\n"
        f"{monitoring_summary(report)}"
        "All names, prisons and numbers are fictional."
    )


def acct_summary(report: SeedReport) -> str:
    stages = "; ".join(
        f"{acct_histories.STAGE_LABELS[stage]} {n:,}" for stage, n in report.acct_stages.items()
    )
    overdue = ", ".join(
        f"{DueKind(kind).label.lower()} {n:,}" for kind, n in report.acct_overdue.items()
    )
    return (
        f"ACCTs by stage ({sum(report.acct_stages.values()):,}, written through the "
        f"{'ACCT services' if report.acct_writer == 'services' else 'bulk writer'}): {stages}.\n"
        f"Overdue now: {overdue or 'nothing'}."
    )


def monitoring_summary(report: SeedReport) -> str:
    if not report.monitored_cells:
        return ""
    return (
        f"In-cell monitoring pilot: {report.monitored_cells:,} cells with sensors, "
        f"{report.monitored_people:,} people enrolled (`make serve` runs the sensor simulator).\n"
    )


def sign_in_table(report: SeedReport) -> str:
    by_role: dict[str, list[generators.StaffSpec]] = {}
    for spec in report.staff:
        by_role.setdefault(spec.role_code, []).append(spec)
    rows = [("Role", "Sign in as", "Prisons")]
    for code, specs in by_role.items():
        role = ROLES.get(code)
        if len(specs) <= 3:
            names = ", ".join(s.username for s in specs)
        else:
            prefix = specs[0].username.split(".")[0]
            names = f"{prefix}.<prison code> ({len(specs)} users, e.g. {specs[0].username})"
        prisons = "all" if specs[0].is_hq else "their own"
        rows.append((role.name if role else code, names, prisons))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["", "Staff sign-ins (every user's password: " + report.password + ")"]
    for index, row in enumerate(rows):
        lines.append("  " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if index == 0:
            lines.append("  " + "-+-".join("-" * w for w in widths))
    lines.append("")
    lines.append(
        f"Kiosk: every person's PIN is {report.pin} "
        f"(e.g. prison numbers {', '.join(report.sample_prison_numbers[:3])})."
    )
    return "\n".join(lines)
