import pytest
from django.contrib import admin

from saferprisons.jobs.models import Job, WorkerHeartbeat


@pytest.mark.parametrize("model", [Job, WorkerHeartbeat])
def test_jobs_and_heartbeats_are_read_only_in_the_admin(model):
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(None)
    assert not model_admin.has_change_permission(None)
    assert not model_admin.has_delete_permission(None)
