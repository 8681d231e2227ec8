"""Forms for the pilot's management pages: enrolling a person, ending an enrolment, and setting a
rule. They only check what was typed; the services check everything else (and say why)."""

from __future__ import annotations

from datetime import time, timedelta

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from saferprisons.acct.forms import add_date_fields, clean_date_fields, london_datetime, text

from .constants import REASON_MAX_LENGTH, DeviceKind, EnrolmentBasis, Priority, RuleKind

MAX_THRESHOLD_SECONDS = 7 * 86_400  # the services allow 0 seconds to 7 days
# Rules whose thresholds are minutes long are typed in minutes; the rest act within a minute or
# two and are typed in seconds.
MINUTE_RULES = frozenset({RuleKind.NO_ACTIVITY, RuleKind.BATHROOM_OCCUPANCY})


class EnrolForm(forms.Form):
    basis = forms.ChoiceField(
        choices=EnrolmentBasis.choices,
        error_messages={"required": "Choose the basis for monitoring"},
    )
    decision_reason = text("the reason for the decision", REASON_MAX_LENGTH, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_date_fields(self, "review", with_time=False)
        add_date_fields(self, "end", with_time=False)

    def clean(self):
        data = super().clean()
        if data.get("basis") == EnrolmentBasis.MANAGER_DECISION and not data.get("decision_reason"):
            self.add_error("decision_reason", "Enter the reason for the decision")
        data["review_on"] = clean_date_fields(self, "review", "review", with_time=False)
        end_day = clean_date_fields(self, "end", "end of monitoring", with_time=False)
        # Monitoring runs to the end of the last day, London time.
        data["ends_at"] = (
            london_datetime(end_day + timedelta(days=1), time(0, 0)) if end_day else None
        )
        return data


class EndEnrolmentForm(forms.Form):
    end_reason = text("why monitoring ends", REASON_MAX_LENGTH)


def _threshold_field() -> forms.IntegerField:
    # The unit (minutes or seconds), limits and messages are set per rule in RuleForm.__init__.
    return forms.IntegerField(required=False)


def _limit_field(what: str) -> forms.FloatField:
    return forms.FloatField(
        required=False, error_messages={"invalid": f"The {what} must be a number"}
    )


class RuleForm(forms.Form):
    """One rule for the whole prison, or for a wing or landing. Thresholds are typed in minutes
    for ``MINUTE_RULES`` and in seconds for the others; empty switches the rule off in that part
    of the day."""

    enabled = forms.ChoiceField(
        choices=[("yes", "On"), ("no", "Off")],
        error_messages={"required": "Choose whether the rule is on"},
    )
    priority = forms.ChoiceField(
        choices=Priority.choices, error_messages={"required": "Choose a priority"}
    )
    day_threshold = _threshold_field()
    night_threshold = _threshold_field()
    limit_low = _limit_field("lower limit")
    limit_high = _limit_field("upper limit")
    min_quality = _limit_field("minimum quality")

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = threshold_unit(kind)
        limit = MAX_THRESHOLD_SECONDS // (60 if self.unit == "minutes" else 1)
        for name, what in (("day_threshold", "day"), ("night_threshold", "night")):
            field = self.fields[name]
            field.validators = [MinValueValidator(0), MaxValueValidator(limit)]
            field.error_messages = {
                "invalid": f"The {what} threshold must be a whole number of {self.unit}",
                "min_value": f"The {what} threshold must be 0 {self.unit} or more",
                "max_value": f"The {what} threshold must be 7 days ({limit:,} {self.unit}) or less",
            }

    def clean(self):
        data = super().clean()
        scale = 60 if self.unit == "minutes" else 1
        for name in ("day_threshold", "night_threshold"):
            value = data.get(name)
            data[f"{name}_seconds"] = None if value is None else value * scale
        data["enabled"] = data.get("enabled") == "yes"
        return data


def threshold_unit(kind: str) -> str:
    return "minutes" if kind in MINUTE_RULES else "seconds"


def rule_initial(setting) -> dict:
    """A rule setting in force, as the form shows it."""
    scale = 60 if threshold_unit(setting.kind) == "minutes" else 1

    def shown(seconds):
        return None if seconds is None else seconds // scale

    return {
        "enabled": "yes" if setting.enabled else "no",
        "priority": setting.priority,
        "day_threshold": shown(setting.day_threshold_seconds),
        "night_threshold": shown(setting.night_threshold_seconds),
        "limit_low": setting.limit_low,
        "limit_high": setting.limit_high,
        "min_quality": setting.min_quality,
    }


class UnitRuleChoiceForm(forms.Form):
    """Which wing or landing, and which rule, to give a setting of its own."""

    unit = forms.ChoiceField(error_messages={"required": "Choose a wing or landing"})
    kind = forms.ChoiceField(
        choices=RuleKind.choices,
        error_messages={"required": "Choose a rule", "invalid_choice": "Choose one of the rules"},
    )

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(unit.path, unit_label(unit)) for unit in units]
        self.fields["unit"].error_messages["invalid_choice"] = "Choose one of the wings or landings"


def unit_label(unit) -> str:
    """A wing or landing as a heading or table shows it: Wing A, Landing A-1."""
    return f"{unit.get_level_display()} {unit.path}"


def unit_name(unit) -> str:
    """A wing or landing inside a sentence: wing A, landing A-1."""
    return f"{unit.get_level_display().lower()} {unit.path}"


class FirmwareForm(forms.Form):
    firmware = text("the firmware version", 50)


class GatewayForm(forms.Form):
    code = text("the gateway's code", 32)
    name = text("a name for the gateway", 100)


class DeviceForm(forms.Form):
    """A device to register. The gateway choices are the prison's gateways in service."""

    gateway = forms.ChoiceField(error_messages={"required": "Choose the gateway"})
    cell = text("the cell, for example A-1-001", 40)
    external_id = text("the device id", 64)
    kind = forms.ChoiceField(
        choices=DeviceKind.choices, error_messages={"required": "Choose the kind of device"}
    )
    vendor = text("the vendor", 100)
    serial = text("the serial number", 100)
    firmware = text("the firmware version", 50, required=False)

    def __init__(self, *args, gateways=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = [
            (str(gateway.public_id), f"{gateway.code} ({gateway.name})") for gateway in gateways
        ]
        self.fields["gateway"].error_messages["invalid_choice"] = "Choose one of the gateways"
