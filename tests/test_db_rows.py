"""The hot path's written-out queries (mpaspor/db.py) load what the ORM would load."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from accounts.selectors import active_api_token
from accounts.services import create_api_token, hash_token_key
from appointments.services.booking import bookable_slot_or_refusal
from quotas.models import Slot
from tests.factories import ApplicationFactory, SlotFactory, UserFactory


def field_values(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.mark.django_db
def test_the_slot_row_is_the_orm_slot_with_its_office(office):
    slot = SlotFactory(office=office, allowed_kinds=["new", "replacement_expired"], capacity=3)
    ApplicationFactory(slot=slot, status="pending_payment", payment_due_at=timezone.now() - dt.timedelta(minutes=1))
    loaded = bookable_slot_or_refusal(slot_id=slot.pk, now=timezone.now())
    expected = Slot.objects.select_related("office").get(pk=slot.pk)
    assert field_values(loaded) == field_values(expected)
    assert field_values(loaded.office) == field_values(expected.office)
    assert loaded.allowed_kinds == ["new", "replacement_expired"]  # JSON converted, not a string
    assert loaded.has_overdue_holds is True and not loaded._state.adding
    loaded.save(update_fields=["capacity"])  # a stored row, as the ORM's


@pytest.mark.django_db
def test_the_token_row_is_the_orm_token_with_its_user():
    key = create_api_token(user=UserFactory())
    loaded = active_api_token(key_hash=hash_token_key(key))
    expected = ApiToken.objects.select_related("user").get(key_hash=hash_token_key(key))
    assert field_values(loaded) == field_values(expected)
    assert field_values(loaded.user) == field_values(expected.user)
    assert active_api_token(key_hash=hash_token_key(key + "x")) is None


@pytest.mark.django_db(transaction=True)
def test_prepared_once_per_connection_and_again_after_a_reconnect():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    key = create_api_token(user=UserFactory())

    def prepared():
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_prepared_statements")
            return [name for (name,) in cursor.fetchall()]

    connection.close()  # a new session: the first lookup prepares
    with CaptureQueriesContext(connection) as queries:
        assert active_api_token(key_hash=hash_token_key(key)) is not None
        assert active_api_token(key_hash=hash_token_key(key)) is not None
    # the PREPARE is connection set-up, not one of the request's queries
    assert [q["sql"].split(" (")[0] for q in queries.captured_queries] == ["EXECUTE active_api_token"] * 2
    assert prepared().count("active_api_token") == 1
    connection.close()  # as after a dropped connection: the new session has nothing prepared
    assert active_api_token(key_hash=hash_token_key(key)) is not None
    assert prepared() == ["active_api_token"]


@pytest.mark.django_db(transaction=True)
def test_a_statement_prepared_before_a_column_changed_type_is_prepared_again():
    """A migration that changes a column a prepared statement returns makes PostgreSQL refuse
    the statement ("cached plan must not change result type"): it is prepared again."""
    from django.db import connection

    key = create_api_token(user=UserFactory())
    assert active_api_token(key_hash=hash_token_key(key)) is not None  # prepared
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE accounts_user ALTER COLUMN full_name TYPE varchar(200)")
    try:
        assert active_api_token(key_hash=hash_token_key(key)).user.full_name
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE accounts_user ALTER COLUMN full_name TYPE varchar(150)")
        connection.close()


@pytest.mark.django_db
def test_the_one_statement_refuses_a_value_too_long_as_an_insert_does(office):
    """Its placeholders are cast to `varchar`, not `varchar(n)`, which would cut the value short."""
    from django.db import DataError, transaction

    from appointments.models import Application, ApplicationEvent
    from quotas.services.claims import claim_places

    slot = SlotFactory(office=office)
    application = Application(
        booking_code="ABCDE12345",
        slot=slot,
        nik="3571015705900001",
        full_name="Budi",
        birth_date=dt.date(1990, 5, 17),
        sex="M",
        phone="0" * 25,
        passport_type="regular",
        validity_years=5,
        kind="new",
        amount=350_000,
        billing_code="123456789012345",
    )
    with pytest.raises(DataError), transaction.atomic():
        claim_places(
            slot_id=slot.pk,
            now=timezone.now(),
            then_insert=[(application, [ApplicationEvent(application=application, to_status="pending_payment")])],
        )
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_the_release_with_its_chosen_sessions_is_the_orms():
    from allocation.exceptions import ReleaseNotFound
    from allocation.models import Release
    from allocation.services.entries import _release_and_choices, release_slots
    from appointments.services.booking import STOCK_CLOSED
    from offices.services import set_type_issued
    from tests.allocation.helpers import open_release

    release, slots = open_release(places=(2, 3))
    elsewhere = open_release(places=(2,))[1][0]  # another office's session: no choice of this release
    now = timezone.now()
    choices = [slots[1].pk, elsewhere.pk, slots[0].pk]
    loaded, chosen = _release_and_choices(release_id=release.pk, choices=choices, passport_types=["regular"], now=now)
    expected = Release.objects.select_related("office").get(pk=release.pk)
    assert field_values(loaded) == field_values(expected)
    assert field_values(loaded.office) == field_values(expected.office)
    orm = {slot.pk: field_values(slot) for slot in release_slots(expected).filter(pk__in=choices, starts_at__gt=now)}
    assert {slot.pk: field_values(slot) for slot, _stock in chosen} == orm and len(orm) == 2
    assert all(slot.office is loaded.office and stock is None for slot, stock in chosen)  # no stock kept

    set_type_issued(office=release.office, passport_type="regular", issued=True)
    _release, chosen = _release_and_choices(release_id=release.pk, choices=choices, passport_types=["regular"], now=now)
    assert [stock for _slot, stock in chosen] == [1, 1]  # kept, open
    set_type_issued(office=release.office, passport_type="electronic", issued=False)
    _release, chosen = _release_and_choices(
        release_id=release.pk, choices=choices, passport_types=["electronic", "regular"], now=now
    )
    assert [stock for _slot, stock in chosen] == [STOCK_CLOSED, STOCK_CLOSED]

    assert _release_and_choices(release_id=release.pk, choices=[elsewhere.pk], passport_types=[], now=now)[1] == []
    with pytest.raises(ReleaseNotFound):
        _release_and_choices(release_id=release.pk + 1000, choices=[slots[0].pk], passport_types=[], now=now)
