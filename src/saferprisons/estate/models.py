from django.conf import settings
from django.db import models
from django.db.models import F, Q

from saferprisons.core.models import PublicIdModel, ReferenceData

from .constants import (
    MAX_CAPACITY,
    LocationLevel,
    Operator,
    Population,
    PrisonCategory,
)


class Prison(PublicIdModel):
    code = models.CharField(max_length=5, unique=True)
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=5, choices=PrisonCategory.choices)
    population = models.CharField(max_length=6, choices=Population.choices)
    operator = models.CharField(max_length=8, choices=Operator.choices)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None


class CellType(ReferenceData):
    """Seeded from the MoJ locations service's cell types."""


class Location(PublicIdModel):
    """Wing → landing → cell. Capacities live on cells; wings and landings sum their cells."""

    prison = models.ForeignKey(Prison, on_delete=models.PROTECT, related_name="locations")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.CharField(max_length=8, choices=LocationLevel.choices)
    code = models.CharField(max_length=10)
    path = models.CharField(max_length=40, help_text="Wing-landing-cell, e.g. A-1-012")
    certified_normal_accommodation = models.PositiveSmallIntegerField(default=0)
    working_capacity = models.PositiveSmallIntegerField(default=0)
    max_capacity = models.PositiveSmallIntegerField(default=0)
    # Kept by the allocation service in the same transaction as each move; the check
    # constraint below is what makes "never over working capacity" a database guarantee.
    occupied = models.PositiveSmallIntegerField(default=0)
    cell_types = models.ManyToManyField(CellType, blank=True, related_name="cells")
    ligature_certified_on = models.DateField(null=True, blank=True)
    ligature_certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["prison", "path"]
        constraints = [
            models.UniqueConstraint(fields=["prison", "path"], name="location_path_unique"),
            models.CheckConstraint(
                condition=Q(working_capacity__lte=MAX_CAPACITY)
                & Q(max_capacity__lte=MAX_CAPACITY)
                & Q(certified_normal_accommodation__lte=MAX_CAPACITY),
                name="location_capacity_at_most_99",
            ),
            models.CheckConstraint(
                condition=Q(working_capacity__lte=F("max_capacity")),
                name="location_working_within_max",
            ),
            models.CheckConstraint(
                condition=Q(occupied__lte=F("working_capacity")),
                name="location_occupied_within_working",
            ),
            models.CheckConstraint(
                condition=Q(ligature_certified_on__isnull=True)
                | Q(ligature_certified_by__isnull=False),
                name="location_ligature_certifier_recorded",
            ),
        ]
        indexes = [models.Index(fields=["prison", "level"])]

    def __str__(self) -> str:
        return f"{self.prison.code}-{self.path}"

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None

    @property
    def free_places(self) -> int:
        return max(self.working_capacity - self.occupied, 0) if self.is_active else 0
