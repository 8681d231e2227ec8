"""Job states and the fixed numbers the worker works by."""

from enum import StrEnum

from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# Work still to be done. A dedupe key is unique only among these, so the same timer can be queued
# again once the previous one has finished.
ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class RunOutcome(StrEnum):
    """What one run of a job led to (returned by ``worker.run_job``)."""

    SUCCEEDED = "succeeded"
    RETRY_SCHEDULED = "retry_scheduled"
    FAILED = "failed"
    # The claim was no longer ours (swept, cancelled or re-claimed), so the row was left alone.
    SKIPPED = "skipped"


# Retries back off exponentially from 5 seconds and never wait more than 10 minutes, so a fault
# that clears (a database restart) is picked up soon and a lasting one does not hammer the system.
RETRY_BASE_SECONDS = 5
RETRY_CAP_SECONDS = 10 * 60

# Enough of a traceback to diagnose from the admin; the full one goes to the log.
LAST_ERROR_MAX_CHARS = 2000

# A queued job this late means no worker is keeping up (or none is running).
OVERDUE_AFTER_SECONDS = 60

# Jobs claimed per pass: small, so a stopping worker hands little back and peers share the load.
CLAIM_BATCH_SIZE = 10

KIND_MAX_LENGTH = 100
DEDUPE_KEY_MAX_LENGTH = 200
WORKER_NAME_MAX_LENGTH = 200
