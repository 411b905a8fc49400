"""Written-out queries on the hot path, loaded as the ORM loads rows.

Every request of a release burst authenticates a token and reads its slot. For such one-row
queries, building the SQL with the ORM (and RawQuerySet's mapping of columns to fields) costs
more CPU than the database spends on them (bench/analysis.md), so they are written out once and
their rows loaded here: the same model instances, with the same database converters, as a
queryset would give. On PostgreSQL they are prepared statements: planning them cost the
database four times what running them does (bench/analysis.md).
"""

import functools

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver


@receiver(connection_created)
def _new_connection_has_nothing_prepared(sender, connection, **kwargs):
    connection.prepared_statements = set()


def execute(cursor, name: str, sql: str, params: list) -> None:
    """Run `sql` (with "%s" placeholders) on `cursor`; on PostgreSQL as the statement `name`,
    prepared once per database connection."""
    if connection.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    wrapper = connections[DEFAULT_DB_ALIAS]  # this thread's connection (`connection` is a proxy)
    prepared = wrapper.__dict__.setdefault("prepared_statements", set())
    if name not in prepared:
        # Set-up of the connection, like Django's own session settings: not logged as a query
        # (query counts stay what the request does), errors wrapped as Django's.
        with wrapper.wrap_database_errors:
            cursor.cursor.execute(f"PREPARE {name} AS {_numbered(sql)}")
        prepared.add(name)
    cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)


def _numbered(sql: str) -> str:
    """The "%s" placeholders as PREPARE takes them: $1, $2, ..."""
    parts = sql.split("%s")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], start=1)) + parts[-1]


def select_columns(model, alias: str) -> str:
    """The model's columns for a SELECT list, in the order `fetch_row` loads them."""
    return ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in model._meta.concrete_fields)


@functools.cache
def _loader(model) -> tuple[list[str], list]:
    fields = model._meta.concrete_fields
    converters = []
    for position, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((position, column, functions))
    return [f.attname for f in fields], converters


def fetch_row(name: str, sql: str, params: list, models: tuple) -> tuple | None:
    """Run `sql` (prepared as `name`), whose row is `select_columns` of each model in turn and
    then any extra values; return one instance of each model (as loaded from the database)
    followed by the extra values, or None when there is no row."""
    with connection.cursor() as cursor:
        execute(cursor, name, sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    loaded, start = [], 0
    for model in models:
        attnames, converters = _loader(model)
        values = list(row[start : start + len(attnames)])
        for position, column, functions in converters:
            for convert in functions:
                values[position] = convert(values[position], column, connection)
        loaded.append(model.from_db(connection.alias, attnames, values))
        start += len(attnames)
    return (*loaded, *row[start:])
