import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Subquery
from django.utils import formats
from django.utils.translation import gettext as _

from .exceptions import PassportTypeUnavailable
from .models import Office, PassportStock, PassportType, Region, StockReceipt
from .stock import is_closed


@dataclass
class RegionOffices:
    region: Region
    offices: list[Office]


KIND_ORDER = {Office.Kind.KANIM: 0, Office.Kind.ULP: 1, Office.Kind.UKK: 2, Office.Kind.MPP: 3}


def issuing(offices, passport_type: str | None):
    """`offices` without those that do not issue `passport_type` (all of them without a type)."""
    if not passport_type:
        return offices
    not_issued = PassportStock.objects.filter(office=OuterRef("pk"), passport_type=passport_type, issued=False)
    return offices.exclude(Exists(not_issued))


def offices_by_region(*, passport_type: str | None = None) -> list[RegionOffices]:
    """Active offices grouped by region (by name), each Kanim followed by its outlets; with
    `passport_type`, only those that issue it. Two queries."""
    offices = list(
        issuing(Office.objects.filter(is_active=True), passport_type)
        .select_related("region", "parent")
        .order_by("region__name", "name")
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
    """The active office `code`, with its types' stock annotated (its pages say what is closed)."""
    offices = Office.objects.filter(code=code, is_active=True).select_related("region", "parent")
    return with_passport_types(offices).first()


def bookable_offices(*, region_code: str | None = None, passport_type: str | None = None):
    """Active offices (of a region, issuing a type), each with its types' stock annotated."""
    offices = Office.objects.filter(is_active=True).select_related("region").order_by("region__name", "name")
    if region_code:
        offices = offices.filter(region__code=region_code)
    return with_passport_types(issuing(offices, passport_type))


@dataclass
class TypeState:
    """What an applicant is told about one passport type at one office."""

    passport_type: str
    label: str
    issued: bool
    closed_from: dt.date | None  # bookings of this type refused from this day on (out of books)

    @property
    def reason(self) -> str:
        """`not_issued`, `out_of_stock` (from `closed_from`) or "" (open)."""
        if not self.issued:
            return "not_issued"
        return "out_of_stock" if self.closed_from else ""


def with_passport_types(offices):
    """`offices` with each type's stock in the same query: `issues_<type>` (False only for a row
    that says so) and `closed_from_<type>`. passport_type_states reads them without a query."""
    annotations = {}
    for value in PassportType.values:
        rows = PassportStock.objects.filter(office=OuterRef("pk"), passport_type=value)
        annotations[f"issues_{value}"] = ~Exists(rows.filter(issued=False))
        annotations[f"closed_from_{value}"] = Subquery(rows.filter(issued=True).values("closed_from")[:1])
    return offices.annotate(**annotations)


def issued_types(office: Office) -> list[str]:
    """The types an office from `with_passport_types` issues."""
    return [value for value in PassportType.values if getattr(office, f"issues_{value}")]


def passport_type_states(*, office: Office) -> list[TypeState]:
    """Each passport type at the office, in the choices' order: from the annotations of
    `with_passport_types` when the office was read with them, else one query."""
    if not hasattr(office, f"issues_{PassportType.values[0]}"):
        office = with_passport_types(Office.objects.filter(pk=office.pk)).get()
    return [
        TypeState(
            passport_type=value,
            label=str(label),
            issued=getattr(office, f"issues_{value}"),
            closed_from=getattr(office, f"closed_from_{value}") if getattr(office, f"issues_{value}") else None,
        )
        for value, label in PassportType.choices
    ]


def type_state_message(state: TypeState) -> str:
    """The applicant's sentence about one type at an office, or "" when it is open."""
    if not state.issued:
        return _("This office does not issue the %(type)s passport.") % {"type": state.label}
    if state.closed_from:
        return _(
            "No bookings for the %(type)s passport from %(date)s: the office's blank books are booked out "
            "until a delivery arrives."
        ) % {"type": state.label, "date": formats.date_format(state.closed_from, "DATE_FORMAT")}
    return ""


def passport_type_refusal(*, office: Office, passport_types: Sequence[str], on: dt.date) -> PassportTypeUnavailable:
    """The refusal of a booking or entry of `passport_types` on `on` at the office, saying which
    type and why: not issued there, or booked out from a day."""
    for stock in PassportStock.objects.filter(office=office, passport_type__in=passport_types).order_by(
        "passport_type"
    ):
        if not is_closed(issued=stock.issued, closed_from=stock.closed_from, on=on):
            continue
        if not stock.issued:
            return PassportTypeUnavailable(
                _("%(office)s does not issue the %(type)s passport. Choose another office or passport type."),
                field="passport_type",
                office=office.name,
                type=stock.get_passport_type_display(),
            )
        return PassportTypeUnavailable(
            _(
                "%(office)s has no blank books of the %(type)s passport left for bookings from %(date)s. "
                "Choose an earlier date, another office or the other passport type."
            ),
            field="passport_type",
            office=office.name,
            type=stock.get_passport_type_display(),
            date=formats.date_format(stock.closed_from, "DATE_FORMAT"),
        )
    return PassportTypeUnavailable(field="passport_type")  # reopened meanwhile: the general text


def check_types_open(*, office: Office, passport_types: Sequence[str], on: dt.date) -> None:
    """Raise PassportTypeUnavailable when one of the types is closed at the office on `on`. One
    query (the waiting list; a booking and a draw entry read it with their slots)."""
    for stock in PassportStock.objects.filter(office=office, passport_type__in=set(passport_types)):
        if is_closed(issued=stock.issued, closed_from=stock.closed_from, on=on):
            raise passport_type_refusal(office=office, passport_types=passport_types, on=on)


@dataclass
class StockLine:
    """One passport type of an office as its staff see it."""

    passport_type: str
    label: str
    stock: PassportStock | None  # None: the office keeps no stock of this type yet


def office_stock(*, office: Office) -> list[StockLine]:
    """The office's stock per passport type, in the choices' order. One query."""
    rows = {s.passport_type: s for s in PassportStock.objects.filter(office=office)}
    return [StockLine(passport_type=v, label=str(label), stock=rows.get(v)) for v, label in PassportType.choices]


def recent_receipts(*, office: Office, limit: int = 10) -> list[StockReceipt]:
    return list(
        StockReceipt.objects.filter(stock__office=office)
        .select_related("stock", "recorded_by")
        .order_by("-received_on", "-recorded_at")[:limit]
    )
