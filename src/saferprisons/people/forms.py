"""Page forms: they check shape; the services check the rules."""

from django import forms

from .constants import (
    CASE_NOTE_MAX_LENGTH,
    CSRA_REASON_MAX_LENGTH,
    CaseNoteType,
    CellSharingRisk,
    Sensitivity,
)


class SearchForm(forms.Form):
    q = forms.CharField(label="Name or prison number", max_length=100, required=False)


class CaseNoteForm(forms.Form):
    note_type = forms.ChoiceField(label="Type", choices=CaseNoteType.choices)
    sensitivity = forms.ChoiceField(
        label="Who can read it", choices=Sensitivity.choices, initial=Sensitivity.NORMAL
    )
    text = forms.CharField(
        label="Case note",
        max_length=CASE_NOTE_MAX_LENGTH,
        error_messages={"required": "Enter the case note"},
    )


class CellMoveForm(forms.Form):
    cell = forms.CharField(
        label="Cell",
        max_length=40,
        error_messages={"required": "Choose the cell to move the person to"},
    )
    reason = forms.CharField(label="Reason for the move", max_length=200, required=False)


class AlertForm(forms.Form):
    code = forms.CharField(
        label="Alert", max_length=20, error_messages={"required": "Choose an alert"}
    )
    comment = forms.CharField(label="Comment", max_length=1000, required=False)


class CellSharingRiskForm(forms.Form):
    risk = forms.ChoiceField(
        choices=CellSharingRisk.choices,
        error_messages={
            "required": "Choose the cell sharing risk",
            "invalid_choice": "Choose the cell sharing risk",
        },
    )
    reason = forms.CharField(
        max_length=CSRA_REASON_MAX_LENGTH,
        error_messages={
            "required": "Enter the reason for the assessment",
            "max_length": f"The reason must be {CSRA_REASON_MAX_LENGTH} characters or fewer",
        },
    )
