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
