import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import User
from appointments.models import ACTIVE_STATUSES, Application, PriorityGroup, Status
from appointments.nik import nik_problem
from appointments.services.booking import age_on
from appointments.services.reconciliation import reconcile_slot_counts
from offices.models import Office, PassportStock, StaffMembership, StockReceipt, StockUse
from offices.selectors import bookable_offices
from quotas.models import Pool, SearchTally, Slot
from reports.capacity import office_capacities
from reports.models import OfficeDay

FINAL_STATUSES = {Status.COLLECTED, Status.REJECTED, Status.NO_SHOW, Status.CANCELLED, Status.EXPIRED}


def world_counts() -> dict:
    return {
        "offices": Office.objects.count(),
        "slots": Slot.objects.count(),
        "taken": sorted(Slot.objects.values_list("pk", "taken")),
        "users": User.objects.count(),
        "memberships": StaffMembership.objects.count(),
        "applications": Application.objects.count(),
        "searches": SearchTally.objects.count(),
        "office_days": sorted(OfficeDay.objects.values_list("office_id", "date", "computed_at", "booked", "paid")),
        "book_stock": sorted(PassportStock.objects.values_list("office__code", "passport_type", "issued", "on_hand")),
        "book_receipts": StockReceipt.objects.count(),
        "books_used": StockUse.objects.count(),
    }


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_complete(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", "--days", "14", "--history-days", "10", stdout=out)
    counts = world_counts()
    call_command("seed_demo", "--days", "14", "--history-days", "10", stdout=io.StringIO())
    assert world_counts() == counts

    assert "Regions..." in out.getvalue() and "sessions kanim-surabaya" in out.getvalue()
    jatim_kanim = Office.objects.filter(region__code="JATIM", kind="kanim")
    assert jatim_kanim.count() == 9
    assert jatim_kanim.get(code="kanim-surabaya").office_class == Office.OfficeClass.KHUSUS_TPI
    assert jatim_kanim.filter(office_class=Office.OfficeClass.II_NON_TPI).count() == 5
    assert Office.objects.exclude(kind="kanim").filter(parent__isnull=True).count() == 0
    assert {o.timezone_label for o in Office.objects.all()} == {"WIB", "WITA", "WIT"}
    assert Slot.objects.filter(date__week_day=7).exists()  # some Saturday service (Django: 7 = Saturday)
    officer = StaffMembership.objects.get(role="officer")
    assert officer.office.code == "kanim-kediri" and officer.user.is_staff
    assert StaffMembership.objects.get(role="head").office.code == "kanim-kediri"
    assert StaffMembership.objects.get(role="regional").region.code == "JATIM"
    assert User.objects.filter(is_superuser=True).count() == 1
    # Kediri's Saturday walk-ins (30 places, 08:00-10:00) and Surabaya's same-day places (35 a day).
    kediri_saturdays = Slot.objects.filter(office__code="kanim-kediri", date__week_day=7)
    assert kediri_saturdays.exists()
    assert {(s.pool, s.capacity, f"{s.local_start:%H:%M}-{s.local_end:%H:%M}") for s in kediri_saturdays} == {
        (Pool.WALK_IN, 30, "08:00-10:00")
    }
    express = Slot.objects.filter(office__code="kanim-surabaya", pool=Pool.EXPRESS)
    assert express.exists() and set(express.values_list("capacity", flat=True)) == {35}
    assert Application.objects.filter(slot__office__code="kanim-surabaya", express=True).exists()
    # Passport books: every office keeps both types, except the Sidoarjo booth, which prints no
    # e-paspor (the office list's filter hides it); Kediri is short of e-paspor books.
    stock = {(s.office.code, s.passport_type): s for s in PassportStock.objects.select_related("office")}
    assert len(stock) == 2 * Office.objects.count()
    assert [key for key, s in stock.items() if not s.issued] == [("mpp-sidoarjo", "electronic")]
    assert stock[("kanim-kediri", "electronic")].on_hand == 6
    assert all(s.on_hand >= 100 for key, s in stock.items() if s.issued and key != ("kanim-kediri", "electronic"))
    assert StockUse.objects.exists() and all(s.outlook_at for s in stock.values() if s.issued)
    assert "mpp-sidoarjo" not in {o.code for o in bookable_offices(passport_type="electronic")}
    check_lived_in_and_consistent()


def check_lived_in_and_consistent():
    """Every page has something real to show: history with all outcomes, today's sessions,
    staff and counters, searches and the daily figures; and the rows agree with each other."""
    now = timezone.now()
    kediri = Office.objects.get(code="kanim-kediri")
    today = now.astimezone(kediri.tzinfo).date()

    # Staff and counters for the capacity evaluation.
    assert not Office.objects.filter(Q(staff_count=0) | Q(counter_count=0) | Q(resources__isnull=True)).exists()
    # Timed steps in the history: the capacity model names a bottleneck at every office.
    offices = list(Office.objects.all())
    today = timezone.localdate()
    capacities = office_capacities(offices=offices, date_from=today - dt.timedelta(days=28), date_to=today)
    assert all(c.bottleneck is not None and c.wait_minutes for c in capacities.values())
    assert len({c.bottleneck.step for c in capacities.values()}) > 1
    # Sessions today (in each office's zone), started ones included, on a day Kediri serves.
    if (
        kediri.quota_rules.filter(weekday=today.weekday()).exists()
        and not kediri.slots.filter(date=today, capacity=0).exists()
    ):
        assert Slot.objects.filter(office=kediri, date=today).exists()
    # Every outcome occurs in the past; sessions that are over carry final statuses only.
    past = Application.objects.filter(slot__ends_at__lte=now)
    assert set(past.values_list("status", flat=True)) == FINAL_STATUSES
    assert past.filter(walk_in=True).exists()
    # A slot's places taken equal the applications holding one: no drift to correct.
    assert reconcile_slot_counts(since=today - dt.timedelta(days=30)) == 0
    # The person's data hold: NIK against birth date and sex, priority group against age and sex.
    for application in Application.objects.order_by("?")[:300]:
        assert nik_problem(application.nik, birth_date=application.birth_date, sex=application.sex) is None
        age = age_on(application.birth_date, application.slot.date)
        assert {
            PriorityGroup.ELDERLY: age > 60,
            PriorityGroup.CHILD: age < 5,
            PriorityGroup.PREGNANT: application.sex == "F" and age >= 17,
            PriorityGroup.DISABLED: True,
            "": not application.walk_in,
        }[application.priority_group]
    assert not Application.objects.filter(walk_in=True).exclude(slot__pool=Pool.PRIORITY).exists()
    # At most five people with active applications per account.
    assert (
        Application.objects.filter(status__in=ACTIVE_STATUSES)
        .values("account")
        .annotate(people=Count("nik", distinct=True))
        .filter(people__gt=5)
        .count()
        == 0
    )
    # Realistic proportions: most people who kept their place came; some did not, some never paid.
    kept = past.exclude(status__in=[Status.CANCELLED, Status.EXPIRED]).filter(walk_in=False)
    no_show_rate = kept.filter(status=Status.NO_SHOW).count() / kept.count()
    assert 0.03 < no_show_rate < 0.15
    assert past.filter(status=Status.EXPIRED, paid_at__isnull=True).exists()
    assert past.filter(
        status=Status.COLLECTED, paid_at__gt=F("created_at"), checked_in_at__gte=F("slot__starts_at")
    ).exists()
    # Searches and the daily figures, computed for the history.
    assert SearchTally.objects.filter(office=kediri, day=today - dt.timedelta(days=1), searches__gt=0).exists()
    figures = OfficeDay.objects.filter(office__region__code="JATIM", date__lt=today)
    assert figures.filter(paid__gt=0, checked_in__gt=0, no_show__gt=0, searches__gt=0).exists()
    assert figures.filter(walk_ins__gt=0).exists()
    # The demo applicant has a past and people on the account.
    applicant = User.objects.get(email="pemohon@mpaspor.example")
    assert applicant.applicants.count() == 2 and applicant.applications.exists()


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Office.objects.exists()


def test_demo_banner_prints_the_address_and_logins():
    out = io.StringIO()
    call_command("demo_banner", "--url", "http://127.0.0.1:8011", stdout=out)
    assert "http://127.0.0.1:8011/" in out.getvalue()
    assert "pemohon@mpaspor.example" in out.getvalue() and "Demo-Pemohon-2026" in out.getvalue()
    assert "kepala.kediri@mpaspor.example" in out.getvalue()
