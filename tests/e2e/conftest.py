"""Browser journeys: Playwright (sync API) driving Debian's Chromium against pytest-django's
live server, with axe-core checking every page visited.

No browser is ever downloaded: we launch the system Chromium (``apt-get install chromium``).
Without it these tests are skipped, unless E2E_REQUIRE_BROWSER is set (``make test`` and CI set
it), in which case they fail.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
AXE_JS = REPO_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"  # Debian's package
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", REPO_DIR / "test-results" / "e2e"))
PASSWORD = "correct-horse-battery"  # what saferprisons.conftest.make_user sets
KIOSK_PIN = "2468"
# Impacts that fail a page. Axe's "minor" and "moderate" findings are printed, not failed.
AXE_FAILING_IMPACTS = {"serious", "critical"}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Give the live server a file-based SQLite test database when browser tests will run.

    Django's default SQLite test database lives in memory, and the live server then shares the
    test thread's single connection among all its request threads. A browser loads a page's
    fonts and stylesheets in parallel, so those requests would interleave transactions on that
    one connection (seen as sessions failing to save and a 400 for a font). With a file, each
    thread has a connection of its own, as in a real deployment. Runs after `-m` deselection,
    so a run without browser tests keeps the faster in-memory database.
    """
    here = Path(__file__).parent
    if not any(here in Path(str(item.path)).parents for item in items):
        return
    from django.conf import settings

    database = settings.DATABASES["default"]
    test_settings = database.setdefault("TEST", {})
    if database["ENGINE"].endswith("sqlite3") and not test_settings.get("NAME"):
        folder = Path(tempfile.mkdtemp(prefix="saferprisons-e2e-"))
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
        test_settings["NAME"] = str(folder / "test.sqlite3")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_path():
    if not Path(CHROMIUM).exists():
        message = (
            f"Chromium not found at {CHROMIUM}: install Debian's package "
            "(apt-get install -y chromium) or set CHROMIUM_PATH"
        )
        if os.environ.get("E2E_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Starting Playwright's sync API leaves this thread running in a new contextvars context,
    # and Django keeps its database connections in context-local storage: without this, the
    # tests would get fresh connection objects that lack the test database's serialized
    # contents (so serialized rollback would restore nothing once other tests had touched the
    # database first). Carry the same connection objects over.
    before = {alias: connections[alias] for alias in connections}
    # While Playwright runs, an asyncio loop is running in this thread, so Django would refuse
    # the tests' own ORM calls (building data, checking results) as async-unsafe. They are
    # plain blocking calls made between browser steps, so allow them until the browser stops.
    # The live server's threads are not affected.
    allow_async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        for alias, connection in before.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            yield browser
        finally:
            browser.close()
    if allow_async_unsafe is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = allow_async_unsafe


class PageProblems:
    """What the browser reported while a test ran: failed requests, console errors, CSP."""

    def __init__(self, page):
        self.failed: list[str] = []
        self.console: list[str] = []
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))

    def _request_failed(self, request):
        # ERR_ABORTED is the browser cancelling a request because the test moved on to the
        # next page (the favicon, typically); anything else is a real failure.
        if "ERR_ABORTED" not in (request.failure or ""):
            self.failed.append(f"{request.method} {request.url}: {request.failure}")

    def _response(self, response):
        # A page may answer 4xx on purpose (error pages, 404s); sub-resources must not.
        if response.status >= 400 and response.request.resource_type != "document":
            self.failed.append(f"{response.request.method} {response.url}: {response.status}")

    def _console(self, message):
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.console.append(message.text)

    def assert_clean(self):
        problems = self.failed + self.console
        assert not problems, "The browser reported problems:\n  " + "\n  ".join(problems)


@pytest.fixture
def page(request, browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.problems = PageProblems(page)
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            (ARTIFACTS / f"{name}.html").write_text(page.content())
        except Exception as error:  # noqa: BLE001 - a screenshot must never hide the failure
            print(f"could not save the failing page: {error}")
    context.close()
    if failed is not None and failed.passed:
        page.problems.assert_clean()


# --- accessibility ----------------------------------------------------------------------------


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        impact, rule = violation["impact"], violation["id"]
        lines.append(f"[{impact}] {rule}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:5]:
            lines.append(f"    at {', '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:200]}")
            if node.get("failureSummary"):
                summary = node["failureSummary"].replace("\n", "\n         ")
                lines.append(f"         {summary}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def axe_source():
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` (axe-core is a devDependency)")
    return AXE_JS.read_text(encoding="utf-8") + "\n;undefined"


@pytest.fixture
def axe(axe_source):
    """Check the page now shown with axe-core; fail on serious or critical violations."""

    def check(page, label: str = ""):
        where = f"{label or page.title()} ({page.url})"
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Not page.add_script_tag: that adds an inline <script>, which our strict
            # Content-Security-Policy rightly blocks, and we keep the CSP on so the tests see
            # what users see. Evaluating through the DevTools protocol is not subject to it.
            page.evaluate(axe_source)
        results = page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ["violations"]});
                return r.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                    nodes: v.nodes.map(n => ({target: n.target, html: n.html,
                                              failureSummary: n.failureSummary}))
                }));
            }"""
        )
        failing = [v for v in results if v["impact"] in AXE_FAILING_IMPACTS]
        others = [v for v in results if v["impact"] not in AXE_FAILING_IMPACTS]
        if others:
            print(f"\naxe: minor/moderate findings on {where}:\n{_describe(others)}")
        assert not failing, (
            f"axe found {len(failing)} serious or critical accessibility problem(s) on "
            f"{where}:\n{_describe(failing)}"
        )
        return results

    return check


# --- data -------------------------------------------------------------------------------------


@pytest.fixture
def e2e_estate(django_db_serialized_rollback, transactional_db, live_server):
    """Two fictional prisons built through the real services, committed so the live server sees
    them. Serialized rollback puts the migration-seeded reference data (roles, cell types, alert
    codes) back after each test's flush."""
    from saferprisons.accounts.services import set_kiosk_pin
    from saferprisons.conftest import admit, make_prison, make_user, make_wing
    from saferprisons.people import services as people_services

    north, south = make_prison("ZNA", "HMP Northfold"), make_prison("ZSO", "HMP Southmere")
    north_cells = make_wing(north, "A", cells=3, working=1)
    south_cells = make_wing(south, "B", cells=2, working=1)
    make_wing(north, "S", cells=1, working=1, cell_types=("SAFE_CELL",))
    manager = make_user("manager.north", ["CUSTODIAL_MANAGER"], [north])
    officer = make_user("officer.north", ["WING_OFFICER"], [north])
    # Works in both prisons, so signing in asks which one.
    officer_both = make_user("officer.both", ["WING_OFFICER"], [north, south])
    nurse = make_user("nurse.north", ["HEALTHCARE"], [north], band="NHS 5")
    south_manager = make_user("manager.south", ["CUSTODIAL_MANAGER"], [south])
    north_person = admit(manager, north, "A1234BC", "Brightwater", "Sam", cell=north_cells[0])
    people_services.set_health_needs(
        actor=nurse, prisoner=north_person, health_needs="Insulin-dependent diabetes"
    )
    south_person = admit(south_manager, south, "B2345CD", "Hollins", "Jo", cell=south_cells[0])
    set_kiosk_pin(actor=manager, prisoner=north_person, pin=KIOSK_PIN)
    return {
        "north": north,
        "south": south,
        "manager": manager,
        "officer": officer,
        "officer_both": officer_both,
        "nurse": nurse,
        "south_manager": south_manager,
        "north_person": north_person,
        "south_person": south_person,
        "password": PASSWORD,
        "pin": KIOSK_PIN,
    }


@pytest.fixture
def acct_assessor_training():
    """Give a member of staff an ACCT assessor training record (current today by default)."""
    from datetime import timedelta

    from saferprisons.accounts.models import TrainingRecord
    from saferprisons.acct.constants import ASSESSOR_COURSE
    from saferprisons.core import clock

    def give(user, *, completed_days_ago: int = 300, expires_in_days: int = 65):
        today = clock.today_london()
        return TrainingRecord.objects.create(
            user=user,
            course=ASSESSOR_COURSE,
            completed_on=today - timedelta(days=completed_days_ago),
            expires_on=today + timedelta(days=expires_in_days),
        )

    return give


# --- journeys' building blocks ----------------------------------------------------------------


@pytest.fixture
def sign_in(axe):
    """Sign a member of staff in through the real form, choosing a prison when asked."""

    def do(page, username: str, prison_name: str | None = None, check=True):
        page.goto("/sign-in/")
        if check:
            axe(page, "sign in")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        if "/choose-prison/" in page.url:
            if check:
                axe(page, "choose prison")
            if prison_name:
                page.get_by_label(prison_name).check()
            else:
                page.locator("input[name=prison]").first.check()
            page.get_by_role("button", name="Continue").click()
            page.wait_for_load_state()
        return page

    return do


@pytest.fixture
def assert_styled():
    """The GOV.UK Frontend stylesheet and its font really loaded (from /static/ and /assets/)."""

    def check(page):
        page.evaluate("async () => { await document.fonts.ready; return true; }")
        styled = page.evaluate(
            """() => {
                const h1 = document.querySelector("h1");
                const header = document.querySelector(".govuk-header");
                return {
                    font: h1 ? getComputedStyle(h1).fontFamily : "",
                    fontLoaded: Array.from(document.fonts).some(
                        f => f.family.includes("GDS Transport") && f.status === "loaded"),
                    headerBackground: header ? getComputedStyle(header).backgroundColor : "",
                    stylesheets: Array.from(document.styleSheets).map(s => s.href),
                };
            }"""
        )
        assert "GDS Transport" in styled["font"], styled
        assert styled["fontLoaded"], f"the GDS Transport font did not load: {styled}"
        assert styled["headerBackground"] not in ("", "rgba(0, 0, 0, 0)"), styled
        assert any("/static/govuk/" in (href or "") for href in styled["stylesheets"]), styled

    return check


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under test-results/e2e/ (E2E_ARTIFACTS to change)."""

    def take(page, name: str):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
