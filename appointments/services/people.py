"""The people an account applies for, and the one check of a person's data.

`check_applicant` is the rule for a person's data wherever it comes in: the booking form, the
API's serializer, the people form, the counter's walk-in form and every service that stores a
person. Forms and serializers call it to show the error at its field."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.validators import person_name_problem, phone_problem

from ..exceptions import ApplicantLimitReached, InvalidInput
from ..models import ACTIVE_STATUSES, Applicant, Sex
from ..nik import nik_problem

EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class ApplicantData:
    nik: str
    full_name: str
    birth_date: dt.date
    sex: str
    phone: str = ""
    married: bool = False  # as declared; matters only under 17 (the 10-year passport)

    def as_fields(self) -> dict:
        """The person's data as an Application's fields (kept on it as given at booking)."""
        return dict(vars(self))  # plain values: asdict's deep copy of each cost more than the rest


def check_applicant(applicant: ApplicantData) -> None:
    """Refuse malformed, oversized or wrong-type personal data, and a NIK that does not match the
    birth date and sex, with an InvalidInput naming the field; the phone is optional."""
    problem = person_name_problem(applicant.full_name)
    if problem:
        raise InvalidInput(problem, field="full_name")
    birth_date = applicant.birth_date
    if not isinstance(birth_date, dt.date) or isinstance(birth_date, dt.datetime):
        raise InvalidInput(_("Enter a valid birth date."), field="birth_date")
    if not EARLIEST_BIRTH_DATE <= birth_date <= timezone.localdate():
        raise InvalidInput(_("The birth date must be between 1900 and today."), field="birth_date")
    if applicant.sex not in Sex.values:
        raise InvalidInput(_("Choose the sex as written on the e-KTP."), field="sex")
    if applicant.phone != "":
        problem = phone_problem(applicant.phone)
        if problem:
            raise InvalidInput(problem, field="phone")
    if not isinstance(applicant.married, bool):
        raise InvalidInput(_("Say whether the applicant is married."), field="married")
    problem = nik_problem(applicant.nik, birth_date=birth_date, sex=applicant.sex)
    if problem:
        raise InvalidInput(problem, field="nik")


def add_applicant(*, account, person: ApplicantData) -> Applicant:
    """List a person the account applies for (the holder or family), at most
    MAX_APPLICANTS_PER_ACCOUNT of them."""
    check_applicant(person)
    limit = settings.MAX_APPLICANTS_PER_ACCOUNT
    with transaction.atomic(durable=True):
        # Lock the account's row so two tabs cannot both add the fifth person.
        get_user_model().objects.select_for_update().filter(pk=account.pk).first()
        if Applicant.objects.filter(account=account).count() >= limit:
            raise ApplicantLimitReached(limit=limit)
        try:
            with transaction.atomic():
                return Applicant.objects.create(account=account, **person.as_fields())
        except IntegrityError as exc:
            raise InvalidInput(_("This person is already on your list."), field="nik") from exc


def remove_applicant(*, account, applicant_id: int) -> None:
    """Take a person off the account's list; their applications stay (with their own data)."""
    with transaction.atomic(durable=True):
        person = Applicant.objects.select_for_update().filter(account=account, pk=applicant_id).first()
        if person is None:
            raise InvalidInput(_("No such person on your list."))
        if person.applications.filter(status__in=ACTIVE_STATUSES).exists():
            raise InvalidInput(_("This person has an active application; cancel or finish it first."))
        person.delete()
