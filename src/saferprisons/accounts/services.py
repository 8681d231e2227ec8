"""Sign-in, kiosk PINs, roles and API tokens. Every write is audited."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction

from saferprisons.audit.actors import SYSTEM
from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core import clock
from saferprisons.core.errors import NotFound, PermissionDenied, ValidationFailed
from saferprisons.core.permissions import has_permission

from . import permissions as perms
from .models import ApiToken, KioskCredential, KioskPrincipal, Role, User
from .roles import ROLES

GENERIC_SIGN_IN_ERROR = "Enter a correct username and password"
GENERIC_PIN_ERROR = "Enter a correct prison number and PIN"


def sync_roles() -> int:
    """Make the Role table match accounts/roles.py (roles are code)."""
    for role in ROLES.values():
        Role.objects.update_or_create(
            code=role.code, defaults={"name": role.name, "description": role.description}
        )
    return len(ROLES)


def sign_in_staff(*, request, username: str, password: str) -> User:
    """Check a password, counting failures and locking after too many. Raises ValidationFailed."""
    user = authenticate(request, username=username, password=password)
    with transaction.atomic():
        if user is not None:
            User.objects.filter(pk=user.pk).update(failed_sign_ins=0, locked_until=None)
            record(actor=user, action=Action.SIGN_IN, object_type="user", object_id=user.public_id)
            return user
        known = User.objects.select_for_update().filter(username=username).first()
        if known is not None:
            known.failed_sign_ins += 1
            if known.failed_sign_ins >= settings.STAFF_SIGN_IN_MAX_FAILURES:
                known.locked_until = clock.now() + timedelta(
                    minutes=settings.STAFF_SIGN_IN_LOCKOUT_MINUTES
                )
            known.save(update_fields=["failed_sign_ins", "locked_until"])
        record(
            actor=SYSTEM,
            action=Action.SIGN_IN_FAILED,
            object_type="user",
            details={"username": username[:150], "account_exists": known is not None},
        )
    # Same message whether the account exists, is locked or the password is wrong.
    raise ValidationFailed(GENERIC_SIGN_IN_ERROR, field="username")


def set_kiosk_pin(*, actor, prisoner, pin: str) -> KioskCredential:
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValidationFailed("A PIN must be 4 to 8 digits", field="pin")
    with transaction.atomic():
        credential, _ = KioskCredential.objects.update_or_create(
            prisoner=prisoner,
            defaults={
                "pin_hash": make_password(pin),
                "failed_attempts": 0,
                "locked_until": None,
                "pin_set_at": clock.now(),
            },
        )
        record(
            actor=actor,
            action=Action.UPDATE,
            object_type="kiosk_credential",
            object_id=prisoner.public_id,
            prison_code=_prison_code(prisoner),
            after={"pin": "set"},
        )
    return credential


def sign_in_kiosk(*, prison_number: str, pin: str) -> KioskPrincipal:
    """Prison number + PIN, with a lockout after KIOSK_PIN_MAX_FAILURES wrong PINs."""
    from saferprisons.people.constants import CustodyStatus

    number = prison_number.strip().upper()[:7]
    with transaction.atomic():
        credential = (
            KioskCredential.objects.select_for_update(of=("self",))
            .select_related("prisoner__prison")
            .filter(prisoner__prison_number=number, prisoner__custody_status=CustodyStatus.IN)
            .first()
        )
        ok = (
            credential is not None
            and not credential.is_locked()
            and check_password(pin, credential.pin_hash)
        )
        if ok:
            credential.failed_attempts = 0
            credential.locked_until = None
            credential.save(update_fields=["failed_attempts", "locked_until"])
            principal = KioskPrincipal(credential.prisoner)
            record(
                actor=principal,
                action=Action.SIGN_IN,
                object_type="kiosk_session",
                object_id=credential.prisoner.public_id,
                prison_code=_prison_code(credential.prisoner),
            )
            return principal
        if credential is not None and not credential.is_locked():
            credential.failed_attempts += 1
            if credential.failed_attempts >= settings.KIOSK_PIN_MAX_FAILURES:
                credential.locked_until = clock.now() + timedelta(
                    minutes=settings.KIOSK_PIN_LOCKOUT_MINUTES
                )
            credential.save(update_fields=["failed_attempts", "locked_until"])
        record(
            actor=SYSTEM,
            action=Action.SIGN_IN_FAILED,
            object_type="kiosk_session",
            details={
                "prison_number": number,
                "locked": bool(credential and credential.is_locked()),
            },
        )
    raise ValidationFailed(GENERIC_PIN_ERROR, field="prison_number")


def create_api_token(
    *, actor: User, name: str, scopes: list[str], prisons, valid_days: int = 90
) -> tuple[ApiToken, str]:
    """Returns the token row and the full secret, which is shown once and never stored."""
    if not has_permission(actor, perms.ADMINISTER):
        raise PermissionDenied("Only a system administrator can create API tokens")
    unknown = sorted(set(scopes) - set(perms.TOKEN_SCOPES))
    if unknown or not scopes:
        raise ValidationFailed(
            f"Unknown or missing scopes: {', '.join(unknown) or 'none'}", field="scopes"
        )
    # Writes and ACCT reads find the person through the scoped people read first.
    for scope in ("people:write", "acct:read", "acct:write"):
        if scope in scopes and "people:read" not in scopes:
            raise ValidationFailed(f"{scope} also needs people:read", field="scopes")
    if not name.strip() or len(name) > 100:
        raise ValidationFailed("Give the token a name of up to 100 characters", field="name")
    if not 1 <= valid_days <= 366:
        raise ValidationFailed("A token is valid for 1 to 366 days", field="valid_days")
    full, prefix, key_hash = ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name.strip(),
            key_prefix=prefix,
            key_hash=key_hash,
            scopes=sorted(scopes),
            created_by=actor,
            expires_at=clock.now() + timedelta(days=valid_days),
        )
        token.prisons.set(prisons)
        record(
            actor=actor,
            action=Action.CREATE,
            object_type="api_token",
            object_id=token.public_id,
            after={
                "name": token.name,
                "scopes": token.scopes,
                "prisons": sorted(p.code for p in prisons),
                "expires_at": token.expires_at,
            },
        )
    return token, full


def revoke_api_token(*, actor: User, token_public_id) -> ApiToken:
    if not has_permission(actor, perms.ADMINISTER):
        raise PermissionDenied("Only a system administrator can revoke API tokens")
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(public_id=token_public_id).first()
        if token is None:
            raise NotFound("No such token")
        if token.revoked_at is None:  # revoking twice is a no-op
            token.revoked_at = clock.now()
            token.save(update_fields=["revoked_at"])
            record(
                actor=actor,
                action=Action.UPDATE,
                object_type="api_token",
                object_id=token.public_id,
                after={"revoked_at": token.revoked_at},
            )
    return token


def _prison_code(prisoner) -> str:
    return prisoner.prison.code if prisoner.prison_id else ""
