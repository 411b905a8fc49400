from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import PersonNameField, PhoneField

from .exceptions import InvalidInput
from .models import ONLINE_KINDS, ApplicationKind, PassportType, Sex
from .services.booking import PersonBooking
from .services.people import ApplicantData, check_applicant
from .templatetags.mpaspor import rupiah


class ApplicationForm(forms.Form):
    """The applicant's data and the passport asked for. Validates the shape only; the rules
    (NIK against birth date and sex, age and validity, quotas) are the booking service's."""

    nik = forms.RegexField(
        label=_("NIK (16 digits, from the e-KTP or family card)"),
        regex=r"^[0-9]{16}$",
        error_messages={"invalid": _("A NIK has exactly 16 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 16, "autocomplete": "off"}),
    )
    full_name = PersonNameField(
        label=_("Full name (as on the e-KTP)"), widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        input_formats=["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    phone = PhoneField(
        label=_("Mobile phone"), widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
    )
    married = forms.BooleanField(
        label=_("Married"),
        required=False,
        help_text=_("Matters under 17 only: a married applicant may choose 10 years. Bring the marriage book."),
    )
    passport_type = forms.ChoiceField(label=_("Passport type"), choices=PassportType.choices, widget=forms.RadioSelect)
    validity_years = forms.TypedChoiceField(
        label=_("Validity"),
        coerce=int,
        choices=[(5, _("5 years")), (10, _("10 years"))],
        widget=forms.RadioSelect,
        help_text=_("Applicants under 17 get a 5-year passport, unless they are married."),
    )
    application_kind = forms.ChoiceField(
        label=_("Application"),
        choices=[(kind.value, kind.label) for kind in ApplicationKind if kind in ONLINE_KINDS],
        help_text=_(
            "Lost or damaged passports and changes of personal data are handled at the office, without booking."
        ),
    )
    express = forms.BooleanField(
        label=_("Same-day service (percepatan)"),
        required=False,
        help_text=_("The passport is ready on the day of your visit."),
    )

    def __init__(self, *args, fees: dict[str, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if fees:
            self._label_prices(fees)

    def _label_prices(self, fees: dict[str, int]) -> None:
        """Show the fees in force next to the choices; amounts come from the fee table."""
        if "express" in fees:
            self.fields["express"].label = _("Same-day service (percepatan, +%(amount)s)") % {
                "amount": rupiah(fees["express"])
            }
        labels = []
        for value, label in self.fields["passport_type"].choices:
            prices = [rupiah(fees[f"{value}_{years}"]) for years in (5, 10) if f"{value}_{years}" in fees]
            labels.append((value, f"{label}: {' / '.join(prices)}" if prices else label))
        self.fields["passport_type"].choices = labels
        self.fields["passport_type"].help_text = _("Fee for 5 / 10 years.")

    def clean(self):
        cleaned = super().clean()
        if all(name in cleaned for name in ("nik", "full_name", "birth_date", "sex", "phone")):
            check_applicant_in_form(self, self.applicant())
        return cleaned

    def applicant(self) -> ApplicantData:
        data = self.cleaned_data
        return ApplicantData(
            nik=data["nik"],
            full_name=data["full_name"],
            birth_date=data["birth_date"],
            sex=data["sex"],
            phone=data["phone"],
            married=data["married"],
        )

    def person_booking(self, *, person_id: int | None = None) -> PersonBooking:
        data = self.cleaned_data
        return PersonBooking(
            applicant=self.applicant(),
            passport_type=data["passport_type"],
            validity_years=data["validity_years"],
            kind=data["application_kind"],
            express=data["express"],
            person_id=person_id,
        )


def check_applicant_in_form(form: forms.Form, applicant: ApplicantData) -> None:
    """The service's one check of a person's data, its error shown at the form's field."""
    try:
        check_applicant(applicant)
    except InvalidInput as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
