"""Roles are code: what each role may do. ``manage.py sync_roles`` writes them to the Role table.

Permissions are granted only here, so a review of this file is a review of who can do what.
"""

from dataclasses import dataclass

from saferprisons.acct import permissions as acct
from saferprisons.audit import permissions as audit
from saferprisons.estate import permissions as estate
from saferprisons.jobs import permissions as jobs
from saferprisons.monitoring import permissions as monitoring
from saferprisons.people import permissions as people

from . import permissions as accounts

_WING = frozenset(
    {
        people.VIEW_PRISONER,
        people.SEARCH,
        people.ADD_CASE_NOTE,
        estate.VIEW_ESTATE,
        jobs.VIEW_STATUS,
        # ACCT: any member of staff, any grade, raises a concern and records observations.
        acct.RAISE_CONCERN,
        acct.VIEW_CASE,
        acct.RECORD_ENTRY,
        # Monitoring: whoever is on the wing sees and answers alerts.
        monitoring.VIEW_ALERTS,
        monitoring.RESPOND,
    }
)
_MANAGER = _WING | {
    people.MOVE_PRISONER,
    people.ASSESS_CELL_SHARING,
    people.MANAGE_ALERTS,
    people.RECORD_MOVEMENT,
    acct.MANAGE_CASE,
    monitoring.MANAGE_ENROLMENT,
    monitoring.CONFIGURE_RULES,
    monitoring.VIEW_OPERATIONS,
}


@dataclass(frozen=True)
class Role:
    code: str
    name: str
    description: str
    permissions: frozenset[str]
    sees_people: bool = True


ROLES: dict[str, Role] = {
    r.code: r
    for r in [
        Role(
            "WING_OFFICER",
            "Wing officer",
            "Officers on a wing: see and search people in their prisons, write case notes.",
            _WING,
        ),
        Role(
            "CUSTODIAL_MANAGER",
            "Custodial manager / safer custody lead",
            "Manages a wing or the safer custody team: moves, alerts, movements.",
            _MANAGER,
        ),
        Role(
            "HEALTHCARE",
            "Healthcare (mental health nurse)",
            "Healthcare staff: the only role that sees health information.",
            _WING
            | {
                people.VIEW_HEALTH,
                people.ADD_HEALTH_NOTE,
                acct.MANAGE_CASE,
                monitoring.VIEW_VITAL_SIGNS,
            },
        ),
        Role(
            "PSYCHOLOGIST",
            "Psychologist",
            "Psychology staff working with individuals; may hold ACCT case reviews.",
            _WING | {acct.MANAGE_CASE},
        ),
        Role(
            "SECURITY",
            "Security",
            "Security department: sees sensitive case notes.",
            _WING | {people.VIEW_SENSITIVE},
        ),
        Role(
            "DUTY_GOVERNOR",
            "Duty governor",
            "The governor in charge: everything on the wing but health information.",
            _MANAGER | {people.VIEW_SENSITIVE, estate.VIEW_AGGREGATES},
        ),
        Role(
            "HQ_ANALYST",
            "HQ analyst",
            "Aggregate figures only; never names.",
            frozenset({estate.VIEW_AGGREGATES}),
            sees_people=False,
        ),
        Role(
            "AUDITOR",
            "Auditor",
            "Reads the audit trail.",
            frozenset({audit.VIEW_EVENTS}),
            sees_people=False,
        ),
        Role(
            "SYSTEM_ADMIN",
            "System administrator",
            "Accounts, tokens, estate configuration; no access to people's records.",
            frozenset(
                {
                    accounts.ADMINISTER,
                    estate.MANAGE_ESTATE,
                    estate.VIEW_ESTATE,
                    jobs.VIEW_STATUS,
                    monitoring.MANAGE_DEVICES,
                    monitoring.VIEW_OPERATIONS,
                }
            ),
            sees_people=False,
        ),
    ]
}


def permissions_for_roles(role_codes) -> frozenset[str]:
    granted: set[str] = set()
    for code in role_codes:
        role = ROLES.get(code)
        if role:
            granted |= role.permissions
    return frozenset(granted)
