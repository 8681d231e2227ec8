"""The wing safety board, its live rows, the handover sheet, tasks, safe cells and HQ counts as
staff see them: a frozen clock, cases built through the services, exact values."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saferprisons.acct import services
from saferprisons.acct.constants import EntryKind, TaskKind
from saferprisons.acct.models import StaffTask
from saferprisons.audit.models import AuditEvent
from saferprisons.conftest import admit, make_wing
from saferprisons.core import clock
from saferprisons.estate.models import Location
from saferprisons.people import services as people_services

from .conftest import START, close_at_review, first_review, london, open_case, settle

NOON = london(2026, 11, 28, 12, 0)


def seen(w, case, at):
    for kind in (EntryKind.OBSERVATION, EntryKind.CONVERSATION):
        services.record_entry(
            actor=w.officer,
            case=case,
            kind=kind,
            occurred_at=at,
            seen_or_spoken_to=True,
            presentation="Calm, chatting about football",
        )


@pytest.fixture
def board_world(world):
    """Five people on ACCTs on north wing B, each urgent for a different reason, at 12:00.

    E0001AB  observation and conversation overdue (last seen two days ago)
    E0002AB  observation due by 12:10 (seen at 11:10, one an hour)
    E0003AB  ACCT opened at 11:30: Immediate Action Plan due by 12:30
    E0005AB  HIGH risk and not in a safe cell, nothing else urgent
    E0004AB  post-closure, review due 5 days from now
    A1234BC (wing A) has no ACCT and is never on the board.
    """
    w = world
    w.b_cells = make_wing(w.north, "B", cells=6, working=1)
    w.c_cells = make_wing(w.north, "C", cells=2, working=1, cell_types=("CONSTANT_SUPERVISION",))
    w.traveller.move_to(START - timedelta(days=2))
    w.people = {
        n: admit(w.manager, w.north, f"E{n:04d}AB", f"Person{n}", cell=w.b_cells[n - 1])
        for n in range(1, 6)
    }
    w.cases = {}
    for n in (1, 2, 4, 5):
        case = open_case(w, w.people[n])
        settle(w, case)
        first_review(
            w,
            case,
            risk_level="HIGH" if n == 5 else "RAISED",
            next_review_at=START + timedelta(days=3),
        )
        w.cases[n] = case
    close_at_review(w, w.cases[4])
    w.traveller.move_to(london(2026, 11, 28, 11, 10))
    seen(w, w.cases[2], clock.now())
    w.traveller.move_to(london(2026, 11, 28, 11, 30))
    seen(w, w.cases[5], clock.now())
    w.cases[3] = open_case(w, w.people[3])
    w.traveller.move_to(NOON)
    return w


@pytest.fixture
def client_for(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def flat(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def rows_of(html: str) -> dict[str, str]:
    """Each person's table row, by prison number, in the order shown."""
    return dict(re.findall(r'data-prison-number="(\w+)">(.*?)</tr>', html))


def numeric_cells(row: str) -> list[str]:
    return re.findall(r'cell--numeric">(\d+)</td>', row)


OVERDUE = '<strong class="govuk-tag govuk-tag--red"> Overdue </strong>'
ORDER = ["E0001AB", "E0002AB", "E0003AB", "E0005AB", "E0004AB"]


def board_events():
    return AuditEvent.objects.filter(object_type="acct_wing_board").count()


# --- The board ---------------------------------------------------------------------------------


def test_the_board_lists_everyone_on_an_acct_most_urgent_first(board_world, client_for):
    w = board_world
    before = board_events()
    response = client_for(w.officer).get("/acct/board/")
    assert response.status_code == 200
    html = flat(response)
    rows = rows_of(html)
    assert list(rows) == ORDER
    assert "A1234BC" not in html
    # Overdue items are tagged, and only on the rows that have them.
    assert rows["E0001AB"].count(OVERDUE) == 2
    assert "<strong>Observation</strong>, was due by" in rows["E0001AB"]
    assert OVERDUE not in rows["E0002AB"]
    assert (
        "Due soon </strong> <strong>Observation</strong> by "
        '<time datetime="2026-11-28T12:10:00+00:00">12:10</time>' in rows["E0002AB"]
    )
    assert (
        'Immediate Action Plan by <time datetime="2026-11-28T12:30:00+00:00">12:30</time>'
        in rows["E0003AB"]
    )
    assert "New concern" in rows["E0003AB"]
    assert "High risk: not in a safer cell" in rows["E0005AB"]
    assert "High risk: not in a safer cell" not in rows["E0002AB"]
    assert "Post-closure" in rows["E0004AB"]
    assert "Post-closure review by" in rows["E0004AB"]
    assert "B-1-002" in rows["E0002AB"] and "PERSON2, Alex" in rows["E0002AB"]
    assert 'datetime="2026-11-28T11:10:00+00:00">11:10</time>' in rows["E0002AB"]
    assert "None recorded" in rows["E0003AB"]  # last observation
    # Summary counts at the top: 2 overdue items (E1 observation and conversation).
    counts = re.search(r'data-testid="board-counts">(.*?)</ul>', html).group(1)
    numbers = re.findall(r'app-board-counts__number">(\d+)</span> ([^<]+)</li>', counts)
    assert numbers == [
        ("5", "on the board"),
        ("1", "overdue observations"),
        ("2", "overdue items in all"),
        ("1", "due in the next 15 minutes"),
        ("0", "reviews overdue"),
        ("1", "new concerns"),
        ("1", "high risk, not in a safer cell"),
    ]
    # One audit event for the page, listing the cases shown; no event per person.
    assert board_events() == before + 1
    event = AuditEvent.objects.filter(object_type="acct_wing_board").latest("sequence")
    assert event.actor_label == "officer.north"
    assert event.details["result_count"] == 5 and event.details["wing"] is None
    assert not AuditEvent.objects.filter(object_type="acct_case", action="view").exists()


def test_rows_link_to_the_case_and_record_entries_back_to_this_board(board_world, client_for):
    html = flat(client_for(board_world.officer).get("/acct/board/B/"))
    rows = rows_of(html)
    assert 'href="/acct/people/E0002AB/"' in rows["E0002AB"]
    for kind in ("OBSERVATION", "CONVERSATION"):
        assert (
            f'href="/acct/people/E0002AB/entries/new/?kind={kind}&amp;next=%2Facct%2Fboard%2FB%2F"'
            in rows["E0002AB"]
        )
    assert 'id="record-observation-E0002AB"' in rows["E0002AB"]
    assert (
        'Record observation<span class="govuk-visually-hidden"> for PERSON2, Alex</span>'
        in rows["E0002AB"]
    )
    # Nothing to record on a case in post-closure.
    assert "entries/new" not in rows["E0004AB"]


def test_overdue_appears_once_time_passes_the_due_by(board_world, client_for):
    client = client_for(board_world.officer)

    def e2_row():
        return rows_of(flat(client.get("/acct/board/rows/", {"wing": "B"})))["E0002AB"]

    assert OVERDUE not in e2_row()
    board_world.traveller.move_to(london(2026, 11, 28, 12, 10))
    assert OVERDUE not in e2_row()  # due by 12:10: not late in that second
    board_world.traveller.move_to(london(2026, 11, 28, 12, 10, 1))
    row = e2_row()
    assert OVERDUE in row
    assert (
        '<strong>Observation</strong>, was due by <time datetime="2026-11-28T12:10:00+00:00">'
        in row
    )


def test_the_rows_fragment_is_only_the_live_region(board_world, client_for):
    client = client_for(board_world.officer)
    before = board_events()
    response = client.get("/acct/board/rows/", {"wing": "b"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<div data-board-region")
    assert "<html" not in html and "govuk-header" not in html and "<script" not in html
    assert list(rows_of(flat(response))) == ORDER
    assert (
        'data-summary="5 people on the board. 2 overdue, 1 due soon, '
        '1 at high risk not in a safer cell."' in html
    )
    assert response["X-Board-Updated"] == "12:00:00"
    assert response["Cache-Control"] == "no-store"
    # ADR 0010: the first render in this session is a view of these five people ...
    assert board_events() == before + 1
    event = AuditEvent.objects.filter(object_type="acct_wing_board").latest("sequence")
    assert sorted(event.details["log_numbers"]) == sorted(
        case.log_number for case in board_world.cases.values()
    )
    # ... a poll showing the same people records nothing more ...
    client.get("/acct/board/rows/", {"wing": "b"})
    client.get("/acct/board/rows/", {"wing": "b"})
    assert board_events() == before + 1
    # ... and a poll after someone new appears records one view of the new set.
    newcomer = admit(
        board_world.manager, board_world.north, "E0006AB", "Person6", cell=board_world.b_cells[5]
    )
    open_case(board_world, newcomer)
    client.get("/acct/board/rows/", {"wing": "b"})
    assert board_events() == before + 2
    event = AuditEvent.objects.filter(object_type="acct_wing_board").latest("sequence")
    assert event.details["result_count"] == 6
    assert newcomer.acct_cases.get().log_number in event.details["log_numbers"]
    # Opening the page is always a view, even with the same people.
    client.get("/acct/board/B/")
    assert board_events() == before + 3


def test_the_page_polls_the_rows_and_works_without_javascript(board_world, client_for):
    html = flat(client_for(board_world.officer).get("/acct/board/B/"))
    assert 'hx-get="/acct/board/rows/?wing=B" hx-trigger="every 3s" hx-swap="innerHTML"' in html
    assert 'src="/static/htmx/htmx.min.js"' in html and 'src="/static/acct/board.js"' in html
    assert '<a class="govuk-link" href="/acct/board/B/">Reload the board</a>' in html
    # Only the one-line summary is a live region, never the table.
    assert html.count("aria-live") == 1
    assert '<p class="govuk-visually-hidden" aria-live="polite" data-board-live>5 people' in html
    # The CSP allows only our own files and the nonce: every inline script carries the nonce.
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert inline and all("nonce=" in tag for tag in inline)


def test_the_wing_filter_and_one_wing(board_world, client_for):
    client = client_for(board_world.manager)
    response = client.get("/acct/board/", {"wing": "b"})
    assert response.status_code == 302 and response["Location"] == "/acct/board/B/"
    assert client.get("/acct/board/", {"wing": ""}).status_code == 200
    html = flat(client.get("/acct/board/B/"))
    assert list(rows_of(html)) == ORDER
    assert '<option value="B" selected>Wing B</option>' in html
    assert "No one on wing S is on an open ACCT" in flat(client.get("/acct/board/S/"))
    assert client.get("/acct/board/Z/").status_code == 404
    assert client.get("/acct/board/", {"wing": "Z"}).status_code == 404
    assert client.get("/acct/board/rows/", {"wing": "Z"}).status_code == 404


def test_another_prisons_board_and_wings_are_not_found(board_world, client_for):
    client = client_for(board_world.south_manager)
    # North's wings are not wings of the south manager's prison.
    assert client.get("/acct/board/S/").status_code == 404
    assert client.get("/acct/board/rows/", {"wing": "C"}).status_code == 404
    assert client.get("/acct/board/handover/", {"wing": "S"}).status_code == 404
    html = flat(client.get("/acct/board/"))
    assert rows_of(html) == {} and "E0001AB" not in html


def test_who_may_see_the_board(board_world, client):
    assert client.get("/acct/board/rows/")["Location"].startswith("/sign-in/")
    client.force_login(board_world.analyst)  # counts only
    assert client.get("/acct/board/").status_code == 403
    assert client.get("/acct/board/rows/").status_code == 403
    assert client.get("/acct/board/handover/").status_code == 403
    assert client.get("/acct/tasks/").status_code == 403


def test_the_rows_take_the_same_number_of_queries_for_one_or_four_people(board_world, client_for):
    client = client_for(board_world.officer)
    people_services.allocate_cell(
        actor=board_world.manager, prisoner=board_world.people[5], cell=board_world.c_cells[0]
    )
    # Warm the session and the user's caches; the polls below show the same people as the
    # pages did, so neither records a view (ADR 0010).
    client.get("/acct/board/C/")
    client.get("/acct/board/B/")
    with CaptureQueriesContext(connection) as one:
        assert len(rows_of(flat(client.get("/acct/board/rows/", {"wing": "C"})))) == 1
    with CaptureQueriesContext(connection) as four:
        assert len(rows_of(flat(client.get("/acct/board/rows/", {"wing": "B"})))) == 4
    assert len(one) == len(four) <= 17


# --- Handover sheet ----------------------------------------------------------------------------


def test_the_handover_sheet_lists_everyone_with_risk_plan_and_what_is_due(board_world, client_for):
    response = client_for(board_world.officer).get("/acct/board/handover/", {"wing": "B"})
    assert response.status_code == 200
    html = flat(response)
    rows = rows_of(html)
    assert list(rows) == ORDER
    assert (
        "Observations 1 an hour by day, 1 an hour by night. "
        "Conversations: 2 by day, 0 by night." in rows["E0002AB"]
    )
    assert "Case manager: manager.north" in rows["E0002AB"]
    assert "Triggers: Bad news from home; anniversaries" in rows["E0002AB"]
    assert "No supervision plan yet" in rows["E0003AB"]
    assert ">ACCT ZNA-2026-0005<" in rows["E0003AB"]
    assert rows["E0001AB"].count(OVERDUE) == 2
    assert '<strong class="govuk-tag govuk-tag--red"> High </strong>' in rows["E0005AB"]
    assert "data-print hidden>Print</button>" in html
    assert 'href="/static/acct/board.css"' in html  # its print rules: A4, black on white, no nav
    assert "Printed Saturday 28 November 2026 at 12:00" in html
    assert "entries/new" not in html  # a sheet of paper, not a form


# --- Tasks -------------------------------------------------------------------------------------


def test_a_manager_completes_a_task(board_world, client_for):
    client = client_for(board_world.manager)
    html = flat(client.get("/acct/tasks/"))
    opened = StaffTask.objects.filter(prison=board_world.north, kind=TaskKind.ACCT_OPENED)
    assert opened.count() == 5
    task = opened.get(case=board_world.cases[3])
    assert f'data-task="{task.public_id}"' in html
    assert (
        'Mark as done<span class="govuk-visually-hidden">: ACCT ZNA-2026-0005 opened for '
        "E0003AB</span>" in html
    )
    assert html.count("Mark as done") == StaffTask.objects.filter(done_at__isnull=True).count()
    board_world.traveller.move_to(london(2026, 11, 28, 12, 5))
    response = client.post(
        f"/acct/tasks/{task.public_id}/complete/", {"next": "/acct/tasks/?audience=SAFER_CUSTODY"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/acct/tasks/?audience=SAFER_CUSTODY"
    task.refresh_from_db()
    assert task.done_at == london(2026, 11, 28, 12, 5) and task.done_by == board_world.manager
    html = flat(client.get("/acct/tasks/"))
    assert f'data-task="{task.public_id}"' not in html
    assert "Done: ACCT ZNA-2026-0005 opened for E0003AB" in html
    event = AuditEvent.objects.filter(object_type="acct_task").latest("sequence")
    assert event.object_id == str(task.public_id) and event.actor_label == "manager.north"
    # Done twice is harmless; an outside "next" is ignored.
    response = client.post(
        f"/acct/tasks/{task.public_id}/complete/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/acct/tasks/"


def test_an_officer_sees_tasks_but_cannot_complete_them(board_world, client_for):
    client = client_for(board_world.officer)
    html = flat(client.get("/acct/tasks/"))
    task = StaffTask.objects.filter(case=board_world.cases[1]).first()
    assert f'data-task="{task.public_id}"' in html and "Mark as done" not in html
    assert client.post(f"/acct/tasks/{task.public_id}/complete/").status_code == 403
    task.refresh_from_db()
    assert task.done_at is None


def test_tasks_of_another_prison_are_not_found(board_world, client_for):
    task = StaffTask.objects.filter(case=board_world.cases[1]).first()
    client = client_for(board_world.south_manager)
    assert f'data-task="{task.public_id}"' not in flat(client.get("/acct/tasks/"))
    assert client.post(f"/acct/tasks/{task.public_id}/complete/").status_code == 404
    nobody = "/acct/tasks/00000000-0000-0000-0000-000000000000/complete/"
    assert client.post(nobody).status_code == 404
    assert client.get(f"/acct/tasks/{task.public_id}/complete/").status_code == 405
    task.refresh_from_db()
    assert task.done_at is None


# --- Safe cells --------------------------------------------------------------------------------


def test_the_safe_cell_report_counts_exactly(board_world, client_for):
    w = board_world
    safe = w.safe_cells[0]
    Location.objects.filter(pk=safe.pk).update(
        ligature_certified_on=date(2026, 6, 1), ligature_certified_by=w.admin
    )
    # E0005AB (open ACCT) into a constant-supervision cell; A1234BC (no ACCT) into the safe cell.
    people_services.allocate_cell(actor=w.manager, prisoner=w.people[5], cell=w.c_cells[0])
    people_services.allocate_cell(actor=w.manager, prisoner=w.person, cell=safe)
    response = client_for(w.manager).get("/acct/safe-cells/")
    assert response.status_code == 200
    html = flat(response)
    counts = dict(
        re.findall(
            r'govuk-summary-list__key"> ([^<]+?) </dt> '
            r'<dd class="govuk-summary-list__value"> (\d+) </dd>',
            html,
        )
    )
    assert counts == {
        "Safe cells": "1",
        "Constant-supervision cells": "2",
        "Occupied by people on an open ACCT": "1",
        "Occupied by others": "1",
        "Free places": "1",
        "Safe cells not certified": "0",
    }
    cells = dict(re.findall(r'data-cell="([\w-]+)">(.*?)</tr>', html))
    assert list(cells) == ["C-1-001", "C-1-002", "S-1-001"]
    assert "01 June 2026 by admin.hq" in cells["S-1-001"]
    assert numeric_cells(cells["C-1-001"]) == ["1", "0", "1"]
    assert numeric_cells(cells["S-1-001"]) == ["0", "1", "1"]
    # Counted, never named.
    assert "E0005AB" not in html and "A1234BC" not in html and "PERSON5" not in html
    assert client_for(w.south_manager).get("/acct/safe-cells/").status_code == 200
    assert "S-1-001" not in flat(client_for(w.south_manager).get("/acct/safe-cells/"))


# --- HQ counts ---------------------------------------------------------------------------------


def test_hq_analysts_see_counts_but_never_names_or_numbers(board_world, client_for):
    services.raise_concern(
        actor=board_world.south_manager,
        prisoner=board_world.south_person,
        source="FAMILY",
        seen_or_heard="Sister rang: worried after a visit",
        immediate_risk="Low mood",
        action_taken="Spoke with him on the landing",
    )
    board_world.traveller.move_to(london(2026, 11, 28, 13, 1))  # both IAPs now late
    response = client_for(board_world.analyst).get("/acct/estate/")
    assert response.status_code == 200
    html = flat(response)
    prisons = dict(re.findall(r'data-prison="(\w+)">(.*?)</tr>', html))
    # Live, then overdue observations, conversations, IAPs, assessments, reviews, and all.
    # ZNA: observations of E1, E2 (12:10) and E5 (12:30), E1's conversation, E3's IAP (12:30).
    assert numeric_cells(prisons["ZNA"]) == ["5", "3", "1", "1", "0", "0", "5"]
    assert numeric_cells(prisons["ZSO"]) == ["1", "0", "0", "1", "0", "0", "1"]
    assert "HMP Northfold" in prisons["ZNA"]
    for secret in ("E0001AB", "E0005AB", "B2345CD", "A1234BC", "PERSON1", "HOLLINS", "ZNA-2026"):
        assert secret not in html
    event = AuditEvent.objects.filter(object_type="acct_estate_counts").latest("sequence")
    assert event.details == {"prisons": 2, "overdue_total": 6}


def test_the_estate_counts_need_the_aggregates_permission(board_world, client_for):
    assert client_for(board_world.officer).get("/acct/estate/").status_code == 403
    assert client_for(board_world.governor).get("/acct/estate/").status_code == 200


def test_the_navigation_offers_the_board_and_tasks(board_world, client_for):
    html = flat(client_for(board_world.officer).get("/acct/tasks/"))
    assert 'href="/acct/board/"> Safety board </a>' in html
    assert 'href="/acct/tasks/"> ACCT tasks </a>' in html and "ACCT figures" not in html
    html = flat(client_for(board_world.analyst).get("/acct/estate/"))
    assert 'href="/acct/estate/"> ACCT figures </a>' in html and "Safety board" not in html


def test_recording_from_the_board_returns_to_it_with_a_banner(board_world, client_for):
    client = client_for(board_world.officer)
    response = client.post(
        "/acct/people/E0002AB/entries/new/",
        {
            "kind": "OBSERVATION",
            "occurred_day": "28",
            "occurred_month": "11",
            "occurred_year": "2026",
            "occurred_time": "12:00",
            "seen_or_spoken_to": "yes",
            "presentation": "Reading in bed",
            "next": "/acct/board/B/",
        },
    )
    assert response.status_code == 302, flat(response)
    assert response["Location"] == "/acct/board/B/"
    html = flat(client.get("/acct/board/B/"))
    assert "govuk-notification-banner--success" in html
    # Seen at 12:00, one an hour: the next observation is due by 13:00.
    assert (
        '<li>Observation by <time datetime="2026-11-28T13:00:00+00:00">13:00</time>'
        in rows_of(html)["E0002AB"]
    )
