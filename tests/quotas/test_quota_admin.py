"""Quota management in the admin: heads change their offices' rules, programmes and overrides;
a change that would cut below places already taken is refused; every change is in history."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from quotas.models import DateOverride, QuotaRule, ServiceProgram, Slot
from tests.factories import ApplicationFactory, SlotFactory, UserFactory, applicant_data, book_one


def rule_for(slot, **overrides):
    local = slot.local_start
    values = dict(
        office=slot.office,
        weekday=slot.date.weekday(),
        start_time=local.time(),
        end_time=slot.local_end.time(),
        online_capacity=slot.capacity,
        priority_capacity=0,
        valid_from=slot.date - dt.timedelta(days=30),
    )
    values.update(overrides)
    return QuotaRule.objects.create(**values)


def rule_form(rule, **changes):
    data = {
        "office": rule.office_id,
        "weekday": rule.weekday,
        "start_time": rule.start_time.strftime("%H:%M"),
        "end_time": rule.end_time.strftime("%H:%M"),
        "online_capacity": rule.online_capacity,
        "priority_capacity": rule.priority_capacity,
        "walk_in_capacity": rule.walk_in_capacity,
        "valid_from": rule.valid_from.isoformat(),
        "valid_to": "",
    }
    data.update(changes)
    return data


def change(model, obj):
    return reverse(f"admin:quotas_{model}_change", args=[obj.pk])


@pytest.mark.django_db
class TestRules:
    def test_head_lowers_capacity_down_to_places_taken_but_not_below(self, client, world):
        ApplicationFactory(slot=world.kediri_slot)  # 2 taken with the world's application
        rule = rule_for(world.kediri_slot)
        client.force_login(world.kediri_head)
        response = client.post(change("quotarule", rule), rule_form(rule, online_capacity=1))
        assert response.status_code == 200
        error = str(response.context["adminform"].form.non_field_errors())
        assert "2" in error  # the places taken are named
        rule.refresh_from_db()
        assert rule.online_capacity == 10

        response = client.post(change("quotarule", rule), rule_form(rule, online_capacity=2))
        assert response.status_code == 302
        rule.refresh_from_db()
        assert rule.online_capacity == 2
        assert rule.history.count() == 2 and rule.history.latest().history_user == world.kediri_head

    def test_moving_a_booked_session_to_another_weekday_is_refused(self, client, world):
        rule = rule_for(world.kediri_slot)
        client.force_login(world.kediri_head)
        response = client.post(change("quotarule", rule), rule_form(rule, weekday=(rule.weekday + 1) % 7))
        assert response.status_code == 200
        rule.refresh_from_db()
        assert rule.weekday == world.kediri_slot.date.weekday()
        # Deleting it is refused too.
        assert client.post(reverse("admin:quotas_quotarule_delete", args=[rule.pk]), {"post": "yes"}).status_code == 403
        assert QuotaRule.objects.filter(pk=rule.pk).exists()

    def test_officer_and_regional_read_only_and_other_offices_unreachable(self, client, world):
        rule = rule_for(world.kediri_slot)
        malang_rule = rule_for(world.malang_slot)
        for user in (world.kediri_officer, world.jatim_regional):
            client.force_login(user)
            assert client.get(change("quotarule", rule)).status_code == 200
            assert client.post(change("quotarule", rule), rule_form(rule, online_capacity=50)).status_code == 403
        client.force_login(world.kediri_head)
        assert client.get(change("quotarule", malang_rule)).status_code == 404
        assert (
            client.post(change("quotarule", malang_rule), rule_form(malang_rule, online_capacity=0)).status_code == 404
        )
        # A forged office id in the add form is not a valid choice.
        response = client.post(reverse("admin:quotas_quotarule_add"), rule_form(rule, office=world.malang.pk))
        assert response.status_code == 200 and "office" in response.context["adminform"].form.errors
        assert not QuotaRule.objects.filter(office=world.malang).exclude(pk=malang_rule.pk).exists()
        rule.refresh_from_db()
        assert rule.online_capacity == 10

    def test_malang_head_manages_the_ulp_outlet(self, client, world):
        ulp_rule = rule_for(world.ulp_slot)
        client.force_login(world.malang_head)
        response = client.post(change("quotarule", ulp_rule), rule_form(ulp_rule, online_capacity=30))
        assert response.status_code == 302


@pytest.mark.django_db
class TestOverridesAndProgrammes:
    def test_closing_a_day_with_bookings_is_refused(self, client, world):
        client.force_login(world.kediri_head)
        data = {
            "office": world.kediri.pk,
            "date": world.kediri_slot.date.isoformat(),
            "closed": "on",
            "reason": "Banjir",
            "online_capacity": "",
            "priority_capacity": "",
        }
        response = client.post(reverse("admin:quotas_dateoverride_add"), data)
        assert response.status_code == 200
        assert not DateOverride.objects.exists()
        # A day without bookings closes.
        response = client.post(
            reverse("admin:quotas_dateoverride_add"),
            {**data, "date": (world.kediri_slot.date + dt.timedelta(days=1)).isoformat()},
        )
        assert response.status_code == 302
        assert DateOverride.objects.get().history.get().history_type == "+"

    def test_programme_session_cut_below_taken_is_refused(self, client, world):
        program = ServiceProgram.objects.create(
            office=world.kediri,
            name="Layanan Sabtu",
            date_from=world.kediri_slot.date,
            date_to=world.kediri_slot.date,
        )
        session = program.sessions.create(
            start_time=world.kediri_slot.local_start.time(),
            end_time=world.kediri_slot.local_end.time(),
            online_capacity=10,
        )
        Slot.objects.filter(pk=world.kediri_slot.pk).update(program=program)
        client.force_login(world.kediri_head)
        data = {
            "office": world.kediri.pk,
            "name": program.name,
            "date_from": program.date_from.isoformat(),
            "date_to": program.date_to.isoformat(),
            # weekdays and allowed_kinds: checkboxes, none ticked (every day, every kind)
            "sessions-TOTAL_FORMS": "1",
            "sessions-INITIAL_FORMS": "1",
            "sessions-MIN_NUM_FORMS": "0",
            "sessions-MAX_NUM_FORMS": "1000",
            "sessions-0-id": session.pk,
            "sessions-0-program": program.pk,
            "sessions-0-start_time": session.start_time.strftime("%H:%M"),
            "sessions-0-end_time": session.end_time.strftime("%H:%M"),
            "sessions-0-online_capacity": "0",
            "sessions-0-priority_capacity": "0",
            "sessions-0-walk_in_capacity": "0",
        }
        response = client.post(change("serviceprogram", program), data)
        assert response.status_code == 200
        session.refresh_from_db()
        assert session.online_capacity == 10
        response = client.post(change("serviceprogram", program), {**data, "sessions-0-online_capacity": "1"})
        assert response.status_code == 302
        session.refresh_from_db()
        assert session.online_capacity == 1


@pytest.mark.django_db
class TestHistory:
    def test_slot_history_leaves_out_taken(self, world):
        slot = SlotFactory(office=world.kediri, starts_at=world.kediri_slot.starts_at + dt.timedelta(hours=3))
        slot.taken = 1
        slot.save()
        assert not hasattr(slot.history.model, "taken")
        assert slot.history.count() == 2

    def test_booking_writes_no_history_and_no_extra_query(self, world):
        slot = SlotFactory(
            office=world.kediri, capacity=5, starts_at=world.kediri_slot.starts_at + dt.timedelta(hours=3)
        )
        with CaptureQueriesContext(connection) as queries:
            book_one(
                account=world.applicant,
                slot_id=slot.pk,
                applicant=applicant_data(),
                passport_type="regular",
                validity_years=5,
                kind="new",
            )
        assert not [q for q in queries.captured_queries if "historical" in q["sql"].lower()]
        # 9 queries (slot, account capacity, fee, claim, insert, event, outbox row and the
        # savepoint pair), as before history existed: a history insert would be a 10th.
        assert len(queries.captured_queries) <= 9, [q["sql"][:80] for q in queries.captured_queries]

    def test_status_changes_are_in_the_application_history(self, client, world):
        from appointments.services.lifecycle import cancel_application

        cancel_application(application_id=world.kediri_app.pk, actor=world.kediri_officer, reason="x")
        assert world.kediri_app.history.latest().status == "cancelled"

    def test_history_pages_are_scoped_and_cannot_revert(self, client, world):
        rule = rule_for(world.malang_slot)
        rule.online_capacity = 3
        rule.save()
        record = rule.history.earliest()
        client.force_login(world.kediri_head)
        assert client.get(reverse("admin:quotas_quotarule_history", args=[rule.pk])).status_code == 404
        url = reverse("admin:quotas_quotarule_simple_history", args=[rule.pk, record.history_id])
        assert client.get(url).status_code == 404
        client.force_login(world.malang_head)
        assert client.get(reverse("admin:quotas_quotarule_history", args=[rule.pk])).status_code == 200
        assert client.post(url, rule_form(rule, online_capacity=10)).status_code == 403
        rule.refresh_from_db()
        assert rule.online_capacity == 3


@pytest.mark.django_db
class TestPreview:
    def test_preview_saves_nothing(self, client, world):
        rule = rule_for(world.kediri_slot)
        client.force_login(world.kediri_head)
        assert b'name="_preview"' in client.get(change("quotarule", rule)).content
        response = client.post(
            reverse("admin:quotas_quotarule_preview", args=[rule.pk]), rule_form(rule, online_capacity=40)
        )
        assert response.status_code == 200
        rule.refresh_from_db()
        assert rule.online_capacity == 10 and rule.history.count() == 1
        # The page carries the edit on, to be saved as it was previewed.
        assert ("online_capacity", "40") in response.context["post_items"]

    def test_preview_names_the_refusal(self, client, world):
        ApplicationFactory(slot=world.kediri_slot)
        rule = rule_for(world.kediri_slot)
        client.force_login(world.kediri_head)
        response = client.post(
            reverse("admin:quotas_quotarule_preview", args=[rule.pk]), rule_form(rule, online_capacity=0)
        )
        assert response.status_code == 200 and response.context["errors"]
        assert b'name="_save"' not in response.content

    def test_preview_is_scoped(self, client, world):
        rule = rule_for(world.malang_slot)
        client.force_login(world.kediri_head)
        assert (
            client.post(reverse("admin:quotas_quotarule_preview", args=[rule.pk]), rule_form(rule)).status_code == 404
        )
        client.force_login(world.kediri_officer)
        own = rule_for(world.kediri_slot)
        assert client.post(reverse("admin:quotas_quotarule_preview", args=[own.pk]), rule_form(own)).status_code == 403

    def test_a_saved_rule_changes_the_slots_at_once(self, client, world):
        rule = rule_for(world.kediri_slot)
        client.force_login(world.kediri_head)
        response = client.post(change("quotarule", rule), rule_form(rule, online_capacity=40), follow=True)
        assert response.status_code == 200
        assert Slot.objects.get(pk=world.kediri_slot.pk).capacity == 40
        # The admin's "changed" message, and the generator's count of what it changed.
        assert len([m for m in response.context["messages"] if m.tags == "success"]) == 2

    def test_preview_lists_the_generators_plan(self, client, world):
        rule = rule_for(world.kediri_slot)
        client.force_login(world.kediri_head)
        response = client.post(
            reverse("admin:quotas_quotarule_preview", args=[rule.pk]), rule_form(rule, online_capacity=40)
        )
        plan = response.context["plan"]
        assert plan is not None and (plan.create or plan.update)
        assert Slot.objects.get(pk=world.kediri_slot.pk).capacity == 10


@pytest.mark.django_db
class TestWalkInAndSameDay:
    """The office head sets walk-in sessions and same-day places in the quota admin, with the preview."""

    def test_a_walk_in_session_is_set_on_a_rule(self, client, world):
        rule = rule_for(world.kediri_slot)
        client.force_login(world.kediri_head)
        data = rule_form(rule, weekday=5, online_capacity=0, priority_capacity=0, walk_in_capacity=30)
        response = client.post(reverse("admin:quotas_quotarule_add"), data)
        assert response.status_code == 302
        saturday = Slot.objects.filter(office=world.kediri, pool="walk_in", capacity=30)
        assert saturday.exists() and all(s.date.weekday() == 5 for s in saturday)

    def test_same_day_places_and_cut_off_with_preview_and_refusal(self, client, world):
        rule_for(world.kediri_slot)
        client.force_login(world.kediri_head)
        form = {"office": world.kediri.pk, "places_per_day": 35, "check_in_by": "11:30"}
        response = client.post(reverse("admin:quotas_samedayservice_preview_add"), form)
        assert response.status_code == 200 and not response.context["errors"]
        planned = [c for c in response.context["plan"].create if c.pool == "express"]
        assert {c.capacity_after for c in planned} == {35}
        assert world.kediri_slot.date in {c.date for c in planned}
        assert not Slot.objects.filter(pool="express").exists()  # a preview saves nothing
        assert client.post(reverse("admin:quotas_samedayservice_add"), form).status_code == 302
        express = Slot.objects.get(office=world.kediri, date=world.kediri_slot.date, pool="express")
        assert (express.capacity, express.local_end.time()) == (35, dt.time(11, 30))

        # Two express bookings hold two places: one a day is refused, with the session named.
        for _ in range(2):
            book_one(account=UserFactory(), slot_id=world.kediri_slot.pk, express=True)
        service = world.kediri.same_day_service
        response = client.post(
            reverse("admin:quotas_samedayservice_change", args=[service.pk]), {**form, "places_per_day": 1}
        )
        assert response.status_code == 200
        assert "2" in str(response.context["adminform"].form.non_field_errors())
        express.refresh_from_db()
        assert express.capacity == 35
        # Another office's service is out of reach.
        client.force_login(world.malang_head)
        assert client.get(reverse("admin:quotas_samedayservice_change", args=[service.pk])).status_code == 404
