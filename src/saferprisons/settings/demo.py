"""Demo settings: the embedded SQLite database, fictional data, DEBUG off but a demo secret.

This is explicitly a demo: it says so in every page's phase banner and must never hold real data.
"""

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS

DEMO_MODE = True
SECRET_KEY = "demo-only-insecure-key-never-use-in-production-7f3c1e"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]
