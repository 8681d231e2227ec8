"""Read-only views of jobs and worker heartbeats: change them through services, not the admin."""

from django.contrib import admin

from .models import Job, WorkerHeartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = [
        "kind",
        "status",
        "due_at",
        "attempts",
        "max_attempts",
        "claimed_by",
        "finished_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["kind", "dedupe_key", "public_id"]
    date_hierarchy = "due_at"
    # The token is the runner's proof of its claim; nobody needs it on screen.
    exclude = ["token"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = [
        "worker_name",
        "hostname",
        "pid",
        "started_at",
        "last_beat_at",
        "jobs_done",
        "stopped_at",
    ]
