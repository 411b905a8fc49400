from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Sex


class PersonForm(forms.Form):
    full_name = forms.CharField(label=_("Full name (as on the e-KTP)"), max_length=150)
    nik = forms.RegexField(
        label=_("NIK"),
        regex=r"^\d{16}$",
        max_length=16,
        error_messages={"invalid": _("A NIK has exactly 16 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    birth_date = forms.DateField(label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"}))
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    phone = forms.CharField(
        label=_("Phone (optional)"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    married = forms.BooleanField(
        label=_("Married"),
        required=False,
        help_text=_("Matters under 17 only: a married applicant may choose 10 years. Bring the marriage book."),
    )


class RescheduleForm(forms.Form):
    slot = forms.TypedChoiceField(label=_("New session"), coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = options
