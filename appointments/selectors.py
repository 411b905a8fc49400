from .exceptions import ApplicationNotFound
from .models import Application


def account_applications(*, account):
    return Application.objects.filter(account=account).select_related("slot__office").order_by("-created_at")


def account_application(*, account, booking_code: str) -> Application:
    """One of the account's own applications; another account's is as absent as a missing one."""
    application = account_applications(account=account).filter(booking_code=booking_code).first()
    if application is None:
        raise ApplicationNotFound()
    return application
