"""The entry form's choices: up to three ranked sessions of the release (the people are the
shared HouseholdFormSet)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from appointments.templatetags.mpaspor import office_time

RANKS = (_("First choice"), _("Second choice (optional)"), _("Third choice (optional)"))


class ChoicesForm(forms.Form):
    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        options = [("", "—")] + [
            (str(slot.pk), f"{office_time(slot.starts_at, slot.office, 'l, j F Y, H:i')} ({slot.available})")
            for slot in slots
        ]
        for rank, label in enumerate(RANKS, start=1):
            self.fields[f"choice_{rank}"] = forms.TypedChoiceField(
                label=label, choices=options, coerce=int, empty_value=None, required=rank == 1
            )

    def ranked(self) -> list[int]:
        return [self.cleaned_data[f"choice_{rank}"] for rank in range(1, 4) if self.cleaned_data.get(f"choice_{rank}")]
