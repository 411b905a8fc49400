from django import forms
from django.utils.translation import gettext_lazy as _


class ReportFilterForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": _("Choose a month (year and month, e.g. 2026-03).")},
    )
    office = forms.ChoiceField(label=_("Office"), required=False)

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].choices = [("", _("All offices in my area"))] + [(o.code, o.name) for o in offices]
