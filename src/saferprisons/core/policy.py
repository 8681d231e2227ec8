"""Named policy timings and limits, with where each comes from, for the administrators' page.

Each capability registers its settings here so an administrator can see the value in force, its
source, and whether the source is confirmed (DOMAIN.md says which are).
"""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class PolicySetting:
    name: str
    description: str
    source: str
    confirmed: bool
    unit: str = ""

    @property
    def value(self):
        return getattr(settings, self.name)


POLICY_SETTINGS: list[PolicySetting] = []


def register(*items: PolicySetting) -> None:
    known = {s.name for s in POLICY_SETTINGS}
    POLICY_SETTINGS.extend(item for item in items if item.name not in known)


register(
    PolicySetting(
        "STAFF_SIGN_IN_MAX_FAILURES",
        "Wrong passwords before a staff account locks",
        "NCSC password guidance (throttling); local choice of number",
        False,
    ),
    PolicySetting(
        "STAFF_SIGN_IN_LOCKOUT_MINUTES",
        "How long a locked staff account stays locked",
        "Local choice",
        False,
        "minutes",
    ),
    PolicySetting(
        "KIOSK_PIN_MAX_FAILURES",
        "Wrong PINs before a kiosk PIN locks",
        "Local choice for shared wing kiosks",
        False,
    ),
    PolicySetting(
        "KIOSK_PIN_LOCKOUT_MINUTES",
        "How long a locked kiosk PIN stays locked",
        "Local choice",
        False,
        "minutes",
    ),
    PolicySetting(
        "KIOSK_IDLE_TIMEOUT_SECONDS",
        "Kiosk signs out after this long without use",
        "Local choice: shared terminal on a wing",
        False,
        "seconds",
    ),
    PolicySetting(
        "AUDIT_RETENTION_YEARS",
        "Minimum time audit records are kept",
        "MoJ 7-year floor on deleting records (money-to-prisoners practice)",
        False,
        "years",
    ),
    PolicySetting(
        "WORKER_STALE_AFTER_SECONDS",
        "A worker or claimed job is stale after this long without a heartbeat",
        "Engineering choice",
        True,
        "seconds",
    ),
)
