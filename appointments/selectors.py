from .models import Application, Payment


def account_applications(*, account):
    return Application.objects.filter(account=account).select_related("slot__office").order_by("-created_at")


def payment_recorded(*, transaction_id: str) -> bool:
    return Payment.objects.filter(transaction_id=transaction_id).exists()
