def test_auditor_lists_and_filters_events(estate, client):
    client.force_login(estate["auditor"])
    client.get("/audit/")
    body = client.get("/audit/", {"action": "create", "object_type": "prisoner"}).content.decode()
    assert "2 events" in body  # the two receptions in the fixture
    bad = client.get("/audit/", {"date_from": "2026-13-45"})
    assert bad.status_code == 400
    assert "Enter a real date" in bad.content.decode()


def test_reading_the_audit_trail_is_audited(estate, client):
    from saferprisons.audit.models import AuditEvent

    client.force_login(estate["auditor"])
    client.get("/audit/", {"prison_code": "ZNA"})
    event = AuditEvent.objects.filter(object_type="audit_event").latest("sequence")
    assert event.actor_label == "auditor.hq"
    assert event.details["filters"] == {"prison_code": "ZNA"}
