from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core.permissions import has_permission

from .models import ApiToken, Role, TrainingRecord, User
from .permissions import ADMINISTER


def admin_site_permission(request) -> bool:
    """The Django admin is for system administrators (by role), not for is_staff."""
    return has_permission(request.user, ADMINISTER)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Prison work", {"fields": ("band", "roles", "prisons")}))
    filter_horizontal = ("roles", "prisons", "groups", "user_permissions")
    list_display = ("username", "first_name", "last_name", "band", "is_active")

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate, never delete: audit rows name their actor

    def save_related(self, request, form, formsets, change):
        """Audit account changes made here, with the roles and prisons after the change."""
        super().save_related(request, form, formsets, change)
        user = form.instance
        record(
            actor=request.user,
            action=Action.UPDATE if change else Action.CREATE,
            object_type="user",
            object_id=user.public_id,
            after={
                "username": user.username,
                "band": user.band,
                "is_active": user.is_active,
                "roles": sorted(user.roles.values_list("code", flat=True)),
                "prisons": sorted(user.prisons.values_list("code", flat=True)),
                "changed_fields": sorted(form.changed_data),
            },
        )


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("code", "name")

    def has_add_permission(self, request):
        return False  # roles are code: accounts/roles.py and sync_roles

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "key_prefix", "scopes", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("key_prefix", "key_hash", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False  # created with manage.py create_api_token so the secret is shown once


@admin.register(TrainingRecord)
class TrainingRecordAdmin(admin.ModelAdmin):
    """Where a system administrator records training such as ACCT_ASSESSOR (who may carry out
    ACCT assessment interviews). Records are kept: an expired one explains a refusal."""

    list_display = ("user", "course", "completed_on", "expires_on")
    list_filter = ("course",)
    search_fields = ("user__username", "user__last_name")
    autocomplete_fields = ("user",)
    readonly_fields = ("recorded_at",)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(
            actor=request.user,
            action=Action.UPDATE if change else Action.CREATE,
            object_type="training_record",
            object_id=str(obj.pk),
            after={
                "user": obj.user.username,
                "course": obj.course,
                "completed_on": obj.completed_on.isoformat(),
                "expires_on": obj.expires_on.isoformat(),
            },
        )
