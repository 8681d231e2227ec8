from django import forms

from .constants import Action


class EventFilterForm(forms.Form):
    actor = forms.CharField(label="Who", max_length=150, required=False)
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any action"), *Action.choices]
    )
    object_type = forms.CharField(label="Record type", max_length=60, required=False)
    object_id = forms.CharField(label="Record id", max_length=64, required=False)
    prison_code = forms.CharField(label="Prison code", max_length=5, required=False)
    date_from = forms.DateField(
        label="From (YYYY-MM-DD)",
        required=False,
        error_messages={"invalid": "Enter a real date, like 2026-11-28"},
    )
    date_to = forms.DateField(
        label="To (YYYY-MM-DD)",
        required=False,
        error_messages={"invalid": "Enter a real date, like 2026-11-28"},
    )
