from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mpaspor.errors import DomainError
from mpaspor.ratelimits import rate_limit

from . import services
from .exceptions import PasswordChecksBusy
from .forms import EmailAuthenticationForm, SignUpForm, VerifyEmailForm

SIGNUP_EMAIL_KEY = "signup_email"


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _verify_url(next_url: str) -> str:
    return f"{reverse('accounts:verify_email')}?{urlencode({'next': next_url})}"


@rate_limit("signup")
def signup(request):
    if request.user.is_authenticated:
        return redirect("appointments:offices")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        services.register_user(
            email=email,
            password=form.cleaned_data["password1"],
            full_name=form.cleaned_data["full_name"],
            phone=form.cleaned_data["phone"],
            reset_url=request.build_absolute_uri(reverse("accounts:password_reset")),
            language=get_language() or settings.LANGUAGE_CODE,
            address=request.META.get("REMOTE_ADDR"),
        )
        # The same page whether the address was new or already had an account.
        request.session[SIGNUP_EMAIL_KEY] = email
        done = reverse("accounts:signup_done")
        next_url = _next_url(request, "")
        return redirect(f"{done}?{urlencode({'next': next_url})}" if next_url else done)
    return render(request, "accounts/signup.html", {"form": form, "next": _next_url(request, "")})


def signup_done(request):
    """Check your e-mail: a new account finds its code there and logs in to enter it; the owner
    of an address that already had an account finds how to log in or reset the password."""
    after_login = _verify_url(_next_url(request, reverse("appointments:offices")))
    return render(
        request,
        "accounts/signup_done.html",
        {
            "email": request.session.get(SIGNUP_EMAIL_KEY, ""),
            "minutes": int(services.CODE_LIFETIME.total_seconds() // 60),
            "login_url": f"{reverse('accounts:login')}?{urlencode({'next': after_login})}",
        },
    )


@login_required
@rate_limit("verification_check")
def verify_email(request):
    next_url = _next_url(request, reverse("appointments:offices"))
    if request.user.email_verified:
        return redirect(next_url)
    form = VerifyEmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.verify_email(user=request.user, code=form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", exc.message)
        else:
            messages.success(request, _("Your e-mail address is verified. You can book now."))
            return redirect(next_url)
    return render(request, "accounts/verify_email.html", {"form": form, "next": next_url})


@login_required
@require_POST
@rate_limit("verification_send")
def resend_code(request):
    next_url = _next_url(request, reverse("appointments:offices"))
    if request.user.email_verified:
        return redirect(next_url)
    try:
        services.send_verification_code(user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("A new code is on its way to %(email)s.") % {"email": request.user.email})
    return redirect(_verify_url(next_url))


@method_decorator(rate_limit("login"), name="dispatch")
class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, PasswordChecksBusy.code):
            response.status_code = 429
            response["Retry-After"] = str(PasswordChecksBusy.retry_after)
        return response


@method_decorator(rate_limit("password_reset"), name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset_body.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        # As Django's view, but through the service: the old password's tokens and sessions end.
        services.set_new_password(user=form.user, password=form.cleaned_data["new_password1"])
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return redirect(self.get_success_url())


@method_decorator(rate_limit("password_change"), name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("appointments:my_applications")

    def form_valid(self, form):
        services.set_new_password(user=form.user, password=form.cleaned_data["new_password1"])
        # This session has just proved the old password: it stays; every other one ends.
        update_session_auth_hash(self.request, form.user)
        messages.success(
            self.request, _("Your password is changed. Other devices and the app are signed out; log in there again.")
        )
        return redirect(self.get_success_url())
