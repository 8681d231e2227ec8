from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from saferprisons.core import clock
from saferprisons.core.models import PublicIdModel, ReferenceData

from .constants import (
    ALERT_COMMENT_MAX_LENGTH,
    CASE_NOTE_MAX_LENGTH,
    PRISON_NUMBER_PATTERN,
    CaseNoteType,
    CellSharingRisk,
    CustodyStatus,
    LegalStatus,
    MovementKind,
    Sensitivity,
    Sex,
)


class Prisoner(PublicIdModel):
    prison_number = models.CharField(max_length=7, unique=True)
    first_name = models.CharField(max_length=60)
    last_name = models.CharField(max_length=60)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    first_language = models.CharField(max_length=40, default="English")
    legal_status = models.CharField(max_length=25, choices=LegalStatus.choices)
    # The prison holding the person now; null once released. Scoping filters on this.
    prison = models.ForeignKey(
        "estate.Prison", null=True, blank=True, on_delete=models.PROTECT, related_name="prisoners"
    )
    custody_status = models.CharField(
        max_length=5, choices=CustodyStatus.choices, default=CustodyStatus.IN
    )
    # The cell sharing risk assessment ('' until one is recorded). HIGH_GENERAL: a cell of their
    # own; allocate_cell enforces it.
    cell_sharing_risk = models.CharField(
        max_length=15, choices=CellSharingRisk.choices, blank=True, default=""
    )
    cell_sharing_assessed_at = models.DateTimeField(null=True, blank=True)
    # Health information: shown and returned to healthcare roles only.
    health_needs = models.TextField(blank=True, max_length=2000)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(prison_number__regex=PRISON_NUMBER_PATTERN),
                name="prisoner_number_nomis_shape",
            ),
        ]
        indexes = [
            models.Index(fields=["prison", "last_name", "first_name"]),
            # Serves prefix name search (see selectors.search_prisoners) on both databases.
            # prison_number last so "ORDER BY name, number LIMIT 100" stops early, no sort.
            models.Index(
                Lower("last_name"),
                Lower("first_name"),
                "prison_number",
                name="prisoner_name_search",
            ),
            models.Index(Lower("first_name"), Lower("last_name"), name="prisoner_forename_search"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.prison_number})"

    @property
    def display_name(self) -> str:
        return f"{self.last_name.upper()}, {self.first_name}"


class Movement(PublicIdModel):
    prisoner = models.ForeignKey(Prisoner, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=8, choices=MovementKind.choices)
    from_prison = models.ForeignKey(
        "estate.Prison", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_prison = models.ForeignKey(
        "estate.Prison", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField(default=clock.now)
    reason = models.CharField(max_length=200, blank=True)
    recorded_by_label = models.CharField(max_length=200)

    class Meta:
        ordering = ["-occurred_at", "-id"]


class CellAllocation(models.Model):
    """Who is in which cell, with history. An open row (ended_at null) is the current cell."""

    prisoner = models.ForeignKey(Prisoner, on_delete=models.PROTECT, related_name="allocations")
    cell = models.ForeignKey(
        "estate.Location", on_delete=models.PROTECT, related_name="allocations"
    )
    started_at = models.DateTimeField(default=clock.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    allocated_by_label = models.CharField(max_length=200)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prisoner"],
                condition=Q(ended_at__isnull=True),
                name="one_current_cell_per_prisoner",
            ),
        ]
        indexes = [
            models.Index(
                fields=["cell"],
                condition=Q(ended_at__isnull=True),
                name="current_allocations_by_cell",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prisoner_id} in {self.cell_id} from {self.started_at:%Y-%m-%d}"


class AlertType(ReferenceData):
    """Alert type letters from hmpps-alerts-api (e.g. H Self Harm)."""


class AlertCode(ReferenceData):
    alert_type = models.ForeignKey(AlertType, on_delete=models.PROTECT, related_name="codes")


class PersonAlert(PublicIdModel):
    prisoner = models.ForeignKey(Prisoner, on_delete=models.PROTECT, related_name="alerts")
    alert_code = models.ForeignKey(AlertCode, on_delete=models.PROTECT, related_name="+")
    comment = models.CharField(max_length=ALERT_COMMENT_MAX_LENGTH, blank=True)
    active_from = models.DateTimeField(default=clock.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by_label = models.CharField(max_length=200)
    ended_by_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-active_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["prisoner", "alert_code"],
                condition=Q(ended_at__isnull=True),
                name="one_active_alert_per_code_per_person",
            ),
        ]

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class CaseNote(PublicIdModel):
    prisoner = models.ForeignKey(Prisoner, on_delete=models.PROTECT, related_name="case_notes")
    prison = models.ForeignKey(
        "estate.Prison", null=True, on_delete=models.PROTECT, related_name="+"
    )
    note_type = models.CharField(max_length=8, choices=CaseNoteType.choices)
    sensitivity = models.CharField(
        max_length=10, choices=Sensitivity.choices, default=Sensitivity.NORMAL
    )
    text = models.TextField(max_length=CASE_NOTE_MAX_LENGTH)
    # PROTECT: notes keep their author even after the account is deactivated.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    author_label = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["prisoner", "-occurred_at"])]
