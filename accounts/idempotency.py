"""The `Idempotency-Key` header of the API's creating calls.

A phone whose connection drops after a booking commits sees no answer and sends the booking
again; without a key the retry is refused as a duplicate NIK, and the app never learns its
booking code. With a key the retry gets the first answer again. The contract:
- scoped to the account and the path: another account or another endpoint may use the same key;
- the answer is stored in the transaction that creates the object (`record_answer`, called by
  the service inside it), so an object is never committed without it, nor it without the object;
  a request that creates nothing (a refusal) stores nothing, and its retry runs again;
- a retry with the same body gets the stored status and body (`stored_answer`); another body
  with the same key answers 422 `idempotency_mismatch`;
- while a request with the key runs, another answers 409 `request_in_progress` (`in_flight`,
  a lock in the cache taken before the lookup; when the cache is unreachable, the key's unique
  constraint and a second lookup after a refusal still give the retry the first answer);
- kept 24 hours: `purge_idempotency_keys` runs hourly (CELERY_BEAT_SCHEDULE).

A request without the header costs nothing more: no query, no cache call.
"""

import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import IntegrityError, connection
from django.utils import timezone
from redis.exceptions import RedisError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from mpaspor.api import IDEMPOTENCY_KEY_HEADER
from mpaspor.db import fetch, in_callers_transaction
from mpaspor.errors import DomainError

from .exceptions import IdempotencyMismatch, InvalidIdempotencyKey, RequestInProgress
from .models import IdempotencyKey, User

logger = logging.getLogger(__name__)

HEADER = IDEMPOTENCY_KEY_HEADER
KEEP = dt.timedelta(hours=24)
# Longer than any request may run (gunicorn's timeout is 30 s); a lock left by a killed worker
# refuses retries only this long.
IN_FLIGHT_SECONDS = 60
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as the IETF draft and Stripe allow


@dataclass(frozen=True)
class IdempotentRequest:
    account: User
    path: str
    key: str
    request_hash: str

    @classmethod
    def of(cls, request) -> "IdempotentRequest | None":
        """The request's key, or None without the header; InvalidIdempotencyKey (400) when the
        header is malformed. Reads the request's body (request.data)."""
        key = request.headers.get(HEADER)
        if key is None:
            return None
        if not _VALID_KEY.fullmatch(key):
            raise InvalidIdempotencyKey(field=HEADER)
        canonical = json.dumps(_plain(request.data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return cls(
            account=request.user,
            path=request.path,
            key=key,
            request_hash=hashlib.sha256(canonical.encode()).hexdigest(),
        )

    def stored_answer(self) -> Response | None:
        """The answer stored for this key, or None; IdempotencyMismatch when it answered another body."""
        stored = fetch("stored_answer", _stored_answer_sql(), [self.account.pk, self.path, self.key])
        if not stored:
            return None
        ((request_hash, status_code, body),) = stored
        if request_hash != self.request_hash:
            raise IdempotencyMismatch()
        return Response(json.loads(body), status=status_code, headers={"Idempotent-Replayed": "true"})

    @contextlib.contextmanager
    def in_flight(self):
        """Hold the key while the request runs: yields True when held, False when the cache is
        unreachable (the database still lets one creation commit); RequestInProgress when another
        request holds it."""
        lock = "idempotency:" + hashlib.sha256(f"{self.account.pk}:{self.path}:{self.key}".encode()).hexdigest()
        try:
            held = cache.add(lock, 1, IN_FLIGHT_SECONDS)
        except (RedisError, OSError):
            logger.warning("Idempotency lock unavailable; going on without it", exc_info=True)
            yield False
            return
        if not held:
            raise RequestInProgress()
        try:
            yield True
        finally:
            with contextlib.suppress(RedisError, OSError):
                cache.delete(lock)


def _plain(data):
    """A request's data as JSON can hold it: a multipart form's fields as lists of values, each
    uploaded file as the SHA-256 of its content (read, then rewound for the view)."""
    if not hasattr(data, "lists"):
        return data
    return {name: [_file_digest(v) if hasattr(v, "chunks") else v for v in values] for name, values in data.lists()}


def _file_digest(file) -> str:
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return f"sha256:{digest.hexdigest()}"


def create_once(request, *, create: Callable, answer: Callable[[list], tuple[int, dict]]) -> Response:
    """Answer a creating API call, honouring its Idempotency-Key. `create(in_same_transaction=...)`
    runs the creating service, which calls `in_same_transaction` with what it created inside its
    transaction (None without a key), and returns it; `answer(created)` makes the status and body
    sent, and stored.

    The key is taken before its stored answer is looked up: while it is held no other request
    with it runs, so one that finished did so before the lookup. Without the lock (the cache is
    down) a refusal looks again, since a request with the key may have committed meanwhile."""
    idempotent = IdempotentRequest.of(request)
    if idempotent is None:
        status_code, data = answer(create(in_same_transaction=None))
        return Response(data, status=status_code)
    record = Recorder(request=idempotent, answer=answer)
    with idempotent.in_flight() as alone:
        if (stored := idempotent.stored_answer()) is not None:
            return stored
        try:
            create(in_same_transaction=record)
        except DomainError:
            if not alone and (stored := idempotent.stored_answer()) is not None:
                return stored
            raise
    return Response(record.data, status=record.status_code)


@dataclass
class Recorder:
    """Called with what a service created, inside its transaction: makes the answer (`answer`)
    and stores it for the key. The view sends the same `status_code` and `data`, made once."""

    request: IdempotentRequest
    answer: Callable[[list], tuple[int, dict]]
    status_code: int | None = None
    data: dict | None = None

    def __call__(self, created: list) -> None:
        self.status_code, self.data = self.answer(created)
        record_answer(
            request=self.request, status_code=self.status_code, body=JSONRenderer().render(self.data).decode()
        )


# Every booking the app sends with a key runs this first: written out and prepared (mpaspor/db.py),
# as building the ORM query cost five times running it (0.66 against 0.11 ms). Same rows as
# IdempotencyKey.objects.filter(account=..., path=..., key=...)
# .values_list("request_hash", "status_code", "response_body"); the unique key's index finds it.
@functools.cache
def _stored_answer_sql() -> str:
    column = connection.ops.quote_name
    return (
        f"SELECT {column('request_hash')}, {column('status_code')}, {column('response_body')}"
        f" FROM {IdempotencyKey._meta.db_table}"
        f" WHERE {column('account_id')} = %s AND {column('path')} = %s AND {column('key')} = %s"
    )


@in_callers_transaction
def record_answer(*, request: IdempotentRequest, status_code: int, body: str) -> None:
    """Store the answer to `request`, inside the transaction that creates its object. When the key
    is taken (a request with it committed meanwhile), RequestInProgress rolls the creation back."""
    try:
        IdempotencyKey.objects.create(
            account=request.account,
            path=request.path,
            key=request.key,
            request_hash=request.request_hash,
            status_code=status_code,
            response_body=body,
        )
    except IntegrityError as exc:
        raise RequestInProgress() from exc


def purge_idempotency_keys(*, now: dt.datetime | None = None) -> int:
    """Forget the answers stored more than 24 hours ago. Returns how many."""
    now = now or timezone.now()
    deleted, _per_model = IdempotencyKey.objects.filter(created_at__lt=now - KEEP).delete()
    return deleted
