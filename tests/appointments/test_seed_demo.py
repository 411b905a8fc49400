import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from offices.models import Office, StaffMembership
from quotas.models import Slot


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_complete(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", "--days", "14", stdout=out)
    counts = (Office.objects.count(), Slot.objects.count(), User.objects.count(), StaffMembership.objects.count())
    call_command("seed_demo", "--days", "14", stdout=io.StringIO())
    assert (
        Office.objects.count(),
        Slot.objects.count(),
        User.objects.count(),
        StaffMembership.objects.count(),
    ) == counts

    assert "Regions..." in out.getvalue() and "sessions kanim-surabaya" in out.getvalue()
    jatim_kanim = Office.objects.filter(region__code="JATIM", kind="kanim")
    assert jatim_kanim.count() == 9
    assert jatim_kanim.get(code="kanim-surabaya").office_class == Office.OfficeClass.KHUSUS_TPI
    assert jatim_kanim.filter(office_class=Office.OfficeClass.II_NON_TPI).count() == 5
    assert Office.objects.exclude(kind="kanim").filter(parent__isnull=True).count() == 0
    assert {o.timezone_label for o in Office.objects.all()} == {"WIB", "WITA", "WIT"}
    assert Slot.objects.filter(date__week_day=7).exists()  # some Saturday service (Django: 7 = Saturday)
    assert all(slot.taken == 0 for slot in Slot.objects.all()[:50])
    officer = StaffMembership.objects.get(role="officer")
    assert officer.office.code == "kanim-kediri" and officer.user.is_staff
    assert StaffMembership.objects.get(role="regional").region.code == "JATIM"
    assert User.objects.filter(is_superuser=True).count() == 1


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
    # Where a new user finds the e-mails (the console) and the worker's log, as `make run` sends them.
    assert "Every e-mail (verification codes, bookings, payments) is printed in this console." in out.getvalue()
    assert ".celery/worker.log" in out.getvalue()
