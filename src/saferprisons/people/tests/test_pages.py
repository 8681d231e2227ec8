import pytest

from saferprisons.audit.models import AuditEvent


@pytest.fixture
def client_for(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def test_profile_shows_person_in_own_prison_and_audits_the_view(estate, client_for):
    client = client_for(estate["officer"])
    response = client.get("/people/A1234BC/")
    assert response.status_code == 200
    assert "BRIGHTWATER, Sam" in response.content.decode()
    view = AuditEvent.objects.filter(action="view", object_type="prisoner").latest("sequence")
    assert view.actor_label == "officer.north"
    assert view.object_id == str(estate["north_person"].public_id)


def test_person_in_another_prison_answers_404(estate, client_for):
    client = client_for(estate["officer"])
    assert client.get("/people/B2345CD/").status_code == 404
    assert client.get("/people/B2345CD/case-notes/new/").status_code == 404


def test_health_needs_only_for_healthcare(estate, client_for):
    officer_page = client_for(estate["officer"]).get("/people/A1234BC/").content.decode()
    assert "Insulin-dependent diabetes" not in officer_page
    assert "Health needs" not in officer_page
    nurse_page = client_for(estate["nurse"]).get("/people/A1234BC/").content.decode()
    assert "Insulin-dependent diabetes" in nurse_page


def test_search_is_scoped_and_audited_with_count(estate, client_for):
    client = client_for(estate["officer"])
    body = client.get("/people/", {"q": "Hollins"}).content.decode()
    assert "0 people found" in body
    body = client.get("/people/", {"q": "brightwater sam"}).content.decode()
    assert "1 person found" in body
    search = AuditEvent.objects.filter(action="search").latest("sequence")
    assert search.details == {"query": "brightwater sam", "prison_id": None, "result_count": 1}


def test_wing_page_shows_occupancy_and_safe_cells(estate, client_for):
    client = client_for(estate["officer"])
    prison_page = client.get("/estate/ZNA/").content.decode()
    assert "Wing A" in prison_page and "Wing S" in prison_page
    wing_page = client.get("/estate/ZNA/wings/S/").content.decode()
    assert "Safe Cell" in wing_page
    assert client.get("/estate/ZSO/").status_code == 404


def test_case_note_form_errors_and_changes_nothing(estate, client_for):
    client = client_for(estate["officer"])
    before = estate["north_person"].case_notes.count()
    response = client.post(
        "/people/A1234BC/case-notes/new/",
        {"note_type": "GEN", "sensitivity": "NORMAL", "text": "x" * 4001},
    )
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    response = client.post(
        "/people/A1234BC/case-notes/new/",
        {"note_type": "HEALTH", "sensitivity": "HEALTH", "text": "hello"},
    )
    assert response.status_code == 400
    assert "Only healthcare staff can write health notes" in response.content.decode()
    assert estate["north_person"].case_notes.count() == before
    response = client.post(
        "/people/A1234BC/case-notes/new/",
        {"note_type": "GEN", "sensitivity": "NORMAL", "text": "Settled."},
    )
    assert response.status_code == 302
    assert estate["north_person"].case_notes.count() == before + 1


@pytest.mark.parametrize(
    "path",
    ["/people/A1234BC/case-notes/new/", "/people/A1234BC/move/", "/people/A1234BC/alerts/new/"],
)
def test_an_empty_form_is_refused_not_taken_as_saved(estate, client_for, path):
    client = client_for(estate["manager"])
    events = AuditEvent.objects.count()
    response = client.post(path, {})
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    # Nothing written (the view of the page itself is not an event).
    assert AuditEvent.objects.count() == events


def test_move_into_full_cell_shows_error(estate, client_for):
    from saferprisons.conftest import admit

    admit(estate["manager"], estate["north"], "C3456DE", cell=estate["north_cells"][1])
    client = client_for(estate["manager"])
    response = client.post("/people/A1234BC/move/", {"cell": "A-1-002", "reason": "test"})
    assert response.status_code == 400
    assert "Cell A-1-002 is full" in response.content.decode()
    response = client.post("/people/A1234BC/move/", {"cell": "A-1-003", "reason": "Request"})
    assert response.status_code == 302


def test_officer_cannot_reach_manager_pages(estate, client_for):
    client = client_for(estate["officer"])
    assert client.get("/people/A1234BC/move/").status_code == 403
    assert client.get("/audit/").status_code == 403


def test_hq_analyst_sees_counts_not_people(estate, client_for):
    client = client_for(estate["analyst"])
    body = client.get("/estate/").content.decode()
    assert "HMP Northfold" in body
    assert client.get("/people/A1234BC/").status_code == 403
    assert client.get("/people/", {"q": "Brightwater"}).status_code == 403
