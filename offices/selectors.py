from dataclasses import dataclass

from .models import Office, Region


@dataclass
class RegionOffices:
    region: Region
    offices: list[Office]


KIND_ORDER = {Office.Kind.KANIM: 0, Office.Kind.ULP: 1, Office.Kind.UKK: 2, Office.Kind.MPP: 3}


def offices_by_region() -> list[RegionOffices]:
    """Active offices grouped by region (by name), each Kanim followed by its outlets. Two queries."""
    offices = list(
        Office.objects.filter(is_active=True).select_related("region", "parent").order_by("region__name", "name")
    )
    groups: dict[int, RegionOffices] = {}
    for office in offices:
        groups.setdefault(office.region_id, RegionOffices(region=office.region, offices=[])).offices.append(office)

    def position(office: Office):
        kanim = office.parent if office.parent_id else office
        return (kanim.name, 0 if not office.parent_id else 1, KIND_ORDER.get(office.kind, 9), office.name)

    for group in groups.values():
        group.offices.sort(key=position)
    return list(groups.values())


def active_office(*, code: str) -> Office | None:
    return Office.objects.filter(code=code, is_active=True).select_related("region", "parent").first()


def bookable_offices(*, region_code: str | None = None):
    offices = Office.objects.filter(is_active=True).select_related("region").order_by("region__name", "name")
    if region_code:
        offices = offices.filter(region__code=region_code)
    return offices
