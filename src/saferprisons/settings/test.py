"""Test settings: demo settings with a fast password hasher (Argon2 is tested on its own)."""

from .demo import *  # noqa: F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
WHITENOISE_AUTOREFRESH = True
