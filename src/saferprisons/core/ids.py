"""Public ids: random, never the sequential database key."""

import secrets
import uuid

# No 0/O, 1/I/L: read aloud on a wing radio without confusion.
_SHORT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_public_id() -> uuid.UUID:
    return uuid.uuid4()


def short_code(length: int = 8) -> str:
    return "".join(secrets.choice(_SHORT_ALPHABET) for _ in range(length))
