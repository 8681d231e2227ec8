"""Write the API's OpenAPI schema to docs/openapi.json, or check that the committed copy is current.

manage.py export_openapi           # write docs/openapi.json
manage.py export_openapi --check   # exit 1 if docs/openapi.json differs from the code
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

DEFAULT_OUTPUT = Path(settings.REPO_DIR) / "docs" / "openapi.json"


def render_schema() -> str:
    """The schema as committed: sorted keys, two-space indent, a trailing newline."""
    from saferprisons.api import api

    schema = api.get_openapi_schema(path_prefix="/api/")
    return json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write the JSON API's OpenAPI schema to docs/openapi.json (or --check it is current)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Do not write; exit with status 1 if the file differs from the current API.",
        )
        parser.add_argument(
            "--output",
            default=str(DEFAULT_OUTPUT),
            help="Where to write (default: docs/openapi.json in the repository).",
        )

    def handle(self, *args, check: bool, output: str, **options):
        path = Path(output)
        shown = _shown(path)
        current = render_schema()
        if check:
            committed = path.read_text(encoding="utf-8") if path.exists() else None
            if committed != current:
                reason = "is missing" if committed is None else "is out of date with the API"
                raise CommandError(
                    f"{shown} {reason}. Run `python manage.py export_openapi` and commit "
                    "the result.",
                    returncode=1,
                )
            self.stdout.write(f"{shown} matches the API.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(current, encoding="utf-8")
        self.stdout.write(f"Wrote {shown}.")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path(settings.REPO_DIR).resolve()))
    except ValueError:
        return str(path)
