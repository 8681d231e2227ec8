"""ACCT (PSI 64/2011, ACCT v6) choices and fixed codes."""

from datetime import timedelta

from django.db import models


class CaseStatus(models.TextChoices):
    """The one stored status; the stages inside OPEN (IAP, assessment, reviews) are derived."""

    OPEN = "OPEN", "Open"
    POST_CLOSURE = "POST_CLOSURE", "Post-closure"
    CLOSED = "CLOSED", "Closed"


# Cases the wing board and the estate views follow.
LIVE_STATUSES = (CaseStatus.OPEN, CaseStatus.POST_CLOSURE)


class ConcernSource(models.TextChoices):
    STAFF_OBSERVATION = "STAFF_OBSERVATION", "Staff observation"
    PERSONS_OWN_WORDS = "PERSONS_OWN_WORDS", "The person's own words"
    FAMILY = "FAMILY", "Family or friends"
    OTHER_AGENCY = "OTHER_AGENCY", "Another agency"
    OTHER_PRISONER = "OTHER_PRISONER", "Another prisoner"


class ConcernEffect(models.TextChoices):
    """What raising the concern did (recorded at the time: a historical fact)."""

    OPENED = "OPENED", "Opened an ACCT"
    RECORDED = "RECORDED", "Recorded on the open ACCT"
    REOPENED = "REOPENED", "Reopened the ACCT"


class EntryKind(models.TextChoices):
    OBSERVATION = "OBSERVATION", "Observation"
    CONVERSATION = "CONVERSATION", "Conversation"


class RiskLevel(models.TextChoices):
    LOW = "LOW", "Low"
    RAISED = "RAISED", "Raised"
    HIGH = "HIGH", "High"


class ReviewKind(models.TextChoices):
    FIRST = "FIRST", "First case review"
    SCHEDULED = "SCHEDULED", "Scheduled case review"
    UNSCHEDULED = "UNSCHEDULED", "Unscheduled case review"
    POST_CLOSURE = "POST_CLOSURE", "Post-closure review"


class ReviewOutcome(models.TextChoices):
    CONTINUE = "CONTINUE", "ACCT stays open"
    CLOSE = "CLOSE", "ACCT closed (post-closure period starts)"
    COMPLETE = "COMPLETE", "Post-closure review completed (ACCT closed)"


class Discipline(models.TextChoices):
    """Who attended a case review. A review needs a MANAGER and one other discipline."""

    MANAGER = "MANAGER", "Manager (chair)"
    CASE_MANAGER = "CASE_MANAGER", "Case manager"
    WING_OFFICER = "WING_OFFICER", "Wing officer"
    HEALTHCARE = "HEALTHCARE", "Healthcare"
    MENTAL_HEALTH = "MENTAL_HEALTH", "Mental health"
    PSYCHOLOGY = "PSYCHOLOGY", "Psychology"
    CHAPLAINCY = "CHAPLAINCY", "Chaplaincy"
    EDUCATION = "EDUCATION", "Education or work"
    SUBSTANCE_MISUSE = "SUBSTANCE_MISUSE", "Substance misuse service"
    LISTENER = "LISTENER", "Listener or peer supporter"
    OTHER_STAFF = "OTHER_STAFF", "Other staff"
    PERSON = "PERSON", "The person"
    FAMILY = "FAMILY", "Family (with the person's consent)"


# Attendees who do not count as "another discipline" beside the manager.
NOT_A_DISCIPLINE = frozenset({Discipline.MANAGER, Discipline.PERSON, Discipline.FAMILY})


class CaremapStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    DONE = "DONE", "Done"
    DROPPED = "DROPPED", "Dropped"


class DemandReason(models.TextChoices):
    SELF_HARM = "SELF_HARM", "Act of self-harm"
    TRIGGER = "TRIGGER", "A recorded trigger or warning sign"
    TRANSFER_IN = "TRANSFER_IN", "Transferred in"
    STAFF_REQUEST = "STAFF_REQUEST", "Requested by staff"


class TaskKind(models.TextChoices):
    ACCT_OPENED = "ACCT_OPENED", "New ACCT opened"
    ACCT_REOPENED = "ACCT_REOPENED", "ACCT reopened"
    OBSERVATION_OVERDUE = "OBSERVATION_OVERDUE", "Observation overdue"
    REVIEW_DUE = "REVIEW_DUE", "Case review due"
    CLOSED_ON_RELEASE = "CLOSED_ON_RELEASE", "ACCT closed on release: share the risk information"


class TaskAudience(models.TextChoices):
    SAFER_CUSTODY = "SAFER_CUSTODY", "Safer custody team"
    WING_MANAGER = "WING_MANAGER", "Manager on duty for the wing"


class DueKind(models.TextChoices):
    """Things the rules say are due (computed, never stored)."""

    IAP = "IAP", "Immediate Action Plan"
    ASSESSMENT = "ASSESSMENT", "Assessment interview"
    FIRST_REVIEW = "FIRST_REVIEW", "First case review"
    SCHEDULED_REVIEW = "SCHEDULED_REVIEW", "Scheduled case review"
    DEMANDED_REVIEW = "DEMANDED_REVIEW", "Unscheduled case review"
    POST_CLOSURE_REVIEW = "POST_CLOSURE_REVIEW", "Post-closure review"
    OBSERVATION = "OBSERVATION", "Observation"
    CONVERSATION = "CONVERSATION", "Conversation"


REVIEW_DUE_KINDS = frozenset(
    {
        DueKind.FIRST_REVIEW,
        DueKind.SCHEDULED_REVIEW,
        DueKind.DEMANDED_REVIEW,
        DueKind.POST_CLOSURE_REVIEW,
    }
)

# Alert codes (hmpps-alerts-api, DOMAIN.md §5).
ALERT_ACCT_OPEN = "HA"
ALERT_ACCT_POST_CLOSURE = "HA1"
ALERT_ACCT_CLOSED = "HA2"
ACCT_ALERT_CODES = (ALERT_ACCT_OPEN, ALERT_ACCT_POST_CLOSURE, ALERT_ACCT_CLOSED)

# Training course a member of staff needs to carry out an assessment interview.
ASSESSOR_COURSE = "ACCT_ASSESSOR"

# Cell types that count as a safer cell for a person at HIGH risk.
SAFER_CELL_TYPES = ("SAFE_CELL", "CONSTANT_SUPERVISION")

# Text limits (characters).
CONCERN_SEEN_MAX = 2000
CONCERN_RISK_MAX = 1000
CONCERN_ACTION_MAX = 1000
PLAN_TEXT_MAX = 2000
ASSESSMENT_TEXT_MAX = 4000
ENTRY_TEXT_MAX = 1000
REVIEW_TEXT_MAX = 2000
CAREMAP_TEXT_MAX = 500
CAREMAP_OWNER_MAX = 100
REASON_MAX = 1000
TITLE_MAX = 200

# Supervision plan bounds: at least one observation every 4 hours, at most one every 5 minutes
# (more often than that is constant supervision); conversations per 12-hour period.
MIN_OBSERVATIONS_PER_HOUR = "0.25"
MAX_OBSERVATIONS_PER_HOUR = "12"
MAX_CONVERSATIONS_PER_PERIOD = 24

# The overdue check runs this long after an observation's "due by" time, so an observation
# recorded in the due minute itself is on time.
OVERDUE_CHECK_DELAY = timedelta(minutes=1)

# Job kinds (handlers in tasks.py).
JOB_OBSERVATION_OVERDUE = "acct.observation_overdue_check"
JOB_REVIEW_DUE = "acct.review_due_check"
