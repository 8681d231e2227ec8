"""Who did something: a member of staff, a prisoner at a kiosk, a machine client, or the system."""

from dataclasses import dataclass

from .constants import ActorKind


@dataclass(frozen=True)
class SystemActor:
    name: str = "system"


SYSTEM = SystemActor()


def describe_actor(actor) -> tuple[str, object | None, str]:
    """(kind, user or None, label) for any actor the services accept."""
    from saferprisons.accounts.models import ApiToken, KioskPrincipal, User

    if isinstance(actor, User):
        return ActorKind.STAFF, actor, actor.get_username()
    if isinstance(actor, KioskPrincipal):
        return ActorKind.PRISONER, None, f"prisoner {actor.prisoner.prison_number}"
    if isinstance(actor, ApiToken):
        return ActorKind.TOKEN, None, f"token {actor.name} ({actor.key_prefix})"
    if isinstance(actor, SystemActor):
        return ActorKind.SYSTEM, None, actor.name
    raise TypeError(f"Unknown actor {actor!r}")
