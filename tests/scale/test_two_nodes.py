"""Two web nodes behind nginx, sharing PostgreSQL and Redis: a release burst keeps its invariants
across them, sessions and rate limits are shared, and a node stopped in the middle of a burst
loses no booking it answered 201."""

import collections
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from accounts.services import create_api_token
from appointments.models import ACTIVE_STATUSES, Application
from quotas.models import Slot
from tests.api.test_applications import booking_body
from tests.factories import SlotFactory, UserFactory
from tests.scale.conftest import sign_in, user_who_can_sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def _tokens(count: int) -> list[str]:
    return [create_api_token(user=UserFactory()) for _ in range(count)]


def _burst(lb: str, slot: Slot, tokens: list[str], *, threads: int = 24, midway=None) -> list[tuple[int, dict]]:
    """Every token books one person on `slot` at once, as the mobile app does: with an
    Idempotency-Key, sent again (once) with the same key when the answer is lost or a gateway
    error. `midway` runs once a third have answered. Returns the final answers; `_burst.retried`
    counts the requests sent again."""
    answers = []
    retried = []
    lock = threading.Lock()
    fired = threading.Event()

    def post(token, body, key):
        try:
            response = requests.post(
                f"{lb}/api/v1/applications/",
                json=body,
                headers={"Authorization": f"Token {token}", "Idempotency-Key": key},
                timeout=60,
            )
        except requests.RequestException as error:  # the client saw no answer at all
            return 0, {"error": str(error)}
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        return response.status_code, response.json() if is_json else {"body": response.text[:200]}

    def book(token):
        body, key = booking_body(slot), str(uuid.uuid4())
        answer = post(token, body, key)
        if answer[0] in (0, 502, 503, 504):
            with lock:
                retried.append(answer)
            answer = post(token, body, key)
        with lock:
            answers.append(answer)
            if midway and len(answers) >= len(tokens) // 3 and not fired.is_set():
                fired.set()
                threading.Thread(target=midway).start()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(book, tokens))
    _burst.retried = retried
    return answers


def _assert_invariants(slot: Slot, answers) -> list[str]:
    """Exactly the places answered 201 are booked, none beyond capacity; returns their codes."""
    statuses = collections.Counter(status for status, _ in answers)
    booked_codes = [body["booking_code"] for status, body in answers if status == 201]
    slot.refresh_from_db()
    stored = set(
        Application.objects.filter(slot=slot, status__in=ACTIVE_STATUSES).values_list("booking_code", flat=True)
    )
    assert set(booked_codes) <= stored, "a booking answered 201 is missing"
    assert slot.taken == len(stored) <= slot.capacity, (slot.taken, len(stored), slot.capacity)
    assert not [s for s in statuses if s >= 500 or s == 0], statuses
    assert set(statuses) <= {201, 409}, statuses
    return booked_codes


def test_a_burst_through_two_nodes_books_exactly_the_places(stack):
    slot = SlotFactory(capacity=40)
    answers = _burst(stack["lb"], slot, _tokens(200))
    assert _burst.retried == []  # no answer lost, no gateway error: nothing needed sending again
    booked = _assert_invariants(slot, answers)
    assert len(booked) == slot.capacity == slot.taken
    assert collections.Counter(body.get("code") for status, body in answers if status == 409) == {"slot_full": 160}
    served_by = collections.Counter()
    for node in stack["nodes"]:
        text = requests.get(f"{node.url}/metrics", timeout=5).text
        served_by[node.port] = sum(
            float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("mpaspor_refusals_total{")
        )
    assert all(served_by.values()), f"one node served no refusal: {served_by}"


def test_a_node_stopped_mid_burst_loses_no_booking_it_answered(stack):
    slot = SlotFactory(capacity=150)
    second = stack["nodes"][1]
    stopped = {}

    def stop_second_node():
        stopped["status"] = second.stop(signal.SIGTERM)  # gunicorn's graceful shutdown
        stopped["at"] = time.monotonic()

    try:
        answers = _burst(stack["lb"], slot, _tokens(300), midway=stop_second_node)
    finally:
        if "status" not in stopped:
            time.sleep(1)
        second.start()
    assert stopped.get("status") == 0, stopped  # it stopped gracefully, during the burst
    booked = _assert_invariants(slot, answers)
    assert len(booked) == slot.capacity
    # Requests waiting in the stopped node's listen queue were cut (nginx answers 502 and never
    # sends a POST again); each was sent again with its key and got an answer.
    print(f"requests sent again after the node stopped: {len(_burst.retried)}")


def test_a_session_started_on_one_node_is_known_to_the_other(stack):
    first, second = (node.url for node in stack["nodes"])
    browser = requests.Session()
    signed_in = sign_in(browser, first, user_who_can_sign_in())
    assert signed_in.status_code == 302
    # The same cookies on the other node: signed in there too, not sent to the login page.
    mine = browser.get(f"{second}/applications/", allow_redirects=False)
    assert mine.status_code == 200, (mine.status_code, mine.headers.get("Location"))
    assert browser.get(f"{first}/applications/", allow_redirects=False).status_code == 200


def test_an_accounts_rate_limit_counts_requests_on_every_node(stack, settings):
    limit = int(settings.API_THROTTLE_RATES["account"].split("/")[0])
    token = _tokens(1)[0]
    headers = {"Authorization": f"Token {token}"}
    left = 60 - time.time() % 60  # the limit counts in clock minutes: stay within one
    if left < 40:
        time.sleep(left + 0.2)
    statuses = [
        requests.get(f"{node.url}/api/v1/applications/", headers=headers, timeout=10).status_code
        for _ in range(limit // 2 + 1)
        for node in stack["nodes"]
    ]
    # Each node saw about half the limit; together they passed it.
    assert statuses[:limit] == [200] * limit
    assert set(statuses[limit:]) == {429}
