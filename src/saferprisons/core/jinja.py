"""Jinja2 for our pages, with the GOV.UK Frontend macros from govuk-frontend-jinja."""

from pathlib import Path

from django.conf import settings
from django.template.backends.jinja2 import Jinja2
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader

from . import clock


def london_time(value, fmt: str = "%d %b %Y %H:%M") -> str:
    return clock.local(value).strftime(fmt) if value else ""


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def environment(**options) -> Environment:
    loader = options.pop("loader")
    # Django's Jinja2 backend passes autoescape=True in options.
    env = Environment(  # noqa: S701
        loader=ChoiceLoader(
            [loader, PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})]
        ),
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
        **options,
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.globals.update(
        static=static,
        url=url,
        settings=settings,
        get_language=translation.get_language,
    )
    env.filters["london"] = london_time
    return env


class Jinja2Templates(Jinja2):
    """Jinja2 that reads each app's templates/ folder (the layout the architecture names)."""

    app_dirname = "templates"

    @cached_property
    def template_dirs(self):
        # Only our own apps: the Django admin's templates are Django templates, not Jinja.
        own = Path(__file__).resolve().parent.parent
        return tuple(d for d in super().template_dirs if Path(d).resolve().is_relative_to(own))
