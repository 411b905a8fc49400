import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Months a report may cover: from the first year of the portal's data to a year ahead (quotas are
# released at most a few months ahead). Far dates overflowed the date arithmetic (500).
FIRST_REPORT_YEAR = 2000
YEARS_AHEAD = 1


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

    def clean_month(self):
        month = self.cleaned_data["month"]
        if month is None:
            return None
        today = timezone.localdate()
        first, last = dt.date(FIRST_REPORT_YEAR, 1, 1), today.replace(year=today.year + YEARS_AHEAD, day=1)
        if not first <= month <= last:
            raise forms.ValidationError(
                _("Choose a month from %(first)s to %(last)s.") % {"first": f"{first:%Y-%m}", "last": f"{last:%Y-%m}"}
            )
        return month
