from django.contrib.auth.backends import ModelBackend


class LockoutModelBackend(ModelBackend):
    """Django's password check, refusing accounts that are locked after repeated failures.

    Counting failures and locking happen in accounts.services.sign_in_staff, inside a
    transaction; this backend only refuses a locked account even when the password is right.
    """

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not user.is_locked()
