from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import PersonNameField, PhoneField
from offices.services import MAX_BOOKS_PER_DELIVERY

from .models import ApplicationKind, PassportType, PriorityGroup, Sex, Step


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=_("Booking code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "enterkeyhint": "go",
                "placeholder": _("Type or scan the booking code"),
            }
        ),
    )


class WalkInForm(forms.Form):
    slot = forms.TypedChoiceField(label=_("Session"), coerce=int)
    priority_group = forms.ChoiceField(
        label=_("Priority group"),
        required=False,
        choices=[("", _("None (walk-in session or counter-only application)"))] + list(PriorityGroup.choices),
    )
    kind = forms.ChoiceField(label=_("Application kind"), choices=ApplicationKind.choices)
    force_majeure = forms.BooleanField(
        label=_("Force majeure: no fine"),
        required=False,
        help_text=_(
            "Lost or damaged passport only: the loss or damage was beyond the holder's control (a disaster, "
            "for one), as the interview report finds. Otherwise the fine is charged with the fee."
        ),
    )
    full_name = PersonNameField(label=_("Full name"))
    nik = forms.CharField(
        label=_("NIK"), min_length=16, max_length=16, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    birth_date = forms.DateField(label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"}))
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    married = forms.BooleanField(
        label=_("Married"),
        required=False,
        help_text=_("Under 17 and married: check the marriage book; then 10 years may be chosen."),
    )
    phone = PhoneField(label=_("Phone"), required=False)
    passport_type = forms.ChoiceField(label=_("Passport type"), choices=PassportType.choices)
    validity_years = forms.TypedChoiceField(
        label=_("Validity"), choices=[(5, _("5 years")), (10, _("10 years"))], coerce=int, initial=5
    )
    express = forms.BooleanField(
        label=_("Same-day service (percepatan)"),
        required=False,
        help_text=_("Takes one of the day's same-day places; the surcharge is added to the fee."),
    )

    def __init__(self, *args, sessions=(), **kwargs):
        super().__init__(*args, **kwargs)
        # A walk-in session's own pool first: on such a day most people who come are for it.
        self.fields["slot"].choices = [
            (s.walk_in_slot_id, walk_in_session_choice(s)) for s in sessions if s.walk_in_slot_id
        ] + [(s.priority_slot_id, session_choice(s)) for s in sessions if s.priority_slot_id]


def walk_in_session_choice(session) -> str:
    times = {"start": f"{session.starts_at:%H:%M}", "end": f"{session.ends_at:%H:%M}", "left": session.walk_in_left}
    return _("%(start)s–%(end)s walk-in session (%(left)s places left)") % times


def session_choice(session) -> str:
    times = {"start": f"{session.starts_at:%H:%M}", "end": f"{session.ends_at:%H:%M}", "left": session.priority_left}
    if session.priority_left:
        return _("%(start)s–%(end)s (%(left)s priority places left)") % times
    return _("%(start)s–%(end)s (pool full: registered beyond it)") % times


class StepForm(forms.Form):
    code = forms.CharField(
        label=_("Booking code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": _("Type or scan the booking code"),
            }
        ),
    )
    step = forms.ChoiceField(label=_("Step"), choices=Step.choices)
    action = forms.ChoiceField(choices=[("start", _("Start")), ("finish", _("Finish"))], widget=forms.HiddenInput)


class StockReceiptForm(forms.Form):
    """A delivery of blank passport books, as its delivery note says."""

    passport_type = forms.ChoiceField(label=_("Passport type"), choices=PassportType.choices)
    books = forms.IntegerField(label=_("Books delivered"), min_value=1, max_value=MAX_BOOKS_PER_DELIVERY)
    reference = forms.CharField(
        label=_("Delivery note reference"),
        max_length=60,
        help_text=_("The number on the delivery note, so that one delivery is recorded once."),
    )
    received_on = forms.DateField(
        label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
