import datetime as dt

import pytest

from appointments.models import Fee
from offices.models import StaffMembership
from tests.factories import SlotFactory, StaffMembershipFactory, UserFactory, book_one


def book(account, slot):
    return book_one(account=account, slot_id=slot.pk)


@pytest.mark.django_db
def test_new_tariff_changes_new_bookings_not_old_ones(office, applicant_user):
    slot = SlotFactory(office=office, capacity=5)
    before = book(applicant_user, slot)
    assert before.amount == 350_000

    Fee.objects.create(item=Fee.Item.REGULAR_5, amount=400_000, effective_from=slot.date)
    after = book(UserFactory(), slot)

    before.refresh_from_db()
    assert (before.amount, after.amount) == (350_000, 400_000)
    # a tariff that takes effect after the visit date does not apply to it
    Fee.objects.create(item=Fee.Item.REGULAR_5, amount=999_000, effective_from=slot.date + dt.timedelta(days=1))
    assert book(UserFactory(), slot).amount == 400_000


@pytest.fixture
def national(db):
    return StaffMembershipFactory(role=StaffMembership.Role.NATIONAL, office=None).user


@pytest.mark.django_db
class TestFeeAdmin:
    def test_national_admin_adds_a_tariff(self, client, national):
        client.force_login(national)
        answer = client.post(
            "/admin/appointments/fee/add/",
            {"item": "electronic_10", "amount": "1000000", "effective_from": "2030-01-01"},
        )
        assert answer.status_code == 302, answer.content[:500]
        assert Fee.objects.get(item="electronic_10", effective_from=dt.date(2030, 1, 1)).amount == 1_000_000

    def test_tariff_in_force_cannot_be_edited_or_deleted(self, client, national):
        client.force_login(national)
        fee = Fee.objects.get(item="regular_5", effective_from=dt.date(2024, 12, 1))
        client.post(
            f"/admin/appointments/fee/{fee.pk}/change/",
            {"item": "regular_5", "amount": "1", "effective_from": "2024-12-01"},
        )
        assert client.post(f"/admin/appointments/fee/{fee.pk}/delete/", {"post": "yes"}).status_code == 403
        fee.refresh_from_db()
        assert fee.amount == 350_000

    @pytest.mark.parametrize("role", ["officer", "head", "regional", "plain_staff"])
    def test_other_staff_may_read_but_not_add_fees(self, client, office, role):
        if role == "plain_staff":
            user = UserFactory(is_staff=True)
        elif role == "regional":
            user = StaffMembershipFactory(role=role, office=None, region=office.region).user
        else:
            user = StaffMembershipFactory(role=role, office=office).user
        client.force_login(user)
        # Office staff tell applicants the fees, so they read them; a staff flag alone is not enough.
        assert client.get("/admin/appointments/fee/").status_code == (403 if role == "plain_staff" else 200)
        answer = client.post(
            "/admin/appointments/fee/add/", {"item": "electronic_10", "amount": "1", "effective_from": "2030-01-01"}
        )
        assert answer.status_code == 403
        assert not Fee.objects.filter(amount=1).exists()

    def test_superuser_may(self, client):
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        assert client.get("/admin/appointments/fee/").status_code == 200
