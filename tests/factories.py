"""Factories for the real database (never mocks of the ORM)."""

import datetime as dt

import factory
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from appointments.models import RELEASED_STATUSES, Application, Status
from appointments.nik import build_nik
from appointments.services.booking import PersonBooking, book_applications, new_billing_code, new_booking_code
from appointments.services.people import ApplicantData
from offices.models import Office, Region, StaffMembership
from quotas.models import Slot


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    phone = "081234567890"
    email_verified = True
    password = factory.PostGenerationMethodCall("set_password", "Rahasia-Kuat-123")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "JATIM"
    name = "Jawa Timur"
    province_code = "35"


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office

    code = factory.Sequence(lambda n: f"kanim-{n}")
    name = factory.Sequence(lambda n: f"Kantor Imigrasi {n}")
    kind = Office.Kind.KANIM
    office_class = Office.OfficeClass.II_NON_TPI
    region = factory.SubFactory(RegionFactory)
    city = "Kediri"
    timezone = "Asia/Jakarta"


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory, is_staff=True)
    role = StaffMembership.Role.OFFICER
    office = factory.SubFactory(OfficeFactory)


def _session_start(office_tz: str, days_ahead: int = 3, hour: int = 8) -> dt.datetime:
    tz = dt.timezone(dt.timedelta(hours={"Asia/Jakarta": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9}[office_tz]))
    day = timezone.now().astimezone(tz).date() + dt.timedelta(days=days_ahead)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz)


class SlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Slot

    office = factory.SubFactory(OfficeFactory)
    starts_at = factory.LazyAttribute(lambda o: _session_start(o.office.timezone))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=2))
    date = factory.LazyAttribute(lambda o: o.starts_at.date())
    pool = "online"
    capacity = 10
    taken = 0
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))


_nik_serial = iter(range(1, 10**6))


def applicant_data(*, birth_date=dt.date(1990, 5, 17), sex="M", **overrides) -> ApplicantData:
    """A person with a NIK valid for their birth date and sex; each call a new NIK."""
    values = {
        "nik": build_nik(birth_date=birth_date, sex=sex, serial=next(_nik_serial)),
        "full_name": "Budi Santoso",
        "birth_date": birth_date,
        "sex": sex,
        "phone": "081234567890",
    }
    values.update(overrides)
    return ApplicantData(**values)


class ApplicationFactory(factory.django.DjangoModelFactory):
    """An application straight in the database; the slot's `taken` is kept equal to it."""

    class Meta:
        model = Application

    booking_code = factory.LazyFunction(new_booking_code)
    billing_code = factory.LazyFunction(new_billing_code)
    account = factory.SubFactory(UserFactory)
    nik = factory.LazyFunction(lambda: applicant_data().nik)
    full_name = "Siti Aminah"
    birth_date = dt.date(1990, 5, 17)
    sex = "M"
    passport_type = "regular"
    validity_years = 5
    kind = "new"
    slot = factory.SubFactory(SlotFactory)
    status = Status.BOOKED
    amount = 350_000
    payment_due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=2))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        application = super()._create(model_class, *args, **kwargs)
        if application.status not in RELEASED_STATUSES:
            Slot.objects.filter(pk=application.slot_id).update(taken=F("taken") + 1)
        return application


def book_one(
    *,
    account,
    slot_id,
    applicant=None,
    passport_type="regular",
    validity_years=5,
    kind="new",
    express=False,
    language="id",
    person_id=None,
    now=None,
) -> Application:
    """One person's booking through the booking service (a list of one); a new person by default."""
    person = PersonBooking(
        applicant=applicant or applicant_data(),
        passport_type=passport_type,
        validity_years=validity_years,
        kind=kind,
        express=express,
        person_id=person_id,
    )
    (application,) = book_applications(account=account, slot_id=slot_id, people=[person], language=language, now=now)
    return application
