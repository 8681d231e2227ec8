"""Who may do what in ACCT (the grants recorded in ADR 0009)."""

import pytest

from saferprisons.accounts.roles import ROLES
from saferprisons.acct import permissions as acct
from saferprisons.people import permissions as people

EVERY_STAFF = {acct.RAISE_CONCERN, acct.VIEW_CASE, acct.RECORD_ENTRY}
MANAGERS = {"CUSTODIAL_MANAGER", "DUTY_GOVERNOR", "HEALTHCARE", "PSYCHOLOGIST"}


@pytest.mark.parametrize("code", sorted(ROLES))
def test_acct_grants(code):
    granted = ROLES[code].permissions
    sees_people = people.VIEW_PRISONER in granted
    assert (EVERY_STAFF <= granted) is sees_people
    assert not (EVERY_STAFF & granted) or sees_people
    assert (acct.MANAGE_CASE in granted) is (code in MANAGERS)


def test_policy_page_shows_acct_settings(estate, client):
    client.force_login(estate["admin"])
    body = client.get("/policy-settings/").content.decode()
    assert "ACCT_IAP_HOURS" in body and "ACCT_POST_CLOSURE_DAYS" in body
