from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import User
from .validators import normalize_phone, validate_person_name, validate_phone


class SignUpForm(BaseUserCreationForm):
    """Validates only; the view calls accounts.services.register_user."""

    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "08xxxxxxxxxx"}),
    )

    class Meta:
        model = User
        fields = ("email", "full_name", "phone")
        labels = {"email": _("E-mail"), "full_name": _("Full name (as on your e-KTP)")}
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
        }

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("An account with this e-mail address already exists. Log in or reset your password."),
                code="email_taken",
            )
        return email

    def clean_full_name(self):
        validate_person_name(self.cleaned_data["full_name"])
        return self.cleaned_data["full_name"].strip()

    def full_clean(self):
        # Normalise the phone before its validator sees it.
        if self.is_bound and "phone" in self.data:
            self.data = self.data.copy()
            self.data["phone"] = normalize_phone(self.data["phone"])
        super().full_clean()

    def validate_unique(self):
        # clean_email checks the address case-insensitively with a clearer message.
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
