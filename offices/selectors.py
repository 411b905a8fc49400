from .models import Office


def bookable_offices(*, region_code: str | None = None):
    offices = Office.objects.filter(is_active=True).select_related("region").order_by("region__name", "name")
    if region_code:
        offices = offices.filter(region__code=region_code)
    return offices
