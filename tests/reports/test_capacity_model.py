"""The capacity model against worked examples, and the counter's step records it reads."""

import datetime as dt

import pytest

from appointments.models import Status, Step, StepRecord
from appointments.selectors import printing_recorded
from appointments.services.steps import finish_step, start_step
from mpaspor.errors import DomainError
from offices.models import OfficeResources
from reports.capacity import office_capacities, step_capacity
from tests.factories import ApplicationFactory, OfficeFactory, SlotFactory, UserFactory

WIB = dt.timezone(dt.timedelta(hours=7))
DAY = dt.date(2026, 3, 2)


def test_the_worked_example_of_the_issue():
    # 3 biometric stations, 4 operators, 420 open minutes, 7.5 minutes each.
    assert step_capacity(stations=3, staff=4, open_minutes=420, median_minutes=7.5) == 168
    # The fewer of stations and staff serves: 4 stations and 3 operators give the same.
    assert step_capacity(stations=4, staff=3, open_minutes=420, median_minutes=7.5) == 168
    # A step with no facility (approval) counts its staff alone; an unmeasured step is unknown.
    assert step_capacity(stations=None, staff=2, open_minutes=420, median_minutes=3) == 280
    assert step_capacity(stations=3, staff=4, open_minutes=420, median_minutes=None) is None
    assert step_capacity(stations=3, staff=0, open_minutes=420, median_minutes=7.5) == 0


def _timed(application, step, minutes, *, at):
    StepRecord.objects.create(
        application=application, step=step, started_at=at, finished_at=at + dt.timedelta(minutes=minutes)
    )


@pytest.mark.django_db
def test_an_office_capacity_is_its_lowest_step_from_measured_medians(django_assert_num_queries):
    office = OfficeFactory(counter_count=4)
    OfficeResources.objects.create(
        office=office,
        verifiers=5,
        biometric_operators=4,
        interviewers=3,
        approvers=2,
        printing_staff=2,
        biometric_stations=3,
        printers=1,
        opens_at=dt.time(8),
        closes_at=dt.time(15),
    )
    slot = SlotFactory(office=office, date=DAY, starts_at=dt.datetime(2026, 3, 2, 8, tzinfo=WIB), capacity=10, taken=0)
    start = dt.datetime(2026, 3, 2, 8, 30, tzinfo=WIB)
    for n, (bio, interview) in enumerate([(7, 10), (7.5, 12), (8, 14)]):
        app = ApplicationFactory(
            slot=slot,
            status=Status.COLLECTED,
            checked_in_at=start,
            called_at=start + dt.timedelta(minutes=10 * (n + 1)),
        )
        _timed(app, Step.DOCUMENT_CHECK, 5, at=start)
        _timed(app, Step.BIOMETRICS, bio, at=start)
        _timed(app, Step.INTERVIEW, interview, at=start)
        _timed(app, Step.PRINTING, 2, at=start)
    # An unfinished step does not count.
    StepRecord.objects.create(application=app, step=Step.APPROVAL, started_at=start)

    with django_assert_num_queries(3):
        capacity = office_capacities(offices=[office], date_from=DAY, date_to=DAY)[office.pk]
    per_step = {s.step: s.per_day for s in capacity.steps}
    # document check: min(4 counters, 5 verifiers) x 420 / 5 = 336; photo: 3 x 420 / 7.5 = 168;
    # interview: min(4, 3) x 420 / 12 = 105; printing: 1 printer x 420 / 2 = 210; approval and
    # collection never timed.
    assert per_step == {
        "document_check": 336,
        "biometrics": 168,
        "interview": 105,
        "approval": None,
        "printing": 210,
        "collection": None,
    }
    assert capacity.bottleneck.step == "interview" and capacity.per_day == 105
    assert capacity.wait_minutes == 20  # 10, 20, 30 minutes from check-in to the call


@pytest.mark.django_db
def test_an_office_without_staff_and_facilities_has_no_capacity():
    office = OfficeFactory(counter_count=2)
    capacity = office_capacities(offices=[office], date_from=DAY, date_to=DAY)[office.pk]
    assert capacity.per_day is None and capacity.bottleneck is None


@pytest.mark.django_db
def test_steps_are_recorded_with_who_and_when_once_each():
    office = OfficeFactory()
    app = ApplicationFactory(slot=SlotFactory(office=office), status=Status.IN_PROCESS)
    officer = UserFactory()
    t0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
    start_step(application_id=app.pk, office_id=office.pk, step=Step.PRINTING, actor=officer, now=t0)
    assert not printing_recorded(application_id=app.pk)
    record = finish_step(
        application_id=app.pk, office_id=office.pk, step=Step.PRINTING, actor=officer, now=t0 + dt.timedelta(minutes=4)
    )
    assert (record.started_by, record.finished_by, record.minutes) == (officer, officer, 4)
    assert printing_recorded(application_id=app.pk)
    with pytest.raises(DomainError, match="sudah dimulai"):
        start_step(application_id=app.pk, office_id=office.pk, step=Step.PRINTING, actor=officer, now=t0)
    with pytest.raises(DomainError, match="sudah selesai"):
        finish_step(application_id=app.pk, office_id=office.pk, step=Step.PRINTING, actor=officer)
    with pytest.raises(DomainError, match="mulai dahulu"):
        finish_step(application_id=app.pk, office_id=office.pk, step=Step.INTERVIEW, actor=officer)
    assert StepRecord.objects.count() == 1


@pytest.mark.django_db
def test_no_step_for_an_application_not_at_the_office_or_of_another_office():
    office = OfficeFactory()
    booked = ApplicationFactory(slot=SlotFactory(office=office), status=Status.BOOKED)
    with pytest.raises(DomainError, match="tidak sedang di kantor"):
        start_step(application_id=booked.pk, office_id=office.pk, step=Step.DOCUMENT_CHECK)
    with pytest.raises(DomainError):
        start_step(application_id=booked.pk, office_id=OfficeFactory().pk, step=Step.DOCUMENT_CHECK)
    with pytest.raises(DomainError):
        start_step(application_id=booked.pk, office_id=office.pk, step="coffee")
    assert not StepRecord.objects.exists()
