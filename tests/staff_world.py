"""A small world of offices and staff for the scoping tests (import the `world` fixture).

Jawa Timur: Kanim Kediri; Kanim Malang with its ULP outlet. Bali: Kanim Denpasar (WITA).
Staff: a Kediri officer and head, a Malang head, the Jatim regional division, national (DJI),
a superuser, and an applicant who is no staff at all.
"""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from offices.models import Office, StaffMembership
from tests.factories import (
    ApplicationFactory,
    OfficeFactory,
    RegionFactory,
    SlotFactory,
    StaffMembershipFactory,
    UserFactory,
)

Role = StaffMembership.Role


def today_start(office) -> dt.datetime:
    """The start of the current hour in the office's zone: always today, already started."""
    return timezone.now().astimezone(office.tzinfo).replace(minute=0, second=0, microsecond=0)


def today_slot(office, *, pool="online", capacity=10, hours=2, start=None):
    start = start or today_start(office)
    return SlotFactory(
        office=office,
        pool=pool,
        capacity=capacity,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        date=start.date(),
    )


@dataclass
class World:
    kediri: Office
    malang: Office
    malang_ulp: Office
    denpasar: Office
    kediri_officer: object
    kediri_head: object
    malang_head: object
    malang_officer: object
    jatim_regional: object
    bali_regional: object
    national: object
    superuser: object
    applicant: object
    kediri_slot: object
    malang_slot: object
    ulp_slot: object
    denpasar_slot: object
    kediri_app: object
    malang_app: object
    ulp_app: object
    denpasar_app: object


def staff(role, *, office=None, region=None, email):
    user = UserFactory(email=email, is_staff=True)
    StaffMembershipFactory(user=user, role=role, office=office, region=region)
    return user


@pytest.fixture
def world(db):
    jatim = RegionFactory(code="JATIM", name="Jawa Timur", province_code="35")
    bali = RegionFactory(code="BALI", name="Bali", province_code="51")
    kediri = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri", region=jatim)
    malang = OfficeFactory(code="kanim-malang", name="Kantor Imigrasi Malang", region=jatim, city="Malang")
    malang_ulp = OfficeFactory(
        code="ulp-malang",
        name="ULP Malang Town Square",
        kind=Office.Kind.ULP,
        office_class="",
        parent=malang,
        region=jatim,
        city="Malang",
    )
    denpasar = OfficeFactory(
        code="kanim-denpasar",
        name="Kantor Imigrasi Denpasar",
        region=bali,
        city="Denpasar",
        timezone="Asia/Makassar",
    )
    superuser = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    slots = {o.code: SlotFactory(office=o, capacity=10) for o in (kediri, malang, malang_ulp, denpasar)}
    apps = {code: ApplicationFactory(slot=slot, full_name=f"Pemohon {code}") for code, slot in slots.items()}
    return World(
        kediri=kediri,
        malang=malang,
        malang_ulp=malang_ulp,
        denpasar=denpasar,
        kediri_officer=staff(Role.OFFICER, office=kediri, email="petugas.kediri@example.com"),
        kediri_head=staff(Role.HEAD, office=kediri, email="kepala.kediri@example.com"),
        malang_head=staff(Role.HEAD, office=malang, email="kepala.malang@example.com"),
        malang_officer=staff(Role.OFFICER, office=malang, email="petugas.malang@example.com"),
        jatim_regional=staff(Role.REGIONAL, region=jatim, email="kanwil.jatim@example.com"),
        bali_regional=staff(Role.REGIONAL, region=bali, email="kanwil.bali@example.com"),
        national=staff(Role.NATIONAL, email="dji@example.com"),
        superuser=superuser,
        applicant=UserFactory(email="pemohon.biasa@example.com"),
        kediri_slot=slots["kanim-kediri"],
        malang_slot=slots["kanim-malang"],
        ulp_slot=slots["ulp-malang"],
        denpasar_slot=slots["kanim-denpasar"],
        kediri_app=apps["kanim-kediri"],
        malang_app=apps["kanim-malang"],
        ulp_app=apps["ulp-malang"],
        denpasar_app=apps["kanim-denpasar"],
    )
