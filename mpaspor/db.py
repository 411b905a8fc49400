"""Written-out SQL for the release's hot paths, with the ORM's loading and saving rules.

Every request of a release burst authenticates a token and reads its slot, every booking claims
a place and inserts its rows, and every draw entry reads its release and inserts its household.
For such few-row statements, building the SQL with the ORM
cost more CPU than the database spent on them, so they are written out once:
- `fetch_row` and `fetch_rows` load the same model instances, with the same database
  converters, as a queryset;
- `insert_after` inserts unsaved instances as `save()` would (defaults, auto_now_add, each
  field's preparation), after a statement that decides, such as the claim;
- `fetch` runs them, on PostgreSQL as statements prepared once per connection: planning them
  cost the database four times what running them does.
Everything that differs between PostgreSQL and the embedded default (SQLite) stays in here,
and so does `in_callers_transaction`, the guard of the functions that write part of a caller's
change. How the written-out SQL is held equal to the ORM: docs/architecture.md.
"""

import functools
import hashlib
import re
from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, Error, connection, connections
from django.db.backends.signals import connection_created
from django.db.models import Model
from django.dispatch import receiver


class TransactionRequired(RuntimeError):
    """A function that writes part of its caller's change was called outside a transaction."""


def in_callers_transaction(func):
    """Refuse to run `func` outside a transaction: it writes one part of a change whose other
    parts are its caller's (a claim and the application that holds the place), and the two must
    commit or roll back together. The caller owns the transaction."""

    @functools.wraps(func)
    def guarded(*args, **kwargs):
        if not connection.in_atomic_block:
            raise TransactionRequired(f"{func.__qualname__} must run inside its caller's transaction")
        return func(*args, **kwargs)

    return guarded


# "cached plan must not change result type" (a migration changed a column a statement returns)
# and "prepared statement does not exist": prepare again.
_STALE_STATEMENT = {"0A000", "26000"}


@receiver(connection_created)
def _new_connection_has_nothing_prepared(sender, connection, **kwargs):
    connection.prepared_statements = set()


def _execute(cursor, name: str, sql: str, params: list) -> None:
    """Run `sql` (with "%s" placeholders) on `cursor`; on PostgreSQL as the statement `name`,
    prepared once per database connection."""
    # This thread's connection: `connection` is a proxy, and each of its attributes a look-up in
    # a context-local (about 10 µs, once per parameter of a 35-parameter insert).
    wrapper = connections[DEFAULT_DB_ALIAS]
    adapt = wrapper.ops.adapt_unknown_value
    params = [adapt(value) for value in params]
    if wrapper.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    prepared = wrapper.__dict__.setdefault("prepared_statements", set())
    if name not in prepared:
        _prepare(wrapper, cursor, name, sql)
        prepared.add(name)
    run = f"EXECUTE {name} ({', '.join(['%s'] * len(params))})"
    try:
        cursor.execute(run, params)
    except Error as exc:
        if getattr(exc.__cause__, "pgcode", None) not in _STALE_STATEMENT:
            raise
        prepared.discard(name)
        if wrapper.in_atomic_block:  # the transaction is lost: a new connection after this request
            wrapper.close_at = 0
            raise
        _prepare(wrapper, cursor, name, sql, again=True)
        prepared.add(name)
        cursor.execute(run, params)


def fetch(name: str, sql: str, params: list) -> list[tuple]:
    """The rows of `sql` (prepared as `name` on PostgreSQL)."""
    with connection.cursor() as cursor:
        _execute(cursor, name, sql, params)
        return cursor.fetchall()


def _prepare(wrapper, cursor, name: str, sql: str, *, again: bool = False) -> None:
    # Set-up of the connection, like Django's own session settings: not logged as a query (query
    # counts stay what the request does), errors wrapped as Django's.
    with wrapper.wrap_database_errors:
        if again:
            cursor.cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [name])
            if cursor.cursor.fetchone():
                cursor.cursor.execute(f"DEALLOCATE {name}")
        cursor.cursor.execute(f"PREPARE {name} AS {_numbered(sql)}")


def _numbered(sql: str) -> str:
    """The "%s" placeholders as PREPARE takes them: $1, $2, ..."""
    parts = sql.split("%s")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], start=1)) + parts[-1]


# --- Errors -----------------------------------------------------------------------------------


def violates(exc: Error, model, constraint_name: str) -> bool:
    """Whether the IntegrityError `exc` is a violation of `model`'s unique constraint (or
    unique index) `constraint_name`, and not of any other. PostgreSQL names the constraint;
    SQLite names the table and columns ("UNIQUE constraint failed: table.col, ...")."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None:
        return diag.constraint_name == constraint_name
    constraint = next(c for c in model._meta.constraints if c.name == constraint_name)
    table = model._meta.db_table
    columns = ", ".join(f"{table}.{model._meta.get_field(f).column}" for f in constraint.fields)
    return str(cause).endswith(f"UNIQUE constraint failed: {columns}")


# --- Locking ----------------------------------------------------------------------------------


@functools.cache
def _lock_sql(model) -> str:
    table, pk = model._meta.db_table, connection.ops.quote_name(model._meta.pk.column)
    return f"SELECT 1 FROM {table} WHERE {pk} = %s FOR NO KEY UPDATE"


@in_callers_transaction
def lock_row(name: str, model, pk: int) -> None:
    """Lock one row until the caller's transaction ends, so that a check made after it (a count
    of the rows that point to it) holds until the commit; prepared as `name` on PostgreSQL.

    FOR NO KEY UPDATE: rows inserted meanwhile with a foreign key to it do not wait. SQLite needs
    nothing here: its transactions begin IMMEDIATE (settings), one writer at a time."""
    if connection.vendor == "postgresql":
        fetch(name, _lock_sql(model), [pk])


def lock_for_transaction(name: str) -> None:
    """Until the caller's transaction ends, wait for and then hold the lock called `name`: the
    callers that take it run one after the other (a job and a staff change recomputing the same
    derived state from what each reads). SQLite needs nothing: one writer at a time."""
    if connection.vendor == "postgresql":
        # A transaction-level advisory lock, keyed by the name's first 8 bytes of SHA-1.
        key = int.from_bytes(hashlib.sha1(name.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


# --- Reading ----------------------------------------------------------------------------------


def select_columns(model, alias: str) -> str:
    """The model's columns for a SELECT list, in the order `fetch_row` loads them."""
    return ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in model._meta.concrete_fields)


@functools.cache
def _loader(model) -> tuple[list[str], list, int]:
    fields = model._meta.concrete_fields
    converters = []
    for position, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((position, column, functions))
    return [f.attname for f in fields], converters, fields.index(model._meta.pk)


def fetch_row(name: str, sql: str, params: list, models: tuple) -> tuple | None:
    """Run `sql` (prepared as `name`), whose row is `select_columns` of each model in turn and
    then any extra values; return one instance of each model (as loaded from the database)
    followed by the extra values, or None when there is no row."""
    rows = fetch_rows(name, sql, params, models)
    return rows[0] if rows else None


def fetch_rows(name: str, sql: str, params: list, models: tuple) -> list[tuple]:
    """`fetch_row` for every row of `sql`. A model whose primary key is NULL in a row (a LEFT
    JOIN that found nothing) is None there; one whose row repeats (a parent joined to each of
    its children) is loaded once and shared by those rows."""
    wrapper = connections[DEFAULT_DB_ALIAS]  # not the proxy: see _execute
    loaded_rows, instances = [], {}
    for row in fetch(name, sql, params):
        loaded, start = [], 0
        for model in models:
            attnames, converters, pk_position = _loader(model)
            values = list(row[start : start + len(attnames)])
            start += len(attnames)
            key = (model, values[pk_position])
            if key[1] is not None and key not in instances:
                for position, column, functions in converters:
                    for convert in functions:
                        values[position] = convert(values[position], column, wrapper)
                instances[key] = model.from_db(wrapper.alias, attnames, values)
            loaded.append(instances.get(key))
        loaded_rows.append((*loaded, *row[start:]))
    return loaded_rows


# --- Writing ----------------------------------------------------------------------------------


def insert_after(name: str, statement: str, params: list, groups: Sequence[tuple[Model, list[Model]]]) -> bool:
    """Run `statement`, which decides by returning one row or none: the claim's UPDATE ...
    RETURNING id, or a SELECT that finds nothing in the way (no active application for a NIK).
    When it returns its row, insert each group's unsaved parent and then its unsaved children,
    whose foreign key points to that parent, as `save()` would (no model signals are sent).
    Returns whether the statement returned its row; call it inside the caller's transaction.

    On PostgreSQL all of it is one statement: the row the statement locks stays locked until the
    commit, and in one statement no Python runs meanwhile (measured: ~2,200 transactions/s this
    way against ~1,300 for an UPDATE and then an INSERT; docs/architecture.md). SQLite has no
    data-modifying WITH: there the same steps run one by one."""
    if connection.vendor != "postgresql":
        if not fetch(name, statement, params):
            return False
        for parent, children in groups:
            for obj in (parent, *children):
                obj.save(force_insert=True)
        return True
    if not groups:
        return bool(fetch(name, statement, params))

    parts, params, inserted = [f"WITH decided AS ({statement})"], list(params), []
    for g, (parent, children) in enumerate(groups):
        columns, placeholders, values = _insert(parent)
        parts.append(
            f", p{g} AS (INSERT INTO {parent._meta.db_table} ({columns})"
            f" SELECT {placeholders} FROM decided RETURNING id)"
        )
        params += values
        inserted.append((f"p{g}", parent, None))
        for c, child in enumerate(children):
            link = _link(type(child), type(parent))
            columns, placeholders, values = _insert(child, exclude=link)
            parts.append(
                f", p{g}_{c} AS (INSERT INTO {child._meta.db_table}"
                f" ({connection.ops.quote_name(link.column)}, {columns})"
                f" SELECT id, {placeholders} FROM p{g} RETURNING id)"
            )
            params += values
            inserted.append((f"p{g}_{c}", child, (link, parent)))
    parts.append("SELECT " + ", ".join(f"(SELECT id FROM {cte})" for cte, _obj, _parent in inserted))
    # One prepared statement per shape (which models, how many): a digest keeps the name short.
    shape = ",".join(f"{cte}:{obj._meta.label}" for cte, obj, _parent in inserted)
    ids = fetch(f"{name}_{hashlib.sha1(shape.encode()).hexdigest()[:12]}", " ".join(parts), params)[0]
    if ids[0] is None:
        return False
    for (_cte, obj, parent_link), pk in zip(inserted, ids, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias
        if parent_link:
            link, parent = parent_link
            setattr(obj, link.attname, parent.pk)
    return True


@functools.cache
def _link(child_model, parent_model):
    return next(f for f in child_model._meta.concrete_fields if f.is_relation and f.related_model is parent_model)


@functools.cache
def _insert_fields(model, exclude=None) -> tuple[list, str, str]:
    """A model's fields for an INSERT (but the primary key and `exclude`), their columns, and
    their placeholders, typed because INSERT ... SELECT does not take the target columns' types;
    cast without a length (`varchar`, not `varchar(20)`), which would cut a long value short
    where an INSERT refuses it."""
    fields = [f for f in model._meta.local_concrete_fields if not f.primary_key and f is not exclude]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(f"%s::{re.sub(r'[(].*[)]', '', f.db_type(connection))}" for f in fields)
    return fields, columns, placeholders


def _insert(obj, exclude=None) -> tuple[str, str, list]:
    fields, columns, placeholders = _insert_fields(type(obj), exclude)
    wrapper = connections[DEFAULT_DB_ALIAS]  # not the proxy: see _execute
    return columns, placeholders, [f.get_db_prep_save(f.pre_save(obj, True), wrapper) for f in fields]
