from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import PersonNameField, PhoneField

from .models import Sex


class PersonForm(forms.Form):
    """The shape of a listed person; the rules are check_applicant's (add_applicant)."""

    full_name = PersonNameField(label=_("Full name (as on the e-KTP)"))
    nik = forms.RegexField(
        label=_("NIK"),
        regex=r"^\d{16}$",
        max_length=16,
        error_messages={"invalid": _("A NIK has exactly 16 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    birth_date = forms.DateField(label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"}))
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    phone = PhoneField(label=_("Phone (optional)"), required=False)


class RescheduleForm(forms.Form):
    slot = forms.TypedChoiceField(label=_("New session"), coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = options
