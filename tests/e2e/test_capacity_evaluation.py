"""Capacity evaluation in the browser, phone first: a head times steps at the counter and
submits the office's evaluation with a weekend proposal; the division accepts it through its
slot preview; the capacity page names the bottleneck with its chart."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Status, StepRecord
from offices.models import OfficeResources, StaffMembership
from planning.models import OfficeEvaluation, Proposal
from planning.services import open_round
from quotas.models import ProgramSession, ReleaseSchedule, ServiceProgram, Slot
from tests.e2e.conftest import check_accessibility, log_in
from tests.factories import (
    ApplicationFactory,
    OfficeFactory,
    RegionFactory,
    SlotFactory,
    StaffMembershipFactory,
    UserFactory,
)

Role = StaffMembership.Role


@pytest.fixture
def kediri_round(db):
    jatim = RegionFactory(code="JATIM", name="Jawa Timur", province_code="35")
    kediri = OfficeFactory(code="kanim-kediri", name="Kantor Imigrasi Kediri", region=jatim, counter_count=3)
    ReleaseSchedule.objects.create(office=kediri, kind=ReleaseSchedule.Kind.ROLLING, days_before=60, horizon_days=21)
    head = UserFactory(email="kepala.kediri@example.com", is_staff=True)
    StaffMembershipFactory(user=head, role=Role.HEAD, office=kediri)
    division = UserFactory(email="kanwil.jatim@example.com", is_staff=True)
    StaffMembershipFactory(user=division, role=Role.REGIONAL, office=None, region=jatim)
    today = timezone.localdate()
    evaluation_round = open_round(
        region=jatim, period_from=today.replace(day=1), period_to=today, due_on=today + dt.timedelta(days=7)
    )
    return {"office": kediri, "head": head, "division": division, "round": evaluation_round}


def watch(page, problems):
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed") and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(str(error)))


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_head_submits_the_evaluation_and_proposes_saturday_service(page, screenshot, kediri_round):
    problems = []
    watch(page, problems)
    log_in(page, email="kepala.kediri@example.com")
    page.goto("/")
    page.click("nav.site-nav >> text=Evaluasi")
    page.click("#my-evaluations >> text=Kantor Imigrasi Kediri")
    assert page.locator("#evaluation-state").inner_text() == "Belum dikirim."
    screenshot("empty")
    form = page.locator("#resources form")
    for name, value in {
        "counters": "3",
        "verifiers": "3",
        "biometric_operators": "4",
        "interviewers": "2",
        "approvers": "1",
        "printing_staff": "2",
        "biometric_stations": "3",
        "printers": "1",
    }.items():
        form.locator(f"input[name={name}]").fill(value)
    form.locator("input[name=opens_at]").fill("08:00")
    form.locator("input[name=closes_at]").fill("15:00")
    form.locator("input[name=saturday_ready]").check()
    form.locator("textarea[name=note]").fill("Dua petugas cuti panjang bulan depan.")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=SDM dan sarana Kantor Imigrasi Kediri telah dikirim.")
    assert page.locator("#evaluation-state").inner_text().startswith("Dikirim pada")

    # A weekend proposal left incomplete is refused with its field, then completed.
    proposal = page.locator("#proposal-form")
    proposal.locator("select[name=kind]").select_option("weekend")
    proposal.locator("input[name=places]").fill("30")
    proposal.locator("textarea[name=reason]").fill("Pekerja tidak bisa datang pada hari kerja.")
    proposal.locator("button[type=submit]").click()
    assert page.locator("#proposal-form .field-error").first.inner_text() == "Pilih Sabtu, Minggu, atau keduanya."
    assert not Proposal.objects.exists()
    proposal = page.locator("#proposal-form")
    proposal.locator("input[name=weekdays][value='5']").check()
    proposal.locator("input[name=start_time]").fill("08:00")
    proposal.locator("input[name=end_time]").fill("12:00")
    proposal.locator("input[name=starts_on]").fill(f"{timezone.localdate() + dt.timedelta(days=1):%Y-%m-%d}")
    proposal.locator("button[type=submit]").click()
    page.wait_for_selector("text=Usulan ditambahkan.")
    assert "Menunggu keputusan" in page.locator("#proposals article").inner_text()
    check_accessibility(page)
    screenshot("submitted")

    evaluation = OfficeEvaluation.objects.get()
    assert evaluation.submitted_at and evaluation.stated["biometric_operators"] == 4
    assert OfficeResources.objects.get(office=kediri_round["office"]).saturday_ready
    assert problems == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_division_accepts_a_weekend_proposal_through_its_preview(page, screenshot, kediri_round):
    problems = []
    watch(page, problems)
    evaluation = OfficeEvaluation.objects.get()
    Proposal.objects.create(
        evaluation=evaluation,
        kind=Proposal.Kind.WEEKEND,
        weekdays=[5],
        places=30,
        start_time=dt.time(8),
        end_time=dt.time(12),
        starts_on=timezone.localdate() + dt.timedelta(days=1),
        reason="Pekerja tidak bisa datang pada hari kerja.",
    )
    log_in(page, email="kanwil.jatim@example.com")
    page.goto("/planning/")
    page.click("#rounds li a")
    page.click("#round-offices >> text=Kantor Imigrasi Kediri")
    page.click("text=Pratinjau dan terima")
    rows = page.locator("#slot-preview tbody tr")
    previewed = rows.count()
    assert previewed >= 2  # a Saturday session in each of the coming weeks
    assert all(text.startswith("Baru\tSab") for text in rows.all_inner_texts())
    assert not ServiceProgram.objects.exists()  # nothing changed by the preview
    check_accessibility(page)
    screenshot("preview")
    page.fill("textarea[name=comment]", "Disetujui, mulai Sabtu depan.")
    page.click("#confirm-accept")
    page.wait_for_selector("text=Usulan diterima.")
    assert "Diterima" in page.locator("#proposals article").inner_text()
    screenshot("accepted")
    program = ServiceProgram.objects.get(office=kediri_round["office"])
    assert program.weekdays == [5] and ProgramSession.objects.get(program=program).online_capacity == 30
    assert Slot.objects.filter(office=kediri_round["office"], capacity=30).count() == previewed
    assert problems == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_head_times_a_step_and_reads_the_bottleneck(page, screenshot, kediri_round):
    problems = []
    watch(page, problems)
    office = kediri_round["office"]
    OfficeResources.objects.create(
        office=office,
        verifiers=3,
        biometric_operators=4,
        interviewers=2,
        approvers=1,
        printing_staff=2,
        biometric_stations=3,
        printers=1,
        opens_at=dt.time(8),
        closes_at=dt.time(15),
    )
    start = timezone.now().astimezone(office.tzinfo).replace(hour=8, minute=0, second=0, microsecond=0)
    slot = SlotFactory(office=office, starts_at=start, ends_at=start + dt.timedelta(hours=2), date=start.date())
    application = ApplicationFactory(slot=slot, status=Status.IN_PROCESS, full_name="Siti Aminah")
    log_in(page, email="kepala.kediri@example.com")
    page.goto("/staff/counter/steps/")
    page.fill("input[name=code]", application.booking_code)
    page.select_option("select[name=step]", "biometrics")
    page.click("#step-form button[value=start]")
    page.wait_for_selector("text=Foto dan sidik jari untuk Siti Aminah dimulai.")
    assert "Siti Aminah" in page.locator("#steps-in-progress").inner_text()
    screenshot("started")
    page.click("#steps-in-progress button[value=finish]")
    page.wait_for_selector("text=Tidak ada tahap yang sedang berjalan.")
    record = StepRecord.objects.get()
    assert record.finished_by == kediri_round["head"]
    # Seven and a half minutes each at the photo step: 3 stations x 420 minutes / 7.5 = 168 a day.
    StepRecord.objects.filter(pk=record.pk).update(finished_at=record.started_at + dt.timedelta(minutes=7.5))
    page.goto("/reports/capacity/")
    box = page.locator("#capacity-kanim-kediri")
    assert "Tahap penghambat: Foto dan sidik jari, 168 permohonan sehari." in box.inner_text()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.querySelector('canvas[data-capacity-chart]'))"
    )
    check_accessibility(page)
    screenshot("capacity")
    assert problems == []
