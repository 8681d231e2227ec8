from django.db import models


class ActorKind(models.TextChoices):
    STAFF = "staff", "Member of staff"
    PRISONER = "prisoner", "Prisoner at a kiosk"
    TOKEN = "token", "Machine client (API token)"
    SYSTEM = "system", "System (worker, migration, command)"


class Action(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    VIEW = "view", "Viewed"
    SEARCH = "search", "Searched"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGN_OUT = "sign_out", "Signed out"
    EXPORT = "export", "Exported"


# Field names whose values never go into the audit trail in clear.
SENSITIVE_FIELDS = frozenset(
    {"password", "pin", "pin_hash", "key_hash", "token", "secret", "health_needs", "text"}
)
MASK = "***"
GENESIS_HASH = "0" * 64
