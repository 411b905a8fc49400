"""django-axes' view of who is logging in (settings.AXES_USERNAME_CALLABLE).

Axes would look for the key USERNAME_FIELD ("email") in the credentials, but Django's
AuthenticationForm passes the e-mail as `username`, and an API login may pass `email`: without
this every failure was recorded for username None, so the lockout was per address only and a
correct password still got in. E-mails are compared lower-cased, as the user manager stores them.
"""


def lockout_username(request, credentials=None) -> str | None:
    for source in (credentials or {}, getattr(request, "data", None) or {}, getattr(request, "POST", None) or {}):
        for key in ("username", "email"):
            value = source.get(key) if hasattr(source, "get") else None
            if isinstance(value, str) and value.strip():
                return value.strip().lower()
    return None
