from django import forms
from django.utils.translation import gettext_lazy as _

from offices.models import OfficeResources
from quotas.models import Weekday

from .models import Proposal


class OpenRoundForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Region"), queryset=None)
    period_from = forms.DateField(label=_("Period from"), widget=forms.DateInput(attrs={"type": "date"}))
    period_to = forms.DateField(label=_("Period to"), widget=forms.DateInput(attrs={"type": "date"}))
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        if len(regions) == 1:
            self.fields["region"].initial = regions[0].pk

    def clean(self):
        data = super().clean()
        if data.get("period_from") and data.get("period_to") and data["period_from"] > data["period_to"]:
            self.add_error("period_to", _("The period must end on or after its first day."))
        return data


class ResourcesForm(forms.ModelForm):
    counters = forms.IntegerField(label=_("Service counters"), min_value=0, max_value=500)
    note = forms.CharField(label=_("Note for the division"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = OfficeResources
        fields = [
            "verifiers",
            "biometric_operators",
            "interviewers",
            "approvers",
            "printing_staff",
            "biometric_stations",
            "printers",
            "opens_at",
            "closes_at",
            "saturday_ready",
            "sunday_ready",
        ]
        widgets = {
            "opens_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "closes_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    field_order = ["counters"]

    def clean(self):
        data = super().clean()
        if data.get("opens_at") and data.get("closes_at") and data["opens_at"] >= data["closes_at"]:
            self.add_error("closes_at", _("Service must close after it opens."))
        return data


class ProposalForm(forms.Form):
    kind = forms.ChoiceField(label=_("Proposal"), choices=Proposal.Kind.choices)
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days"), choices=Weekday.choices, coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    places = forms.IntegerField(label=_("Online places per session"), min_value=1, max_value=1000, required=False)
    start_time = forms.TimeField(
        label=_("Session start (weekend)"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    end_time = forms.TimeField(
        label=_("Session end (weekend)"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    starts_on = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    needed = forms.CharField(label=_("Staff or equipment needed"), max_length=200, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
