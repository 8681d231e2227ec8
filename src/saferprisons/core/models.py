"""Base models every app builds on."""

from django.db import models

from . import clock, ids


class PublicIdModel(models.Model):
    """A random public id for URLs and the API; the integer key stays internal."""

    public_id = models.UUIDField(default=ids.new_public_id, unique=True, editable=False)

    class Meta:
        abstract = True


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        abstract = True


class ActiveReferenceDataQuerySet(models.QuerySet):
    def active(self):
        return self.filter(deactivated_at__isnull=True)


class ReferenceData(models.Model):
    """A code list row: deactivate, never delete, so old records keep their meaning."""

    code = models.CharField(max_length=40, unique=True)
    description = models.CharField(max_length=200)
    sort_order = models.PositiveIntegerField(default=0)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = ActiveReferenceDataQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None
