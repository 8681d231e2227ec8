from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import identify_hasher

from saferprisons.accounts.models import User
from saferprisons.accounts.selectors import token_from_header
from saferprisons.accounts.services import create_api_token, revoke_api_token
from saferprisons.core.errors import PermissionDenied, ValidationFailed


def sign_in(client, username, password):
    return client.post("/sign-in/", {"username": username, "password": password})


def test_sign_in_and_lockout(estate, client, settings):
    for _ in range(settings.STAFF_SIGN_IN_MAX_FAILURES):
        response = sign_in(client, "officer.north", "wrong-password-123")
        assert response.status_code == 400
        assert "Enter a correct username and password" in response.content.decode()
    officer = User.objects.get(username="officer.north")
    assert officer.is_locked()
    assert sign_in(client, "officer.north", "correct-horse-battery").status_code == 400
    User.objects.filter(pk=officer.pk).update(locked_until=None, failed_sign_ins=0)
    assert sign_in(client, "officer.north", "correct-horse-battery").status_code == 302


def test_unknown_user_gets_the_same_message(db, client):
    response = sign_in(client, "nobody", "whatever-password")
    assert response.status_code == 400
    assert "Enter a correct username and password" in response.content.decode()


def test_production_hashes_passwords_with_argon2(db):
    from django.conf import settings as live
    from django.contrib.auth.hashers import make_password
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
        assert identify_hasher(make_password("a long password")).algorithm == "argon2"
    from saferprisons.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert live.PASSWORD_HASHERS  # test settings use a fast hasher only for speed


def test_pages_redirect_to_sign_in(db, client):
    response = client.get("/people/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")


def test_api_tokens_scoped_revocable_and_expiring(estate):
    admin = estate["admin"]
    with pytest.raises(PermissionDenied):
        create_api_token(actor=estate["manager"], name="x", scopes=["people:read"], prisons=[])
    with pytest.raises(ValidationFailed, match="Unknown or missing scopes: root"):
        create_api_token(actor=admin, name="x", scopes=["root"], prisons=[])
    for scope in ("people:write", "acct:read", "acct:write"):
        with pytest.raises(ValidationFailed, match=f"{scope} also needs people:read"):
            create_api_token(actor=admin, name="x", scopes=[scope], prisons=[estate["north"]])
    with time_machine.travel("2026-11-28 09:00:00+00:00", tick=False) as traveller:
        token, secret = create_api_token(
            actor=admin,
            name="Gateway A",
            scopes=["sensors:write"],
            prisons=[estate["north"]],
            valid_days=1,
        )
        assert token_from_header(secret) == token
        assert token_from_header(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
        assert token_from_header("garbage") is None
        traveller.shift(timedelta(days=1, seconds=1))
        assert token_from_header(secret) is None  # expired
    token2, secret2 = create_api_token(
        actor=admin, name="Gateway B", scopes=["people:read"], prisons=[estate["north"]]
    )
    revoke_api_token(actor=admin, token_public_id=token2.public_id)
    assert token_from_header(secret2) is None
    assert token2.key_hash not in secret2  # only a hash is stored


def test_admin_is_for_system_administrators_and_audits_changes(estate, client):
    from saferprisons.audit.models import AuditEvent

    client.force_login(estate["manager"])
    assert client.get("/django-admin/accounts/user/").status_code == 302  # to admin sign-in
    admin = estate["admin"]
    User.objects.filter(pk=admin.pk).update(is_staff=True)
    client.force_login(admin)
    officer = estate["officer"]
    page = client.get(f"/django-admin/accounts/user/{officer.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        {
            "band": "5",
            "roles": [r.pk for r in officer.roles.all()],
            "prisons": [p.pk for p in officer.prisons.all()],
            "date_joined_0": "2026-11-01",
            "date_joined_1": "09:00:00",
            "last_login_0": "",
            "last_login_1": "",
            "groups": [],
            "user_permissions": [],
        }
    )
    response = client.post(f"/django-admin/accounts/user/{officer.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    officer.refresh_from_db()
    assert officer.band == "5"
    event = AuditEvent.objects.filter(object_type="user", action="update").latest("sequence")
    assert event.after["band"] == "5" and event.after["roles"] == ["WING_OFFICER"]
    assert event.actor_label == "admin.hq"


def test_admin_records_assessor_training_and_it_is_audited(estate, client):
    from saferprisons.accounts.models import TrainingRecord
    from saferprisons.audit.models import AuditEvent

    admin = estate["admin"]
    User.objects.filter(pk=admin.pk).update(is_staff=True)
    client.force_login(admin)
    officer = estate["officer"]
    assert client.get("/django-admin/accounts/trainingrecord/add/").status_code == 200
    # Expiry before completion is refused by the form and nothing is saved.
    bad = {
        "user": officer.pk,
        "course": "ACCT_ASSESSOR",
        "completed_on": "2026-11-01",
        "expires_on": "2026-10-01",
    }
    assert client.post("/django-admin/accounts/trainingrecord/add/", bad).status_code == 200
    assert not TrainingRecord.objects.exists()
    good = {**bad, "expires_on": "2027-11-01"}
    response = client.post("/django-admin/accounts/trainingrecord/add/", good)
    assert response.status_code == 302
    record = TrainingRecord.objects.get()
    assert TrainingRecord.current_for(officer, "ACCT_ASSESSOR", date(2026, 11, 28)) == record
    event = AuditEvent.objects.filter(object_type="training_record").latest("sequence")
    assert event.after == {
        "user": "officer.north",
        "course": "ACCT_ASSESSOR",
        "completed_on": "2026-11-01",
        "expires_on": "2027-11-01",
    }
