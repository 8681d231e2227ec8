"""Form handling shared by every page: the GOV.UK error summary list and the POST pattern."""

from collections.abc import Callable

from django import forms

from .errors import DomainError


def error_list(form: forms.Form) -> list[dict]:
    """The GOV.UK error summary's list from a Django form's errors."""
    return [
        {"text": message, "href": f"#{name}"}
        for name, messages in form.errors.items()
        for message in messages
    ]


def domain_error_list(error: DomainError) -> list[dict]:
    return [{"text": error.message, "href": f"#{error.field or 'main-content'}"}]


def posted(request):
    """The form data on a POST (even an empty one, so that it is checked), None on a GET."""
    return request.POST if request.method == "POST" else None


def run_form_action(form: forms.Form, action: Callable[[dict], object]) -> list[dict]:
    """Validate the form, then run the service with its cleaned data.

    Returns the error summary list; an empty list means the action succeeded. A refused action
    (a DomainError) has changed nothing, because services validate before they write.
    """
    if not form.is_valid():
        return error_list(form)
    try:
        action(form.cleaned_data)
    except DomainError as error:
        return domain_error_list(error)
    return []


def field_errors(errors: list[dict]) -> Callable[[str], dict | None]:
    """For templates: ``err("name")`` is the field's first error as a GOV.UK errorMessage, or
    None. ``errors`` is an error summary list (each href ``#<field id>``)."""
    first: dict[str, str] = {}
    for error in errors:
        first.setdefault(error["href"][1:], error["text"])
    return lambda name: {"text": first[name]} if name in first else None
