import re

from django.db import models

# NOMIS prison number: a letter, four digits, two letters (e.g. A1234BC).
PRISON_NUMBER_PATTERN = r"^[A-Z][0-9]{4}[A-Z]{2}$"
PRISON_NUMBER_RE = re.compile(PRISON_NUMBER_PATTERN)


class Sex(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"


class LegalStatus(models.TextChoices):
    REMAND = "REMAND", "Remand"
    CONVICTED_UNSENTENCED = "CONVICTED_UNSENTENCED", "Convicted unsentenced"
    SENTENCED = "SENTENCED", "Sentenced"
    RECALL = "RECALL", "Recall"
    IMMIGRATION_DETAINEE = "IMMIGRATION_DETAINEE", "Immigration detainee"
    CIVIL_PRISONER = "CIVIL_PRISONER", "Civil prisoner"


class CustodyStatus(models.TextChoices):
    IN = "IN", "In prison"
    AT_COURT = "COURT", "At court"
    OUT = "OUT", "Released"


class CellSharingRisk(models.TextChoices):
    """The cell sharing risk assessment (CSRA) outcome, as NOMIS records it (DOMAIN.md §5)."""

    STANDARD = "STANDARD", "Standard"
    HIGH_SPECIFIC = "HIGH_SPECIFIC", "High: a risk to specific people or groups"
    HIGH_GENERAL = "HIGH_GENERAL", "High: shares a cell with nobody"


CSRA_REASON_MAX_LENGTH = 500


class MovementKind(models.TextChoices):
    RECEPTION = "ADM", "Reception (admission)"
    TRANSFER_OUT = "TRN_OUT", "Transfer out"
    TRANSFER_IN = "TRN_IN", "Transfer in"
    RELEASE = "REL", "Release"
    COURT_OUT = "CRT_OUT", "Out to court"
    COURT_RETURN = "CRT_IN", "Back from court"


class CaseNoteType(models.TextChoices):
    GENERAL = "GEN", "General"
    KEY_WORK = "KEY", "Key work"
    SAFER_CUSTODY = "SAFER", "Safer custody"
    OBSERVATION = "OBS", "Observation"
    SECURITY = "SEC", "Security"
    HEALTH = "HEALTH", "Healthcare"
    MOVEMENT = "MOVE", "Movement"


class Sensitivity(models.TextChoices):
    NORMAL = "NORMAL", "Normal"
    SENSITIVE = "SENSITIVE", "Sensitive (security)"
    HEALTH = "HEALTH", "Health (healthcare only)"


CASE_NOTE_MAX_LENGTH = 4000
ALERT_COMMENT_MAX_LENGTH = 1000
