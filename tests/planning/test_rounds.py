"""Evaluation rounds: who may do what, proposals accepted through quotas, reminders, export."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from appointments.models import Application
from offices.models import OfficeResources
from planning import services
from planning.models import OfficeEvaluation, Proposal, RoundMessage
from planning.selectors import current_resources
from quotas.models import ProgramSession, QuotaRule, ReleaseSchedule, ServiceProgram, Slot

pytestmark = pytest.mark.django_db

RESOURCES = {
    "counters": "3",
    "verifiers": "3",
    "biometric_operators": "4",
    "interviewers": "2",
    "approvers": "1",
    "printing_staff": "2",
    "biometric_stations": "3",
    "printers": "1",
    "opens_at": "08:00",
    "closes_at": "15:00",
    "saturday_ready": "on",
    "note": "Dua petugas cuti panjang.",
}


@pytest.fixture
def jatim_round(world):
    today = timezone.localdate()
    return services.open_round(
        region=world.kediri.region,
        period_from=today - dt.timedelta(days=30),
        period_to=today,
        due_on=today + dt.timedelta(days=7),
        actor=world.jatim_regional,
    )


def evaluation_of(evaluation_round, office):
    return OfficeEvaluation.objects.get(round=evaluation_round, office=office)


def test_the_division_opens_a_round_for_every_office_of_its_region_only(client, world):
    client.force_login(world.jatim_regional)
    today = timezone.localdate()
    data = {"period_from": today - dt.timedelta(days=30), "period_to": today, "due_on": today + dt.timedelta(days=7)}
    response = client.post(reverse("planning:index"), {**data, "region": world.denpasar.region.pk})
    assert response.status_code == 400  # Bali is not the Jatim division's
    response = client.post(reverse("planning:index"), {**data, "region": world.kediri.region.pk})
    assert response.status_code == 302
    offices = set(OfficeEvaluation.objects.values_list("office__code", flat=True))
    assert offices == {"kanim-kediri", "kanim-malang", "ulp-malang"}
    client.force_login(world.kediri_head)
    assert client.post(reverse("planning:index"), {**data, "region": world.kediri.region.pk}).status_code == 403


def test_a_head_submits_only_their_office(client, world, jatim_round):
    kediri = evaluation_of(jatim_round, world.kediri)
    malang = evaluation_of(jatim_round, world.malang)
    client.force_login(world.kediri_head)
    assert client.get(reverse("planning:evaluation", args=[malang.pk])).status_code == 404
    assert client.post(reverse("planning:submit", args=[malang.pk]), RESOURCES).status_code == 404
    response = client.post(reverse("planning:submit", args=[kediri.pk]), RESOURCES)
    assert response.status_code == 302
    kediri.refresh_from_db()
    assert kediri.submitted_at and kediri.submitted_by == world.kediri_head
    assert kediri.stated["biometric_operators"] == 4 and kediri.stated["opens_at"] == "08:00"
    resources = OfficeResources.objects.get(office=world.kediri)
    assert (resources.biometric_stations, resources.saturday_ready) == (3, True)
    world.kediri.refresh_from_db()
    assert world.kediri.counter_count == 3
    # Every change is in the history, with who made it.
    assert resources.history.first().history_user == world.kediri_head
    # Bad input: a clear error, nothing changed.
    response = client.post(
        reverse("planning:submit", args=[kediri.pk]), {**RESOURCES, "closes_at": "07:00", "printers": "9"}
    )
    assert response.status_code == 400 and "harus ditutup setelah dibuka" in response.content.decode()
    assert OfficeResources.objects.get(office=world.kediri).printers == 1
    # The division reads but does not edit; the other region's division sees nothing.
    client.force_login(world.jatim_regional)
    assert client.get(reverse("planning:evaluation", args=[kediri.pk])).status_code == 200
    assert client.post(reverse("planning:submit", args=[kediri.pk]), RESOURCES).status_code == 403
    client.force_login(world.bali_regional)
    assert client.get(reverse("planning:evaluation", args=[kediri.pk])).status_code == 404
    assert client.get(reverse("planning:round", args=[jatim_round.pk])).status_code == 404


def test_only_the_division_of_the_region_decides(client, world, jatim_round):
    evaluation = evaluation_of(jatim_round, world.kediri)
    proposal = services.add_proposal(
        evaluation_id=evaluation.pk, kind=Proposal.Kind.STAFF, needed="2 verifiers", reason="Queue too long"
    )
    for user in (world.kediri_head, world.bali_regional):
        client.force_login(user)
        response = client.post(reverse("planning:reject", args=[proposal.pk]), {"comment": "no"})
        assert response.status_code == 404
    client.force_login(world.jatim_regional)
    client.post(reverse("planning:reject", args=[proposal.pk]), {"comment": ""})
    proposal.refresh_from_db()
    assert proposal.decision == Proposal.Decision.PENDING  # a rejection needs its reason
    client.post(reverse("planning:reject", args=[proposal.pk]), {"comment": "Budget next year"})
    proposal.refresh_from_db()
    assert (proposal.decision, proposal.comment, proposal.decided_by) == (
        "rejected",
        "Budget next year",
        world.jatim_regional,
    )


def test_an_incomplete_proposal_is_refused_with_its_field(world, jatim_round):
    evaluation = evaluation_of(jatim_round, world.kediri)
    with pytest.raises(services.InvalidProposal) as refused:
        services.add_proposal(
            evaluation_id=evaluation.pk,
            kind=Proposal.Kind.WEEKEND,
            reason="x",
            places=20,
            weekdays=[2],
            starts_on=timezone.localdate(),
        )
    assert refused.value.field == "weekdays"
    assert not Proposal.objects.exists()


def _weekend_proposal(world, jatim_round, *, places=20):
    Application.objects.filter(slot__office=world.kediri).delete()
    Slot.objects.filter(office=world.kediri).delete()  # the world's session has no rule behind it
    ReleaseSchedule.objects.create(
        office=world.kediri, kind=ReleaseSchedule.Kind.ROLLING, days_before=60, horizon_days=21
    )
    evaluation = evaluation_of(jatim_round, world.kediri)
    return services.add_proposal(
        evaluation_id=evaluation.pk,
        kind=Proposal.Kind.WEEKEND,
        weekdays=[5],
        places=places,
        start_time=dt.time(8),
        end_time=dt.time(12),
        starts_on=timezone.localdate() + dt.timedelta(days=1),
        reason="Workers cannot come on weekdays",
    )


def test_a_weekend_proposal_shows_its_preview_then_becomes_a_programme(client, world, jatim_round):
    proposal = _weekend_proposal(world, jatim_round)
    client.force_login(world.jatim_regional)
    response = client.get(reverse("planning:accept", args=[proposal.pk]))
    assert response.status_code == 200
    plan = response.context["plan"]
    assert plan.create and {c.date.weekday() for c in plan.create} == {5} and not plan.conflicts
    assert (
        not ServiceProgram.objects.exists() and not Slot.objects.filter(date__week_day=7, office=world.kediri).exists()
    )
    # Posting without the confirmation from the preview page applies nothing.
    client.post(reverse("planning:accept", args=[proposal.pk]), {"comment": "ok"})
    assert not ServiceProgram.objects.exists()
    response = client.post(
        reverse("planning:accept", args=[proposal.pk]), {"comment": "Disetujui", "confirm": "1"}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == ["Usulan diterima."]
    proposal.refresh_from_db()
    assert proposal.decision == "accepted" and proposal.applied_at
    program = ServiceProgram.objects.get(office=world.kediri)
    assert program.weekdays == [5]
    assert list(ProgramSession.objects.values_list("online_capacity", flat=True)) == [20]
    saturdays = Slot.objects.filter(
        office=world.kediri, pool="online", starts_at__in=[c.starts_at for c in plan.create]
    )
    assert saturdays.count() == len(plan.create)
    # Decided once.
    with pytest.raises(services.AlreadyDecided):
        services.accept_proposal(proposal_id=proposal.pk)


def test_more_places_per_session_become_new_rules_from_their_date(world, jatim_round):
    ReleaseSchedule.objects.create(
        office=world.kediri, kind=ReleaseSchedule.Kind.ROLLING, days_before=60, horizon_days=14
    )
    Application.objects.filter(slot__office=world.kediri).delete()
    Slot.objects.filter(office=world.kediri).delete()
    start = timezone.localdate() - dt.timedelta(days=10)
    rule = QuotaRule.objects.create(
        office=world.kediri,
        weekday=0,
        start_time=dt.time(8),
        end_time=dt.time(10),
        online_capacity=30,
        valid_from=start,
    )
    from_day = timezone.localdate() + dt.timedelta(days=1)
    proposal = services.add_proposal(
        evaluation_id=evaluation_of(jatim_round, world.kediri).pk,
        kind=Proposal.Kind.PLACES,
        weekdays=[0],
        places=40,
        starts_on=from_day,
        reason="Demand",
    )
    services.accept_proposal(proposal_id=proposal.pk, actor=world.jatim_regional)
    rule.refresh_from_db()
    assert rule.valid_to == from_day - dt.timedelta(days=1)
    new = QuotaRule.objects.get(office=world.kediri, valid_from=from_day)
    assert (new.weekday, new.online_capacity, new.valid_to) == (0, 40, None)
    assert set(
        Slot.objects.filter(office=world.kediri, date__gte=from_day, pool="online", date__week_day=2).values_list(
            "capacity", flat=True
        )
    ) == {40}


def test_late_offices_get_one_reminder_a_day_through_the_outbox(world, jatim_round):
    jatim_round.due_on = timezone.localdate() - dt.timedelta(days=1)
    jatim_round.save()
    evaluation = evaluation_of(jatim_round, world.kediri)
    services.submit_evaluation(
        evaluation_id=evaluation_of(jatim_round, world.malang).pk,
        counters=2,
        resources=current_resources(evaluation=evaluation_of(jatim_round, world.malang)),
    )
    assert services.remind_late_offices() == 2  # Kediri and the ULP; Malang submitted
    assert services.remind_late_offices() == 0  # once a day
    messages = RoundMessage.objects.filter(evaluation=evaluation)
    assert [m.recipient for m in messages] == ["kepala.kediri@example.com"]


def test_the_round_exports_to_xlsx(client, world, jatim_round):
    services.add_proposal(
        evaluation_id=evaluation_of(jatim_round, world.kediri).pk,
        kind=Proposal.Kind.EQUIPMENT,
        needed="=1 printer",
        reason="old",
    )
    client.force_login(world.jatim_regional)
    response = client.get(reverse("planning:round_export", args=[jatim_round.pk]))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    offices, proposals = workbook.worksheets
    assert {row[0].value for row in offices.iter_rows(min_row=2)} == {
        o.name for o in (world.kediri, world.malang, world.malang_ulp)
    }
    assert proposals["F2"].value == "'=1 printer"
    client.force_login(world.kediri_head)
    assert client.get(reverse("planning:round_export", args=[jatim_round.pk])).status_code == 404


def test_the_reminders_run_daily_from_the_beat_schedule(world, jatim_round, settings):
    from planning.tasks import remind_late_offices

    entry = settings.CELERY_BEAT_SCHEDULE["planning-remind-late-offices"]
    assert entry["task"] == remind_late_offices.name and remind_late_offices.acks_late
    jatim_round.due_on = timezone.localdate() - dt.timedelta(days=1)
    jatim_round.save()
    assert remind_late_offices.apply().get() == 3


def test_the_round_and_evaluation_pages_read_a_fixed_number_of_queries(
    client, world, jatim_round, django_assert_max_num_queries
):
    for office in (world.kediri, world.malang):
        services.add_proposal(
            evaluation_id=evaluation_of(jatim_round, office).pk, kind=Proposal.Kind.STAFF, needed="1", reason="r"
        )
    client.force_login(world.jatim_regional)
    # session, user, memberships, regions, the round, its evaluations, their proposals
    with django_assert_max_num_queries(8):
        assert client.get(reverse("planning:round", args=[jatim_round.pk])).status_code == 200
    evaluation = evaluation_of(jatim_round, world.kediri)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("planning:evaluation", args=[evaluation.pk])).status_code == 200


def test_after_a_decision_the_statement_can_no_longer_change(world, jatim_round):
    evaluation = evaluation_of(jatim_round, world.kediri)
    resources = current_resources(evaluation=evaluation)
    services.submit_evaluation(evaluation_id=evaluation.pk, counters=2, resources=resources)
    proposal = services.add_proposal(evaluation_id=evaluation.pk, kind=Proposal.Kind.STAFF, needed="1", reason="r")
    services.reject_proposal(proposal_id=proposal.pk, comment="no")
    with pytest.raises(services.RoundClosed):
        services.submit_evaluation(evaluation_id=evaluation.pk, counters=9, resources=resources)
    world.kediri.refresh_from_db()
    assert world.kediri.counter_count == 2
