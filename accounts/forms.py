from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .exceptions import PasswordChecksBusy
from .models import User
from .services import check_password_capacity
from .validators import PERSON_NAME_MAX_LENGTH, normalize_phone, validate_person_name, validate_phone


class PersonNameField(forms.CharField):
    """A full name as on the e-KTP, spaces collapsed, checked by the one name rule."""

    default_validators = [validate_person_name]

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", PERSON_NAME_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_python(self, value):
        return " ".join(super().to_python(value).split())


class PhoneField(forms.CharField):
    """An Indonesian mobile number as people type it (spaces, dashes), stored normalised and
    checked by the one phone rule."""

    default_validators = [validate_phone]

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "tel"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalize_phone(super().to_python(value))


class SignUpForm(BaseUserCreationForm):
    """Validates only; the view calls accounts.services.register_user."""

    full_name = PersonNameField(
        label=_("Full name (as on your e-KTP)"), widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    phone = PhoneField(
        label=_("Mobile phone"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "08xxxxxxxxxx"}),
    )

    class Meta:
        model = User
        fields = ("email", "full_name", "phone")
        labels = {"email": _("E-mail")}
        widgets = {"email": forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})}

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()

    def validate_unique(self):
        # Whether the address has an account is never said here: register_user answers the
        # same either way and e-mails the owner instead.
        pass


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form with the e-mail as the login. The field keeps the name
    `username` because django-axes counts failures by it."""

    username = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        "invalid_login": _("The e-mail address or password is not right."),
        "inactive": _("This account is inactive."),
    }

    def clean_username(self):
        return User.objects.normalize_email(self.cleaned_data["username"]).lower()

    def clean(self):
        # Before the password is hashed, as the API's login: beyond the portal's password-checking
        # budget the visitor is asked to try again in a moment (the view answers 429).
        try:
            check_password_capacity()
        except PasswordChecksBusy as busy:
            raise ValidationError(busy.message, code=busy.code) from None
        return super().clean()


class VerifyEmailForm(forms.Form):
    code = forms.RegexField(
        label=_("6-digit code"),
        regex=r"^\s*[0-9]{6}\s*$",
        error_messages={"invalid": _("The code has exactly 6 digits.")},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "maxlength": 6,
                "pattern": "[0-9]{6}",
                "autofocus": True,
                "class": "code-input",
            }
        ),
    )
