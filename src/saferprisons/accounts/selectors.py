from saferprisons.core import clock

from .models import ApiToken, KioskPrincipal, hash_token_secret


def kiosk_principal_for(prisoner_id: int) -> KioskPrincipal | None:
    """The kiosk principal for a session, if the person is still in custody."""
    from saferprisons.people.constants import CustodyStatus
    from saferprisons.people.models import Prisoner

    prisoner = (
        Prisoner.objects.select_related("prison")
        .filter(pk=prisoner_id, custody_status=CustodyStatus.IN, prison__isnull=False)
        .first()
    )
    return KioskPrincipal(prisoner) if prisoner else None


def token_from_header(raw: str) -> ApiToken | None:
    """The usable token for ``sp_<prefix>_<secret>``, or None (unknown, revoked or expired)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "sp" or not parts[1] or not parts[2]:
        return None
    token = ApiToken.objects.filter(key_prefix=parts[1][:12]).first()
    if token is None or token.key_hash != hash_token_secret(parts[2]):
        return None
    if not token.is_usable():
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=clock.now())
    return token
