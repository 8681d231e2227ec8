from django.db import models


class PrisonCategory(models.TextChoices):
    A = "A", "Category A (high security)"
    B = "B", "Category B (local or training)"
    C = "C", "Category C (training)"
    D = "D", "Category D (open)"
    FEMALE_CLOSED = "FC", "Female closed"
    FEMALE_OPEN = "FO", "Female open"
    YOI = "YOI", "Young offender institution"


class Population(models.TextChoices):
    MEN = "MEN", "Men"
    WOMEN = "WOMEN", "Women"
    YOUNG_PEOPLE = "YOUNG", "Young people"


class Operator(models.TextChoices):
    PUBLIC = "PUBLIC", "Public sector"
    PRIVATE = "PRIVATE", "Private sector"


class LocationLevel(models.TextChoices):
    WING = "WING", "Wing"
    LANDING = "LANDING", "Landing"
    CELL = "CELL", "Cell"


class CellTypeCode(models.TextChoices):
    """Cell types from the MoJ locations service (DOMAIN.md §5)."""

    SAFE_CELL = "SAFE_CELL", "Safe cell (ligature-resistant)"
    CONSTANT_SUPERVISION = "CONSTANT_SUPERVISION", "Constant supervision (gated or observation)"
    LISTENER_CRISIS = "LISTENER_CRISIS", "Listener or crisis cell"
    UNFURNISHED = "UNFURNISHED", "Unfurnished"
    CSU = "CSU", "Segregation unit (CSU)"
    ACCESSIBLE_CELL = "ACCESSIBLE_CELL", "Accessible cell"
    BIOHAZARD_DIRTY_PROTEST = "BIOHAZARD_DIRTY_PROTEST", "Biohazard or dirty protest"
    DRY = "DRY", "Dry cell"


# MoJ locations rule: capacities are at most 99 and working never exceeds maximum.
MAX_CAPACITY = 99
