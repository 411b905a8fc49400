import copy

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.validators import normalize_phone

from .forms import ApplicationForm

PERSON_FIELDS = ("nik", "full_name", "birth_date", "sex", "phone", "married")


class PersonForm(forms.Form):
    """A person on the account: the booking form's own person fields (labels, widgets, checks),
    so that both forms ask the same way; the phone is optional here."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in PERSON_FIELDS:
            self.fields[name] = copy.deepcopy(ApplicationForm.base_fields[name])
        self.fields["phone"].required = False
        self.fields["phone"].label = _("Mobile phone (optional)")
        if self.is_bound and self.data.get("phone"):
            self.data = self.data.copy()
            self.data["phone"] = normalize_phone(self.data["phone"])

    def clean_full_name(self):
        return " ".join(self.cleaned_data["full_name"].split())


class RescheduleForm(forms.Form):
    slot = forms.TypedChoiceField(label=_("New session"), coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = options


class EarlierVisitForm(forms.Form):
    """The first date the household can come when it asks to come earlier; the service checks the
    range (services.earlier), the date input only offers it."""

    date_from = forms.DateField(
        label=_("I can come from"),
        help_text=_("Any date from tomorrow to the day before your visit."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Choose the first date you can come.")},
    )

    def __init__(self, *args, first, last, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_from"].widget.attrs.update(min=first.isoformat(), max=last.isoformat())
        self.fields["date_from"].initial = first


class DocumentUploadForm(forms.Form):
    """One file for one document of the application (the checks of its content are the service's)."""

    requirement = forms.SlugField(max_length=40)
    file = forms.FileField(
        label=_("Photo or PDF"), error_messages={"required": _("Choose a photo or a PDF file first.")}
    )


class DocumentReviewForm(forms.Form):
    """The counter's check of one file: accept, or reject with the reason the applicant reads."""

    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("reject", _("Reject"))])
    reason = forms.CharField(label=_("Reason for rejection"), max_length=255, required=False)


class NikDisputeForm(forms.Form):
    """The owner's claim to a NIK that someone else booked: the NIK, the birth date it encodes and
    a photo of the e-KTP (the service checks all three)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("nik", "birth_date"):
            self.fields[name] = copy.deepcopy(ApplicationForm.base_fields[name])
        self.fields["nik"].label = _("Your NIK (16 digits)")
        self.fields["birth_date"].label = _("Your birth date")
        self.fields["photo"] = forms.FileField(
            label=_("Photo of your e-KTP"),
            help_text=_("A JPEG or PNG photo where the NIK, the name and the face can be read."),
            error_messages={"required": _("Choose a photo of your e-KTP first.")},
            widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
        )


class NikDisputeDecisionForm(forms.Form):
    """The office's decision on a dispute: uphold (cancel the application; flag its account or
    not) or reject with the reason the owner reads."""

    decision = forms.ChoiceField(choices=[("uphold", _("Uphold")), ("reject", _("Reject"))])
    note = forms.CharField(label=_("Note to the owner"), max_length=255, required=False)
    flag_account = forms.BooleanField(required=False)
