"""Statements run on every request of a hot path (a webhook's account lookup and event
INSERT), with their parameters sent apart from the SQL on PostgreSQL.

Django's psycopg backend binds parameters on the client: each value is escaped into the
statement text in Python, which for a webhook's payload and headers was a tenth of the web
server's CPU per request, and the server parses and plans the statement anew each time.
Sent apart, the values go through psycopg's compiled dumpers, and after a few executions
psycopg has the server keep the statement prepared (its default threshold), per connection.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper


@contextmanager
def bound_cursor(database: BaseDatabaseWrapper) -> Iterator[Any]:
    """A cursor on ``database``'s connection (opened, health-checked and inside its
    transaction as Django's own), wrapped as Django wraps its cursors: errors arrive as
    Django's (IntegrityError, ...), execute wrappers and the query log see the statement.
    On PostgreSQL it binds parameters on the server; elsewhere it is the usual cursor."""
    with database.cursor() as cursor:
        if database.vendor != "postgresql":
            yield cursor
            return
        # Typed as taking a wrapper in django-stubs; Django passes the driver's cursor.
        bound: Any = psycopg.Cursor(cursor.cursor.connection)
        wrapped = (
            database.make_debug_cursor(bound)
            if database.queries_logged
            else database.make_cursor(bound)
        )
        with wrapped:
            yield wrapped


def fetch_one(database: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> Any:
    """The first row of ``sql`` run with ``params`` through ``bound_cursor``, or None."""
    with bound_cursor(database) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()
