"""Whether the background worker is alive and keeping up (no per-prison data)."""

from ninja import Router

from saferprisons.core.api_support import api_permission, responses

from . import permissions as perms
from .schemas import WorkerStatusOut
from .selectors import worker_status

router = Router(tags=["jobs"])


@router.get("/status", response=responses(200, WorkerStatusOut), url_name="worker-status")
@api_permission(perms.VIEW_STATUS)
def status(request):
    return worker_status()
