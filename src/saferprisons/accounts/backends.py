from django.contrib.auth.backends import ModelBackend

# Apps a system administrator manages in the Django admin. People's records are not among them.
ADMIN_MANAGED_APPS = frozenset({"accounts", "estate", "jobs"})


class LockoutModelBackend(ModelBackend):
    """Django's password check, refusing accounts locked after repeated failures.

    Counting failures and locking happen in accounts.services.sign_in_staff, inside a
    transaction; this backend only refuses a locked account even when the password is right.
    Django admin model permissions come from our roles, not from Django's permission tables.
    """

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not user.is_locked()

    def _administers(self, user_obj) -> bool:
        from saferprisons.core.permissions import has_permission

        from .permissions import ADMINISTER

        return has_permission(user_obj, ADMINISTER)

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        app_label = perm.split(".", 1)[0]
        if app_label in ADMIN_MANAGED_APPS and self._administers(user_obj):
            return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        if app_label in ADMIN_MANAGED_APPS and self._administers(user_obj):
            return True
        return super().has_module_perms(user_obj, app_label)
