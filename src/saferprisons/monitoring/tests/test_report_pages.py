"""The measures page, its CSV and the ingest operations page: scope, errors, exact content."""

import re
from datetime import timedelta

import pytest
import time_machine

from saferprisons.audit.models import AuditEvent
from saferprisons.conftest import make_prison, make_wing
from saferprisons.jobs.models import WorkerHeartbeat
from saferprisons.monitoring.constants import (
    RULE_ORDER,
    AlertOutcome,
    DeadLetterReason,
    Priority,
    RuleKind,
)
from saferprisons.monitoring.models import ConsumerHeartbeat, DeadLetter, IngestCounter

from .test_measures import NOW, build_world, install, make_alert, utc

NOTICE = "Monitoring is not constant supervision and does not replace ACCT observations."


@pytest.fixture
def measured(estate):
    """The alerts and enrolments of test_measures, with the clock at NOW."""
    with time_machine.travel(NOW, tick=False) as traveller:
        world = build_world(estate)
        world.traveller = traveller
        yield world


AUTUMN_QUERY = {
    "prison": "ZNA",
    "from_day": "24",
    "from_month": "10",
    "from_year": "2026",
    "to_day": "25",
    "to_month": "10",
    "to_year": "2026",
}


def flat(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def row(html: str, testid: str, prison: str) -> list[str]:
    """The cells of a prison's row in one table, as text."""
    table = re.search(rf'data-testid="{testid}">(.*?)</table>', html).group(1)
    cells = re.search(rf'data-prison="{prison}">(.*?)</tr>', table).group(1)
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", cells)
    ]


# --- The measures page ------------------------------------------------------------------------


def test_the_measures_page_shows_a_prisons_figures(measured, client):
    client.force_login(measured.manager)
    response = client.get("/monitoring/measures/", AUTUMN_QUERY)
    assert response.status_code == 200
    html = flat(response)
    assert NOTICE in html
    assert "24 October 2026 to 25 October 2026" in html
    assert row(html, "response-table", "ZNA") == [
        "HMP Northfold (ZNA)",
        "6",
        "5",
        "1",
        "30 s",
        "1 min 28 s",
    ]
    assert row(html, "outcome-table", "ZNA") == [
        "HMP Northfold (ZNA)",
        "4",
        "1",
        "2",
        "0",
        "1",
        "2",
        "25% (1 of 4)",
    ]
    assert row(html, "night-table", "ZNA") == ["HMP Northfold (ZNA)", "4", "1.8", "2.29"]
    rules = re.findall(r'data-rule="(\w+)" data-priority="(\w+)"', html)
    assert rules == [
        ("NO_ACTIVITY", "HIGH"),
        ("BATHROOM_OCCUPANCY", "MEDIUM"),
        ("SECOND_PERSON", "MEDIUM"),
        ("DEVICE_SILENT", "MEDIUM"),
    ]
    assert "ZSO" not in html and "Southmere" not in html
    csv_link = re.search(r'href="([^"]+)" data-testid="measures-csv"', html).group(1)
    assert csv_link.startswith("/monitoring/measures.csv?prison=ZNA&amp;from_day=24")


def test_the_default_is_the_current_prison_and_the_last_28_days(measured, client):
    client.force_login(measured.officer)  # one prison: it is the current one
    html = flat(client.get("/monitoring/measures/"))
    assert "3 October 2026 to 30 October 2026" in html
    assert 'value="3"' in html and 'value="30"' in html  # the boxes show the period
    # The 28 days hold the two alerts just outside the clock-change weekend too.
    assert row(html, "response-table", "ZNA")[1] == "8"


@pytest.mark.parametrize(
    ("changes", "message", "anchor"),
    [
        ({"from_day": "31", "from_month": "2"}, "The start date must be a real date", "from_day"),
        ({"to_month": ""}, "The end date must include a month", "to_day"),
        ({"from_year": "26"}, "The year must include 4 numbers", "from_day"),
        ({"from_day": "x"}, "The start date must be a real date", "from_day"),
        (
            {"from_day": "26"},
            "The end date must be the same as or after the start date",
            "to_day",
        ),
        ({"to_day": "31"}, "The end date must be today or in the past", "to_day"),
        (
            {"from_year": "2025", "from_month": "1"},
            "The period must be 366 days or shorter",
            "from_day",
        ),
    ],
)
def test_bad_dates_are_explained_with_a_400(measured, client, changes, message, anchor):
    client.force_login(measured.manager)
    before = AuditEvent.objects.filter(object_type="monitoring_measures").count()
    for path in ("/monitoring/measures/", "/monitoring/measures.csv"):
        response = client.get(path, {**AUTUMN_QUERY, **changes})
        assert response.status_code == 400
        html = flat(response)
        assert "There is a problem" in html and "<title>Error:" in html
        assert f'<a href="#{anchor}">{message}</a>' in html
        assert 'data-testid="response-table"' not in html
    assert AuditEvent.objects.filter(object_type="monitoring_measures").count() == before


def test_another_prison_is_not_found_and_others_are_refused(measured, client):
    client.force_login(measured.manager)
    for path in ("/monitoring/measures/", "/monitoring/measures.csv"):
        assert client.get(path, {**AUTUMN_QUERY, "prison": "ZSO"}).status_code == 404
        assert client.get(path, {**AUTUMN_QUERY, "prison": "NOPE"}).status_code == 404
    client.force_login(measured.auditor)
    assert client.get("/monitoring/measures/").status_code == 403
    assert client.get("/monitoring/measures.csv").status_code == 403
    client.force_login(measured.admin)  # system administrators see operations, not measures
    assert client.get("/monitoring/measures/").status_code == 403
    client.logout()
    assert client.get("/monitoring/measures/")["Location"].startswith("/sign-in/")


def test_an_analyst_sees_every_prison(measured, client):
    client.force_login(measured.lonely_analyst)  # assigned to no prison at all
    html = flat(client.get("/monitoring/measures/", {**AUTUMN_QUERY, "prison": "ALL"}))
    assert re.findall(r'data-testid="response-table">.*?</table>', html)
    shown = re.findall(r'<tr class="govuk-table__row" data-prison="(\w+)">', html)
    assert shown[:3] == ["ZEA", "ZNA", "ZSO"]
    assert "All prisons" in html
    assert row(html, "outcome-table", "ZSO")[4] == "1"  # emergency response
    # No names: not the person enrolled, nor anyone who responded.
    assert "Brightwater" not in html and "manager.north" not in html
    assert client.get("/monitoring/measures/", {**AUTUMN_QUERY, "prison": "ZEA"}).status_code == 200


# --- The CSV ----------------------------------------------------------------------------------


def zero_row(code: str, name: str, rule: str, priority: str, nights: str, rate: str) -> str:
    return (
        f"{code},{name},2026-10-24,2026-10-25,{rule},{priority},"
        f"0,0,0,,,0,0,0,0,0,0,,0,{nights},{rate}"
    )


def test_the_csv_has_every_rule_and_priority_exactly(measured, client):
    client.force_login(measured.manager)
    response = client.get("/monitoring/measures.csv", AUTUMN_QUERY)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="monitoring-measures-ZNA-2026-10-24-to-2026-10-25.csv"'
    )
    filled = {
        (RuleKind.NO_ACTIVITY, Priority.HIGH): (
            "ZNA,HMP Northfold,2026-10-24,2026-10-25,NO_ACTIVITY,HIGH,"
            "3,3,0,20.0,92.0,3,0,1,1,0,1,0.3333,2,1.750,1.1429"
        ),
        (RuleKind.BATHROOM_OCCUPANCY, Priority.MEDIUM): (
            "ZNA,HMP Northfold,2026-10-24,2026-10-25,BATHROOM_OCCUPANCY,MEDIUM,"
            "1,1,0,30.0,30.0,1,0,0,1,0,0,0.0000,1,1.750,0.5714"
        ),
        (RuleKind.SECOND_PERSON, Priority.MEDIUM): (
            "ZNA,HMP Northfold,2026-10-24,2026-10-25,SECOND_PERSON,MEDIUM,"
            "1,1,0,40.0,40.0,0,1,0,0,0,0,,1,1.750,0.5714"
        ),
        (RuleKind.DEVICE_SILENT, Priority.MEDIUM): (
            "ZNA,HMP Northfold,2026-10-24,2026-10-25,DEVICE_SILENT,MEDIUM,"
            "1,0,1,,,0,1,0,0,0,0,,0,1.750,0.0000"
        ),
    }
    expected = [
        "prison_code,prison_name,first_day,last_day,rule,priority,alerts,acknowledged,"
        "never_acknowledged,ack_p50_seconds,ack_p95_seconds,resolved,unresolved,"
        "outcome_false_alarm,outcome_person_safe,outcome_emergency_response,"
        "outcome_self_harm_found,false_alarm_share,night_alerts,person_nights,"
        "alerts_per_person_night"
    ]
    for rule in RULE_ORDER:
        for priority in (Priority.HIGH, Priority.MEDIUM, Priority.LOW):
            expected.append(
                filled.get(
                    (rule, priority),
                    zero_row("ZNA", "HMP Northfold", rule, priority, "1.750", "0.0000"),
                )
            )
    assert response.content.decode() == "\r\n".join(expected) + "\r\n"
    event = AuditEvent.objects.filter(object_type="monitoring_measures").latest("sequence")
    assert (event.action, event.prison_code, event.details["alerts"]) == ("export", "ZNA", 6)


def test_the_csv_cannot_smuggle_a_formula_into_a_spreadsheet(measured, client):
    hostile = make_prison("ZHX", '=HYPERLINK("http://example.invalid","x")')
    device = install(hostile, make_wing(hostile, "H", cells=1)[0], 8)
    make_alert(
        device,
        RuleKind.TAMPERED,
        Priority.HIGH,
        utc(10, 24, 12),
        responder=measured.manager,
        ack_after=5,
        outcome=AlertOutcome.FALSE_ALARM,
    )
    client.force_login(measured.lonely_analyst)
    response = client.get("/monitoring/measures.csv", {**AUTUMN_QUERY, "prison": "ZHX"})
    lines = response.content.decode().splitlines()
    assert len(lines) == 25
    # A leading quote makes the spreadsheet show the text; CSV quoting keeps it one cell.
    name = '"\'=HYPERLINK(""http://example.invalid"",""x"")"'
    assert lines[1] == zero_row("ZHX", name, "NO_ACTIVITY", "HIGH", "0.000", "")
    assert lines[13] == (
        f"ZHX,{name},2026-10-24,2026-10-25,TAMPERED,HIGH,1,1,0,5.0,5.0,1,0,1,0,0,0,1.0000,0,0.000,"
    )


def test_the_csv_for_all_prisons_names_its_file_so(measured, client):
    client.force_login(measured.lonely_analyst)
    response = client.get("/monitoring/measures.csv", {**AUTUMN_QUERY, "prison": "ALL"})
    assert (
        'filename="monitoring-measures-all-prisons-2026-10-24-to-2026-10-25.csv"'
        in (response["Content-Disposition"])
    )
    codes = [line.split(",")[0] for line in response.content.decode().splitlines()[1:]]
    assert codes == ["ZEA"] * 24 + ["ZNA"] * 24 + ["ZSO"] * 24


# --- Ingest operations ------------------------------------------------------------------------


@pytest.fixture
def ingest(measured):
    minute = NOW.replace(second=0)
    for prison, at, counts in [
        (measured.north, minute, (100, 2, 7, 1)),  # this minute (part counted)
        (measured.north, minute - timedelta(minutes=59), (50, 0, 3, 0)),  # in the last hour
        (measured.north, minute - timedelta(minutes=60), (1000, 10, 0, 5)),  # an hour ago: day
        (measured.north, minute - timedelta(hours=23, minutes=59), (1, 0, 0, 0)),
        (measured.north, minute - timedelta(hours=24), (9999, 9, 9, 9)),  # too old
        (measured.south, minute, (77, 7, 7, 7)),
    ]:
        accepted, duplicate, dropped, dead = counts
        IngestCounter.objects.create(
            prison=prison,
            minute=at,
            accepted=accepted,
            duplicate=duplicate,
            dropped_not_enrolled=dropped,
            dead_lettered=dead,
        )
    DeadLetter.objects.create(
        received_at=NOW - timedelta(minutes=5),
        prison=measured.north,
        device_external_id="ZNA-DEV-001",
        reason=DeadLetterReason.OUT_OF_RANGE,
        detail="persons_present: must be from 0 to 20",
        payload_excerpt='{"device_id": "ZNA-DEV-001", "persons_present": 99}',
    )
    DeadLetter.objects.create(
        received_at=NOW - timedelta(days=2),
        prison=measured.north,
        reason=DeadLetterReason.MALFORMED_JSON,
        payload_excerpt="{not json",
    )
    DeadLetter.objects.create(
        received_at=NOW - timedelta(minutes=1),
        prison=measured.south,
        device_external_id="ZSO-DEV-002",
        reason=DeadLetterReason.UNKNOWN_DEVICE,
    )
    WorkerHeartbeat.objects.create(
        worker_name="worker-1",
        pid=4242,
        hostname="app-1",
        started_at=NOW - timedelta(hours=3),
        last_beat_at=NOW - timedelta(seconds=5),
    )
    WorkerHeartbeat.objects.create(
        worker_name="worker-old",
        pid=99,
        hostname="app-2",
        started_at=NOW - timedelta(days=3),
        last_beat_at=NOW - timedelta(days=1),
    )
    for name, last_beat, connected in [
        ("consumer-a", NOW - timedelta(seconds=4), True),
        ("consumer-b", NOW - timedelta(minutes=10), True),  # connected at its last beat, long ago
    ]:
        ConsumerHeartbeat.objects.create(
            name=name,
            client_id=f"saferprisons-{name}",
            pid=7,
            hostname="ingest-1",
            started_at=NOW - timedelta(hours=1),
            last_beat_at=last_beat,
            connected=connected,
            backlog=3,
            messages_acknowledged=123456,
            readings_accepted=7654321,
            messages_refused=2,
            database_retries=1,
        )
    return measured


def test_operations_shows_counts_dead_letters_and_heartbeats_for_ones_prisons(ingest, client):
    client.force_login(ingest.manager)
    response = client.get("/monitoring/operations/")
    assert response.status_code == 200
    html = flat(response)
    assert NOTICE in html
    assert row(html, "ingest-hour", "ZNA") == ["HMP Northfold (ZNA)", "150", "2", "10", "1"]
    assert row(html, "ingest-day", "ZNA") == ["HMP Northfold (ZNA)", "1,151", "12", "10", "6"]
    assert 'data-prison="ZSO"' not in html and "ZSO-DEV-002" not in html
    letters = re.search(r'data-testid="dead-letters">(.*?)</table>', html).group(1)
    assert letters.index("ZNA-DEV-001") < letters.index("The message is not valid JSON")
    assert "persons_present: must be from 0 to 20" in letters
    assert "Not known" in letters  # the malformed message named no device
    reasons = re.search(r'data-testid="dead-letter-reasons">(.*?)</table>', html).group(1)
    assert re.findall(r'data-reason="(\w+)"', reasons) == ["OUT_OF_RANGE"]  # last 24 h only
    workers = re.search(r'data-testid="workers">(.*?)</table>', html).group(1)
    assert re.search(r'data-worker="worker-1">.*?Running', workers)
    assert re.search(r'data-worker="worker-old">.*?Not responding', workers)
    consumers = re.search(r'data-testid="consumers">(.*?)</table>', html).group(1)
    running = re.search(r'data-consumer="consumer-a">(.*?)</tr>', consumers).group(1)
    assert "Running" in running and "7,654,321" in running and "123,456" in running
    assert "Not running" in re.search(r'data-consumer="consumer-b">(.*?)</tr>', consumers).group(1)
    event = AuditEvent.objects.filter(object_type="monitoring_operations").latest("sequence")
    assert (event.action, event.actor_user) == ("view", ingest.manager)
    assert event.details == {"prisons": ["ZNA"], "dead_letters_shown": 2}


def test_operations_for_a_system_administrator_covers_their_prisons(ingest, client):
    client.force_login(ingest.admin)
    html = flat(client.get("/monitoring/operations/"))
    assert row(html, "ingest-hour", "ZSO") == ["HMP Southmere (ZSO)", "77", "7", "7", "7"]
    assert "ZSO-DEV-002" in html and "ZNA-DEV-001" in html


def test_operations_is_for_managers_and_administrators_only(ingest, client):
    for user in (ingest.officer, ingest.analyst, ingest.auditor):
        client.force_login(user)
        assert client.get("/monitoring/operations/").status_code == 403


def test_operations_without_heartbeats_or_dead_letters_says_so(measured, client):
    client.force_login(measured.manager)
    html = flat(client.get("/monitoring/operations/"))
    assert 'data-testid="no-dead-letters"' in html
    assert 'data-testid="no-workers"' in html and 'data-testid="no-consumers"' in html
    assert row(html, "ingest-day", "ZNA") == ["HMP Northfold (ZNA)", "0", "0", "0", "0"]
