from .models import Application


def account_applications(*, account):
    return Application.objects.filter(account=account).select_related("slot__office").order_by("-created_at")
