"""ACCT page forms: they check the shape of what was typed (and say so field by field, in the
GOV.UK style); the services check the rules. Times are typed in Europe/London."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django import forms

from saferprisons.accounts.models import User
from saferprisons.accounts.roles import ROLES
from saferprisons.core import clock

from . import permissions as perms
from .constants import (
    ASSESSMENT_TEXT_MAX,
    CAREMAP_OWNER_MAX,
    CAREMAP_TEXT_MAX,
    CONCERN_ACTION_MAX,
    CONCERN_RISK_MAX,
    CONCERN_SEEN_MAX,
    ENTRY_TEXT_MAX,
    PLAN_TEXT_MAX,
    REASON_MAX,
    REVIEW_TEXT_MAX,
    CaremapStatus,
    ConcernSource,
    DemandReason,
    Discipline,
    EntryKind,
    RiskLevel,
)
from .rules import Supervision
from .services import Attendee, CaremapInput

# How many blank CAREMAP rows the review form offers (blank rows are ignored).
NEW_CAREMAP_ROWS = 3

YES_NO = [("yes", "Yes"), ("no", "No")]


def text(what: str, limit: int, *, required: bool = True, label: str = "") -> forms.CharField:
    """A free-text field with the GOV.UK messages ("Enter ...", "... must be N characters or
    fewer"), matching the services' own."""
    return forms.CharField(
        label=label or what,
        max_length=limit,
        required=required,
        error_messages={
            "required": f"Enter {what}",
            "max_length": f"{what[0].upper()}{what[1:]} must be {limit} characters or fewer",
        },
    )


# --- Dates and times ---------------------------------------------------------------------------

_TIME = re.compile(r"^(?P<hours>\d{1,2})[:.]?(?P<minutes>\d{2})$")


def parse_date(day: str, month: str, year: str, what: str) -> date:
    """A date from the three GOV.UK date input boxes, or ValueError with the GOV.UK message."""
    parts = {"day": day.strip(), "month": month.strip(), "year": year.strip()}
    if not any(parts.values()):
        raise ValueError(f"Enter the {what}")
    missing = [name for name, value in parts.items() if not value]
    if missing:
        raise ValueError(f"The {what} must include a {missing[0]}")
    if not all(value.isdigit() for value in parts.values()):
        raise ValueError(f"The {what} must be a real date")
    if len(parts["year"]) != 4:
        raise ValueError("The year must include 4 numbers")
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        raise ValueError(f"The {what} must be a real date") from None


def parse_time(value: str, what: str) -> time:
    """A 24-hour clock time such as 14:30 (or 1430, 14.30)."""
    text_value = value.strip()
    if not text_value:
        raise ValueError(f"Enter the {what}")
    match = _TIME.match(text_value)
    if match is None or int(match["hours"]) > 23 or int(match["minutes"]) > 59:
        raise ValueError(f"Enter the {what} using the 24-hour clock, for example 14:30")
    return time(int(match["hours"]), int(match["minutes"]))


def london_datetime(day: date, clock_time: time) -> datetime:
    """A wall-clock time in London as an aware datetime (the services store UTC)."""
    return datetime.combine(day, clock_time, tzinfo=clock.LONDON)


def date_initial(prefix: str, moment: datetime | date | None, *, with_time: bool = True) -> dict:
    """Initial values for a date (and time) group, shown in London time."""
    if moment is None:
        return {}
    local = clock.local(moment) if isinstance(moment, datetime) else moment
    initial = {
        f"{prefix}_day": str(local.day),
        f"{prefix}_month": str(local.month),
        f"{prefix}_year": str(local.year),
    }
    if with_time and isinstance(local, datetime):
        initial[f"{prefix}_time"] = local.strftime("%H:%M")
    return initial


def add_date_fields(form: forms.Form, prefix: str, *, with_time: bool = True) -> None:
    """The boxes of a GOV.UK date input (``<prefix>_day`` ...) and a time box."""
    for part, size in (("day", 2), ("month", 2), ("year", 4)):
        form.fields[f"{prefix}_{part}"] = forms.CharField(
            required=False, max_length=size, strip=True
        )
    if with_time:
        form.fields[f"{prefix}_time"] = forms.CharField(required=False, max_length=5, strip=True)


def clean_date_fields(
    form: forms.Form, prefix: str, what: str, *, with_time: bool = True
) -> date | datetime | None:
    """The typed date (or London date and time), or None with the error added to the form."""
    data = form.cleaned_data
    try:
        day = parse_date(
            data.get(f"{prefix}_day") or "",
            data.get(f"{prefix}_month") or "",
            data.get(f"{prefix}_year") or "",
            f"date of the {what}",
        )
    except ValueError as error:
        form.add_error(f"{prefix}_day", str(error))
        return None
    if not with_time:
        return day
    try:
        clock_time = parse_time(data.get(f"{prefix}_time") or "", f"time of the {what}")
    except ValueError as error:
        form.add_error(f"{prefix}_time", str(error))
        return None
    return london_datetime(day, clock_time)


def date_fields_blank(form: forms.Form, prefix: str, *, with_time: bool = True) -> bool:
    parts = ("day", "month", "year", "time") if with_time else ("day", "month", "year")
    return not any((form.data.get(f"{prefix}_{part}") or "").strip() for part in parts)


# --- Supervision levels ------------------------------------------------------------------------


class SupervisionChoice:
    KEEP = "KEEP"
    NONE = "NONE"
    LEVELS = "LEVELS"
    CONSTANT = "CONSTANT"


LEVEL_FIELDS = (
    ("day_observations_per_hour", "observations per hour by day", "rate"),
    ("night_observations_per_hour", "observations per hour by night", "rate"),
    ("day_conversations", "conversations by day", "count"),
    ("night_conversations", "conversations by night", "count"),
)


def add_supervision_fields(form: forms.Form, choices: list[tuple[str, str]]) -> None:
    form.fields["supervision"] = forms.ChoiceField(
        choices=choices,
        required=False,
        error_messages={"invalid_choice": "Choose the supervision plan from the list"},
    )
    for name, _, _ in LEVEL_FIELDS:
        form.fields[name] = forms.CharField(required=False, max_length=6, strip=True)


def supervision_initial(plan) -> dict:
    """The form's starting values from the plan in force (a SupervisionPlan row), if any."""
    if plan is None or plan.constant:
        return {}
    return {
        "day_observations_per_hour": f"{plan.day_observations_per_hour.normalize():f}",
        "night_observations_per_hour": f"{plan.night_observations_per_hour.normalize():f}",
        "day_conversations": str(plan.day_conversations),
        "night_conversations": str(plan.night_conversations),
    }


def clean_supervision_fields(form: forms.Form, *, required: bool) -> Supervision | None:
    """None for "keep the current plan" / "no interim levels"; the levels otherwise (the
    service checks their ranges)."""
    choice = form.cleaned_data.get("supervision")
    if not choice:
        if required:
            form.add_error("supervision", "Choose the supervision plan")
        return None
    if choice in (SupervisionChoice.KEEP, SupervisionChoice.NONE):
        return None
    if choice == SupervisionChoice.CONSTANT:
        return Supervision(constant=True)
    values: dict = {}
    for name, what, kind in LEVEL_FIELDS:
        raw = form.cleaned_data.get(name) or ""
        if not raw:
            form.add_error(name, f"Enter the {what}")
            continue
        if kind == "rate":
            try:
                rate = Decimal(raw)
            except InvalidOperation:
                rate = None
            if rate is None or not rate.is_finite():
                form.add_error(name, f"Enter the {what} as a number, for example 2 or 0.5")
                continue
            values[name] = rate
        else:
            if not raw.isdigit():
                form.add_error(name, f"Enter the {what} as a whole number, for example 2")
                continue
            values[name] = int(raw)
    if len(values) < len(LEVEL_FIELDS):
        return None
    return Supervision(constant=False, **values)


# --- Attendees ---------------------------------------------------------------------------------


def add_attendee_fields(form: forms.Form) -> None:
    form.fields["attendees"] = forms.MultipleChoiceField(
        choices=Discipline.choices,
        required=False,
        error_messages={"invalid_choice": "Choose each attendee's role from the list"},
    )
    for value, _ in Discipline.choices:
        form.fields[f"attendee_{value}"] = forms.CharField(
            required=False,
            max_length=200,
            error_messages={"max_length": "Names must be 200 characters or fewer"},
        )
    form.fields["family_consent"] = forms.BooleanField(required=False)


def clean_attendee_fields(form: forms.Form, person_name: str) -> list[Attendee]:
    """One attendee per ticked role, with the name typed beside it (the person's own name for
    "the person"). The service checks the mix of roles."""
    attendees = []
    for discipline in form.cleaned_data.get("attendees") or []:
        name = (form.cleaned_data.get(f"attendee_{discipline}") or "").strip()
        if discipline == Discipline.PERSON:
            name = name or person_name
        elif not name:
            label = Discipline(discipline).label
            form.add_error(f"attendee_{discipline}", f"Enter the name of the attendee: {label}")
            continue
        attendees.append(Attendee(discipline=discipline, name=name))
    return attendees


# --- Staff of a prison (case manager and coordinator) ------------------------------------------


def staff_of(prison) -> list[User]:
    """Active staff of the prison whose roles work with ACCTs (not HQ or admin accounts)."""
    roles = [code for code, role in ROLES.items() if perms.VIEW_CASE in role.permissions]
    return list(
        User.objects.filter(prisons=prison, is_active=True, roles__code__in=roles)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def staff_label(user: User) -> str:
    name = user.get_full_name() or user.get_username()
    return f"{name} (band {user.band})" if user.band else f"{name} (no band recorded)"


class StaffChoiceField(forms.ChoiceField):
    """A member of staff by public id, from a given list."""

    def __init__(self, staff: list[User], *, what: str, **kwargs):
        self.staff = {str(u.public_id): u for u in staff}
        choices = [("", f"Choose the {what}")] + [
            (key, staff_label(u)) for key, u in self.staff.items()
        ]
        super().__init__(
            choices=choices,
            required=False,
            error_messages={"invalid_choice": f"Choose the {what} from the list"},
            **kwargs,
        )

    def clean(self, value):
        key = super().clean(value)
        return self.staff.get(key) if key else None


# --- The forms ---------------------------------------------------------------------------------


class ConcernForm(forms.Form):
    source = forms.ChoiceField(
        choices=ConcernSource.choices,
        error_messages={
            "required": "Choose where the concern came from",
            "invalid_choice": "Choose where the concern came from",
        },
    )
    seen_or_heard = text("what was seen or heard", CONCERN_SEEN_MAX)
    immediate_risk = text("the immediate risk", CONCERN_RISK_MAX)
    action_taken = text("what was done", CONCERN_ACTION_MAX)


class IapForm(forms.Form):
    """The Immediate Action Plan, with optional interim supervision levels."""

    SUPERVISION_CHOICES = [
        (SupervisionChoice.NONE, "No interim levels: the first case review sets them"),
        (SupervisionChoice.LEVELS, "Set interim observations and conversations"),
        (SupervisionChoice.CONSTANT, "Constant supervision"),
    ]
    plan = text("the plan", PLAN_TEXT_MAX)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_supervision_fields(self, self.SUPERVISION_CHOICES)

    def clean(self):
        cleaned = super().clean()
        cleaned["supervision_levels"] = clean_supervision_fields(self, required=False)
        return cleaned


class AssessmentForm(forms.Form):
    summary = text("the assessment", ASSESSMENT_TEXT_MAX)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_date_fields(self, "interviewed")

    def clean(self):
        cleaned = super().clean()
        cleaned["interviewed_at"] = clean_date_fields(self, "interviewed", "interview")
        return cleaned


class ReviewForm(forms.Form):
    """A case review of an open ACCT. Built with the case's CAREMAP actions (a status select
    each), the prison's staff, and whether a plan is in force (then "keep it" is offered)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    risk_level = forms.ChoiceField(
        choices=RiskLevel.choices,
        error_messages={
            "required": "Choose the risk level",
            "invalid_choice": "Choose the risk level",
        },
    )
    triggers = text("the triggers", REVIEW_TEXT_MAX, required=False)
    warning_signs = text("the warning signs", REVIEW_TEXT_MAX, required=False)
    protective_factors = text("the protective factors", REVIEW_TEXT_MAX, required=False)
    notes = text("the notes", REVIEW_TEXT_MAX, required=False)
    close = forms.BooleanField(required=False)
    closure_reason = text("the reason for closing the ACCT", REASON_MAX, required=False)

    def __init__(self, *args, caremap=(), staff=(), has_plan=False, person_name="", **kwargs):
        super().__init__(*args, **kwargs)
        self.caremap = list(caremap)
        self.person_name = person_name
        add_attendee_fields(self)
        self.fields["case_manager"] = StaffChoiceField(list(staff), what="case manager")
        self.fields["case_coordinator"] = StaffChoiceField(list(staff), what="case coordinator")
        for item in self.caremap:
            # Missing from the post (a form built before the action was added): unchanged.
            self.fields[f"caremap_{item.public_id}"] = forms.ChoiceField(
                choices=CaremapStatus.choices,
                initial=item.status,
                required=False,
                error_messages={"invalid_choice": "Choose a status for each CAREMAP action"},
            )
        for row in range(NEW_CAREMAP_ROWS):
            self.fields[f"new{row}_need"] = text("the need", CAREMAP_TEXT_MAX, required=False)
            self.fields[f"new{row}_action"] = text("the action", CAREMAP_TEXT_MAX, required=False)
            self.fields[f"new{row}_owner"] = text(
                "who owns the action", CAREMAP_OWNER_MAX, required=False
            )
            add_date_fields(self, f"new{row}_target", with_time=False)
        choices = [
            (SupervisionChoice.LEVELS, "Observations and conversations"),
            (SupervisionChoice.CONSTANT, "Constant supervision"),
        ]
        if has_plan:
            choices.insert(0, (SupervisionChoice.KEEP, "Keep the current plan"))
        add_supervision_fields(self, choices)
        add_date_fields(self, "next_review")

    def _clean_new_caremap(self) -> list[CaremapInput]:
        items = []
        for row in range(NEW_CAREMAP_ROWS):
            names = [f"new{row}_{part}" for part in ("need", "action", "owner")]
            if all(not self.data.get(n, "").strip() for n in names) and date_fields_blank(
                self, f"new{row}_target", with_time=False
            ):
                continue  # a blank row
            for name, what in zip(
                names, ("the need", "the action", "who owns the action"), strict=True
            ):
                if name in self.cleaned_data and not self.cleaned_data[name]:
                    self.add_error(name, f"Enter {what} (new CAREMAP action {row + 1})")
            target = clean_date_fields(self, f"new{row}_target", "target", with_time=False)
            values = [self.cleaned_data.get(n) for n in names]
            if target is not None and all(values):
                items.append(CaremapInput(*values, target_date=target))
        return items

    def clean(self):
        cleaned = super().clean()
        cleaned["attendee_list"] = clean_attendee_fields(self, self.person_name)
        cleaned["caremap_new"] = self._clean_new_caremap()
        cleaned["caremap_updates"] = {
            str(item.public_id): cleaned[f"caremap_{item.public_id}"]
            for item in self.caremap
            if cleaned.get(f"caremap_{item.public_id}")
            and cleaned[f"caremap_{item.public_id}"] != item.status
        }
        if cleaned.get("close"):
            if not cleaned.get("closure_reason") and "closure_reason" not in self.errors:
                self.add_error("closure_reason", "Enter the reason for closing the ACCT")
            # A closing review sets no plan and no next review: what was typed there is ignored.
            cleaned["supervision_levels"] = None
            cleaned["next_review_at"] = None
        else:
            cleaned["closure_reason"] = ""
            cleaned["supervision_levels"] = clean_supervision_fields(self, required=True)
            cleaned["next_review_at"] = clean_date_fields(self, "next_review", "next review")
        return cleaned


class PostClosureReviewForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    notes = text("the review notes", REVIEW_TEXT_MAX)

    def __init__(self, *args, person_name="", **kwargs):
        super().__init__(*args, **kwargs)
        self.person_name = person_name
        add_attendee_fields(self)

    def clean(self):
        cleaned = super().clean()
        cleaned["attendee_list"] = clean_attendee_fields(self, self.person_name)
        return cleaned


class ReopenForm(forms.Form):
    reason = text("why the ACCT is reopened", REASON_MAX)


class EntryForm(forms.Form):
    """An observation or conversation in a few taps: when, seen or spoken to, how the person
    presented, anything of concern."""

    kind = forms.ChoiceField(
        choices=EntryKind.choices,
        error_messages={
            "required": "Choose observation or conversation",
            "invalid_choice": "Choose observation or conversation",
        },
    )
    seen_or_spoken_to = forms.ChoiceField(
        choices=YES_NO,
        error_messages={
            "required": "Choose yes if you saw or spoke to the person",
            "invalid_choice": "Choose yes or no",
        },
    )
    presentation = text("how the person presented", ENTRY_TEXT_MAX)
    concerns = text("anything of concern", ENTRY_TEXT_MAX, required=False)
    health = forms.BooleanField(required=False)
    next = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_date_fields(self, "occurred")

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        what = EntryKind(kind).label.lower() if kind else "entry"
        cleaned["occurred_at"] = clean_date_fields(self, "occurred", what)
        return cleaned


class CorrectionForm(forms.Form):
    seen_or_spoken_to = forms.ChoiceField(
        choices=YES_NO,
        error_messages={
            "required": "Choose yes if the person was seen or spoken to",
            "invalid_choice": "Choose yes or no",
        },
    )
    presentation = text("how the person presented", ENTRY_TEXT_MAX)
    concerns = text("anything of concern", ENTRY_TEXT_MAX, required=False)


# Transfers demand their own review (the system does it on arrival), so staff choose from these.
STAFF_DEMAND_REASONS = [
    (value, label) for value, label in DemandReason.choices if value != DemandReason.TRANSFER_IN
]


class DemandForm(forms.Form):
    reason = forms.ChoiceField(
        choices=STAFF_DEMAND_REASONS,
        error_messages={
            "required": "Choose why a review is needed",
            "invalid_choice": "Choose why a review is needed",
        },
    )
    details = text("the details", REASON_MAX, required=False)


class SaferCellDecisionForm(forms.Form):
    reason = text("why the person is not moved", REASON_MAX)
