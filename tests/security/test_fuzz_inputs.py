"""Every URL of the portal, the admin and the API, sent the classes of input that once answered
500: a NUL character in the path, the query and a form; a lone surrogate and a NUL in a JSON
string; JSON nested two thousand levels deep; numbers and dates beyond any range; an invalid
regular expression in an admin filter. Each must answer below 500 (a 400 in the API's error
shape, a 404, a form error), as a visitor, a signed-in applicant and the staff who use the page.

The URLs come from Django's resolver, so a new page is fuzzed without touching this file; a
path parameter this file has no value for fails the test until one is added (VALUES below)."""

import html.parser
import io
import json
import re
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.services import create_api_token
from appointments.models import Applicant, ApplicationDocument, NikDispute, Status
from appointments.services.disputes import file_dispute
from appointments.services.documents import upload_document
from planning.models import Proposal
from planning.services import add_proposal, open_round
from tests.documents import files
from tests.factories import ApplicationFactory, applicant_data

HUGE = "9" * 20  # beyond a 64-bit integer
FAR_DATE = "9999-12-31"
# A NUL is refused whichever parameter holds it: one request says so. Values at the edge reach
# the code behind one parameter only, so each goes alone (a refusal of one would hide the others).
QUERY_NUL = "?q=%00&nik=%00&status__exact=%00&month=%00&from=%00"
QUERIES_AT_THE_EDGE = [
    "?month=9999-12",
    "?month=0001-01",
    f"?from={FAR_DATE}",
    f"?to={FAR_DATE}",
    f"?from=0001-01-01&to={FAR_DATE}",
    f"?person={HUGE}",
    f"?region={'x' * 300}",
    f"?office={'x' * 300}",
    "?format=csv&month=9999-12",
]
# The admin's change lists filter by any field of the model: the database refuses an invalid
# regular expression and a number out of range (DataError).
ADMIN_FILTERS = ["?id__regex=(", f"?id__gt={HUGE}", f"?p={HUGE}", f"?q={'x' * 300}"]


def body_with(text: str) -> str:
    """A JSON body with `text` in every string any endpoint reads (json.dumps writes it escaped)."""
    person = {"nik": text, "full_name": text, "sex": text, "birth_date": text}
    fields = ("email", "password", "full_name", "phone", "code", "passport_type", "application_kind")
    return json.dumps({**{name: text for name in fields}, "slot": 1, "applicant": person})


JSON_BODIES = {
    "nested": "[" * 2048,
    "nested and closed": "[" * 1024 + "]" * 1024,
    "lone surrogate": body_with("\ud800"),
    "NUL": body_with("a\x00b"),
    "numbers out of range": '{"slot": 1e400, "validity_years": 1000000000000000000000000000000, "code": 1e400,'
    ' "amount": -1e400, "timestamp": 1e400, "applicant": {"birth_date": "9999-12-31", "nik": 1e400}}',
}


@dataclass(frozen=True)
class Url:
    name: str
    params: tuple[str, ...]
    route: str  # as written in the URLconf: "api/v1/applications/<slug:booking_code>/"


def named_urls(resolver=None, namespace="", prefix=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_urls(pattern, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            regex = pattern.pattern.regex
            # Unnamed groups (simple_history's admin views) are given as positional arguments: "0", "1".
            params = tuple(regex.groupindex) or tuple(str(i) for i in range(regex.groups))
            yield Url(f"{namespace}{pattern.name}", params, prefix + str(pattern.pattern))


class FormFields(html.parser.HTMLParser):
    """The fields of a page's forms as a browser would send them, filled with values at the edge
    of each field's type: far dates, huge numbers, long texts; choices keep a real option so the
    form gets past them to the values behind."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "select":
            self._select = name
        elif tag == "option" and self._select and a.get("value") and self._select not in self.data:
            self.data[self._select] = [a["value"]]
        elif tag == "textarea" and name:
            self.data[name] = ["x" * 5000]
        elif tag == "input" and name:
            kind, css, value = a.get("type", "text"), a.get("class") or "", a.get("value") or ""
            if kind in ("submit", "button", "file", "image"):
                return
            if kind in ("radio", "checkbox"):
                self.data.setdefault(name, [value or "on"])
            elif kind == "hidden" or name == "csrfmiddlewaretoken":
                self.data[name] = [value]
            elif kind == "date" or "vDateField" in css or "date" in name:
                self.data[name] = [FAR_DATE]
            elif kind == "month":
                self.data[name] = ["9999-12"]
            elif kind == "time" or "vTimeField" in css:
                self.data[name] = ["23:59:59"]
            elif kind == "number" or "Integer" in css or name.endswith(("capacity", "count", "taken", "amount")):
                self.data[name] = [HUGE]
            elif kind == "email":
                self.data[name] = ["a" * 300 + "@example.com"]
            else:
                self.data[name] = ["x" * 5000]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_of(page: str) -> dict[str, list[str]]:
    fields = FormFields()
    fields.feed(page)
    return fields.data


@pytest.fixture
def evaluation_proposal(world):
    """A round of the world's Jatim division with a proposal of Kediri, for planning's pages."""
    today = timezone.localdate()
    evaluation_round = open_round(region=world.kediri.region, period_from=today, period_to=today, due_on=today)
    evaluation = evaluation_round.evaluations.get(office=world.kediri)
    return add_proposal(evaluation_id=evaluation.pk, kind=Proposal.Kind.STAFF, needed="1 verifier", reason="queue")


@pytest.fixture
def people(world):
    """The applicant of the world with an application awaiting payment and a listed person."""
    application = ApplicationFactory(account=world.applicant, slot=world.kediri_slot, status=Status.PENDING_PAYMENT)
    person = applicant_data()
    listed = Applicant.objects.create(
        account=world.applicant,
        nik=person.nik,
        full_name=person.full_name,
        birth_date=person.birth_date,
        sex=person.sex,
    )
    return application, listed


def document_of(application) -> ApplicationDocument:
    """A file sent for the application (once), so that the documents' paths reach their views."""
    return application.documents.first() or upload_document(
        application=application, requirement_code="e_ktp", file=io.BytesIO(files.png()), file_name="ktp.png"
    )


def dispute_of(world) -> NikDispute:
    """The world applicant's dispute of the NIK of Kediri's application (once), so that the review
    pages reach their views for Kediri's officer."""
    return NikDispute.objects.first() or file_dispute(
        account=world.applicant,
        nik=world.kediri_app.nik,
        birth_date=world.kediri_app.birth_date,
        photo=io.BytesIO(files.png()),
    )


def path_values(world, people, proposal, url: Url) -> dict[str, str]:
    """A real value for each path parameter, so that the well-formed path reaches its view."""
    application, listed = people
    values = {
        "round_id": str(proposal.evaluation.round_id),
        "evaluation_id": str(proposal.evaluation_id),
        "proposal_id": str(proposal.pk),
        "code": world.kediri.code,
        "date": world.kediri_slot.date.isoformat(),
        "booking_code": application.booking_code,
        "slot_id": str(world.kediri_slot.pk),
        "person_id": str(listed.pk),
        "uidb64": "MQ",
        "token": "set-password",
        "app_label": "appointments",
        "content_type_id": str(ContentType.objects.get_for_model(type(application)).pk),
        "id": str(world.superuser.pk),
        "history_id": "1",
        "application_id": str(application.pk),
        "action": "served",
        "key": "no-such-screen",
        "document_id": str(document_of(application).pk),
        "flag_id": "1",
        "waiting_id": "1",
        "offer_id": "1",
        "release_id": "1",
        "entry_id": "1",
        "dispute_id": str(dispute_of(world).pk),
    }
    if "object_id" in url.params or "0" in url.params:
        model = next(
            (
                m
                for m in admin.site._registry
                if url.name.startswith(f"admin:{m._meta.app_label}_{m._meta.model_name}_")
            ),
            type(application),  # view_on_site: the object of `content_type_id`
        )
        first = model._default_manager.order_by("pk").first()
        values["object_id"] = values["0"] = str(first.pk if first else 1)
        values["1"] = "1"  # a history entry
    missing = set(url.params) - set(values)
    assert not missing, f"{url.name}: give the fuzz a value for {missing}"
    return {name: values[name] for name in url.params}


def url_path(url: Url, values: dict[str, str]) -> str:
    if values and all(name.isdigit() for name in values):
        return reverse(url.name, args=list(values.values()))
    return reverse(url.name, kwargs=values)


MARKERS = ("7654321987", "zz-marker-zz")  # one of them passes each converter: int, slug, str, path


def variants(url: Url, path: str, values: dict[str, str]):
    """(method, path, body, content type) of the nasty requests for one URL."""
    for name in values:
        for marker in MARKERS:
            try:
                marked = url_path(url, {**values, name: marker})
            except NoReverseMatch:
                continue
            for nasty in ("%00", HUGE, "x" * 300):
                yield "GET", marked.replace(marker, nasty), None, None
            break
    yield "GET", path + QUERY_NUL, None, None
    if url.name.startswith("admin:"):
        for query in ADMIN_FILTERS if url.name.endswith(("_changelist", "_export")) else []:
            yield "GET", path + query, None, None
    else:
        for query in QUERIES_AT_THE_EDGE:
            yield "GET", path + query, None, None
    if url.name.startswith("api-"):
        for body in JSON_BODIES.values():
            yield "POST", path, body, "application/json"


def client_for_url(url: Url, clients: dict):
    if url.name.startswith("admin:"):
        return [clients["superuser"]]
    if url.name.startswith("reports:"):
        return [clients["anonymous"], clients["regional"]]
    if url.name.startswith("planning:"):
        return [clients["anonymous"], clients["regional"], clients["head"]]
    if url.name.startswith("staff:"):
        return [clients["anonymous"], clients["officer"]]
    if url.name.startswith("api-"):
        return [clients["api anonymous"], clients["api applicant"]]
    return [clients["anonymous"], clients["applicant"]]


@pytest.mark.django_db(transaction=True)  # a refused statement must not end the test's own transaction
def test_no_url_answers_5xx_to_nasty_input(world, people, evaluation_proposal, settings):
    settings.RATE_LIMITS_ENABLED = settings.RATELIMIT_ENABLE = False  # every request reaches its view
    clients = {"anonymous": Client(raise_request_exception=False), "api anonymous": APIClient()}
    for name, user in [
        ("applicant", world.applicant),
        ("regional", world.jatim_regional),
        ("officer", world.kediri_officer),
        ("head", world.kediri_head),
        ("superuser", world.superuser),
    ]:
        clients[name] = Client(raise_request_exception=False)
        clients[name].force_login(user)
    clients["api applicant"] = APIClient(HTTP_AUTHORIZATION=f"Token {create_api_token(user=world.applicant)}")
    clients["api anonymous"].raise_request_exception = clients["api applicant"].raise_request_exception = False

    failures, sent = [], 0

    def send(client, method, path, body=None, content_type=None):
        nonlocal sent
        sent += 1
        if method == "GET":
            response = client.get(path)
        elif content_type:
            response = client.generic("POST", path, body.encode(), content_type=content_type)
        else:
            response = client.post(path, body or {})
        if response.status_code >= 500:
            body_kind = f" ({content_type or 'form'})" if method == "POST" else ""
            failures.append(f"{method} {path[:120]}{body_kind}: {response.status_code}")
        elif response.status_code == 400 and response.get("Content-Type", "").startswith("application/json"):
            error = response.json()
            if not (isinstance(error, dict) and error.get("code") and error.get("detail")):
                failures.append(f"{method} {path[:120]}: 400 not in the error shape: {error}")
        return response

    for url in named_urls():
        if url.name in ("admin:logout", "accounts:logout", "api-logout"):
            continue  # would end the session the next requests use
        values = path_values(world, people, evaluation_proposal, url)
        path = url_path(url, values)
        for client in client_for_url(url, clients):
            for method, nasty_path, body, content_type in variants(url, path, values):
                send(client, method, nasty_path, body, content_type)
            if url.name.startswith("api-"):
                continue
            # The page's own forms, as a person would send them: every field at its edge, then a NUL in each.
            page = send(client, "GET", path)
            is_page = page.status_code == 200 and page.get("Content-Type", "").startswith("text/html")
            fields = form_of(page.content.decode(errors="replace")) if is_page else {}
            if fields and not url.name.endswith("_delete"):  # a delete page's form would delete the world
                send(client, "POST", path, fields)
            if fields:
                send(client, "POST", path, {k: [v + "\x00" for v in vs] for k, vs in fields.items()})
    # Paths no pattern names: the API's and the admin's catch-alls.
    for path in ["/%00", "/api/v1/%00/", "/api/v1/applications/%00/", "/admin/%00/", "/static/%00"]:
        send(clients["anonymous"], "GET", path)
    assert not failures, f"{len(failures)} of {sent} requests answered 5xx:\n" + "\n".join(failures)


def test_every_path_of_the_api_schema_is_fuzzed():
    """The schema is the mobile app's view of the API: each of its paths is a named URL above."""
    schema_paths = set(SchemaGenerator().get_schema(request=None, public=True)["paths"])
    fuzzed = {"/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", url.route) for url in named_urls()}
    assert schema_paths and schema_paths <= fuzzed, schema_paths - fuzzed
