"""API: sign-up, login, logout and e-mail verification. One class per operation."""

from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from mpaspor.api import (
    AuthRateThrottle,
    EmailStringField,
    RegexStringField,
    Serializer,
    StringField,
    error_responses,
)

from .exceptions import InvalidCredentials, LoginLockedOut
from .services import (
    check_password_capacity,
    create_api_token,
    register_user,
    revoke_api_token,
    send_verification_code,
    verify_email,
)
from .validators import PERSON_NAME_MAX_LENGTH, PHONE_MAX_LENGTH, PHONE_MESSAGE, PHONE_PATTERN, validate_person_name


class TokenOutputSerializer(Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown once.")

    class Meta:
        ref_name = "Token"


class SignUpAnswerSerializer(Serializer):
    detail = serializers.CharField(help_text="What to do next, in the request's language.")

    class Meta:
        ref_name = "SignUpAnswer"


SIGNED_UP = _(
    "Check your e-mail for the next step. A new account gets a 6-digit code: log in, then enter it to "
    "confirm the address."
)


class RegisterApi(APIView):
    """Sign up. The answer is the same whether or not the address already has an account, so it
    tells no one which addresses do: a new account is created and mailed a 6-digit code; the
    owner of an existing account is mailed that someone tried, with a link to reset the password.
    Then log in (`auth/login/`) for a token. While REQUIRE_VERIFIED_EMAIL is on, booking answers
    403 `email_not_verified` until `auth/verify-email/` has accepted the code."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]

    class InputSerializer(Serializer):
        email = EmailStringField(max_length=254)
        password = StringField(min_length=8, max_length=128, write_only=True, trim_whitespace=False)
        full_name = StringField(max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_person_name])
        phone = RegexStringField(
            f"^{PHONE_PATTERN}$",
            max_length=PHONE_MAX_LENGTH,
            error_messages={"invalid": PHONE_MESSAGE},
            help_text="An Indonesian mobile number, e.g. 081234567890 or +6281234567890.",
        )

        class Meta:
            ref_name = "RegisterInput"

    @extend_schema(
        operation_id="auth_register",
        request=InputSerializer,
        responses={
            202: OpenApiResponse(
                SignUpAnswerSerializer,
                description="Accepted, whether or not the address already has an account; the next step is "
                "in the e-mail. No token: log in with `auth/login/`.",
            ),
            **error_responses(400, 429),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        register_user(
            **data.validated_data,
            reset_url=request.build_absolute_uri(reverse("accounts:password_reset")),
            language=translation.get_language() or "id",
            address=request.META.get("REMOTE_ADDR"),
        )
        return Response({"detail": str(SIGNED_UP)}, status=status.HTTP_202_ACCEPTED)


class LoginApi(APIView):
    """Exchange e-mail and password for a new token (one per device). Repeated failures lock
    the account and address out for a while (django-axes): 429 `throttled`."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthRateThrottle]

    class InputSerializer(Serializer):
        email = EmailStringField(max_length=254)
        password = StringField(max_length=128, write_only=True, trim_whitespace=False)

        class Meta:
            ref_name = "LoginInput"

    @extend_schema(
        operation_id="auth_login",
        request=InputSerializer,
        responses={
            200: TokenOutputSerializer,
            **error_responses(
                400,
                429,
                e400="`invalid` (malformed input) or `invalid_credentials` (wrong e-mail or password).",
                e429="`throttled`: too many failed logins for this address, or more logins this second than the "
                "portal checks passwords for (`Retry-After: 1`), refused before the password is checked.",
            ),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check_password_capacity()
        # Through django-axes (the first backend): it counts failures and refuses locked-out logins.
        http_request = request._request
        user = authenticate(
            request=http_request, email=data.validated_data["email"].lower(), password=data.validated_data["password"]
        )
        if getattr(http_request, "axes_locked_out", False):
            # Answered here in the API's error shape instead of by AxesMiddleware's page.
            http_request.axes_locked_out = False
            cool_off = get_cool_off(http_request)
            raise LoginLockedOut(minutes=int(cool_off.total_seconds() // 60) if cool_off else 15)
        if user is None:
            raise InvalidCredentials()
        return Response({"token": create_api_token(user=user)})


class LogoutApi(APIView):
    """Revoke the token this request was made with. Other devices' tokens stay valid."""

    @extend_schema(
        operation_id="auth_logout",
        request=None,
        responses={204: OpenApiResponse(description="The token is revoked."), **error_responses(401, 429)},
    )
    def post(self, request):
        revoke_api_token(token_id=request.auth.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifiedOutputSerializer(Serializer):
    email_verified = serializers.BooleanField()

    class Meta:
        ref_name = "EmailVerified"


class VerifyEmailApi(APIView):
    """Confirm the account's e-mail address with the 6-digit code from the mail."""

    throttle_classes = [AuthRateThrottle]

    class InputSerializer(Serializer):
        code = RegexStringField(r"^[0-9]{6}$", max_length=6)

        class Meta:
            ref_name = "VerifyEmailInput"

    @extend_schema(
        operation_id="auth_verify_email",
        request=InputSerializer,
        responses={
            200: EmailVerifiedOutputSerializer,
            **error_responses(
                400,
                401,
                429,
                e400="`invalid`: the code is malformed, wrong or expired.",
                e429="`throttled`: too many requests, 5 wrong tries of this code (ask for a new one), or "
                "`VERIFICATION_WRONG_CODES_PER_DAY` wrong codes of this account in 24 hours; `Retry-After` "
                "says how many seconds to wait.",
            ),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not request.user.email_verified:
            verify_email(user=request.user, code=data.validated_data["code"])
        return Response({"email_verified": True})


class ResendVerificationCodeApi(APIView):
    """Mail a new code (the previous ones stop working)."""

    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        operation_id="auth_verify_email_resend",
        request=None,
        responses={
            200: EmailVerifiedOutputSerializer,
            **error_responses(
                401,
                429,
                e429="`throttled`: a code was sent less than a minute ago, or the account entered too many "
                "wrong codes in 24 hours; `Retry-After` says how many seconds to wait.",
            ),
        },
    )
    def post(self, request):
        if not request.user.email_verified:
            send_verification_code(user=request.user)
        return Response({"email_verified": request.user.email_verified})
