import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from saferprisons.core import clock
from saferprisons.core.models import PublicIdModel


class Role(models.Model):
    """Synced from accounts/roles.py (a data migration and ``manage.py sync_roles``)."""

    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser, PublicIdModel):
    """A member of staff. Prisoners never hold a User; they sign in at a kiosk with a PIN."""

    band = models.CharField(max_length=20, blank=True, help_text="NOMS band or NHS band, e.g. 4")
    roles = models.ManyToManyField(Role, blank=True, related_name="users")
    prisons = models.ManyToManyField("estate.Prison", blank=True, related_name="staff")
    failed_sign_ins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    def role_codes(self) -> list[str]:
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            cached = list(self.roles.values_list("code", flat=True))
            self._role_codes = cached
        return cached

    def prison_ids(self) -> list[int]:
        cached = getattr(self, "_prison_ids", None)
        if cached is None:
            cached = list(
                self.prisons.filter(deactivated_at__isnull=True).values_list("id", flat=True)
            )
            self._prison_ids = cached
        return cached

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > clock.now()


class KioskCredential(models.Model):
    """A prisoner's kiosk PIN (hashed), with its own lockout counter."""

    prisoner = models.OneToOneField(
        "people.Prisoner", on_delete=models.CASCADE, related_name="kiosk_credential"
    )
    pin_hash = models.CharField(max_length=200)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    pin_set_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"Kiosk PIN for prisoner {self.prisoner_id}"

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > clock.now()


class KioskPrincipal:
    """The signed-in prisoner at a kiosk (not a database row)."""

    is_authenticated = True

    def __init__(self, prisoner):
        self.prisoner = prisoner

    def __repr__(self) -> str:
        return f"KioskPrincipal({self.prisoner.prison_number})"


def hash_token_secret(secret: str) -> str:
    # The token is 256 bits of randomness, so a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(PublicIdModel):
    """A revocable token for a machine client, with narrow scopes and its own prisons."""

    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    prisons = models.ManyToManyField("estate.Prison", blank=True, related_name="+")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(key_hash=""), name="api_token_has_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix})"

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """(full token shown once, prefix, hash to store)."""
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        return f"sp_{prefix}_{secret}", prefix, hash_token_secret(secret)

    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > clock.now()

    def prison_ids(self) -> list[int]:
        cached = getattr(self, "_prison_ids", None)
        if cached is None:
            cached = list(self.prisons.values_list("id", flat=True))
            self._prison_ids = cached
        return cached


class TrainingRecord(models.Model):
    """A course a member of staff has completed, valid from completion to expiry (inclusive).

    E.g. ``ACCT_ASSESSOR``: only staff with a current record may carry out ACCT assessment
    interviews.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="training_records")
    course = models.CharField(max_length=40, help_text="Course code, e.g. ACCT_ASSESSOR")
    completed_on = models.DateField()
    expires_on = models.DateField()
    recorded_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["user", "course", "-expires_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gte=models.F("completed_on")),
                name="training_expires_after_completion",
            ),
        ]
        indexes = [models.Index(fields=["user", "course", "expires_on"])]

    def __str__(self) -> str:
        return f"{self.course} for {self.user_id} ({self.completed_on} to {self.expires_on})"

    @classmethod
    def current_for(cls, user, course: str, on_date) -> "TrainingRecord | None":
        """The record that makes ``user`` trained in ``course`` on ``on_date``, if any."""
        if user is None or not getattr(user, "pk", None):
            return None
        return (
            cls.objects.filter(
                user=user, course=course, completed_on__lte=on_date, expires_on__gte=on_date
            )
            .order_by("-expires_on", "-pk")
            .first()
        )

    @classmethod
    def latest_for(cls, user, course: str) -> "TrainingRecord | None":
        """The most recent record of ``course`` (current or not), to explain a refusal."""
        if user is None or not getattr(user, "pk", None):
            return None
        return cls.objects.filter(user=user, course=course).order_by("-expires_on", "-pk").first()
