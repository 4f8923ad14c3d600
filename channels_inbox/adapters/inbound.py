"""What the channels' webhook endpoints share: reading a bounded body, finding the account
named in the URL, reading a secret and the plain-text answers.

Every endpoint answers in the same order, so that nobody learns more than they prove: 404
for an account that is unknown, inactive, of another kind or not set up to receive; 403 for
a missing or wrong signature; 413 for a body over the limit; 400 for a body that cannot be
read; 503 when the database cannot store it (the provider tries again); 200 otherwise,
also for a repeated delivery, which stores nothing.
"""

from __future__ import annotations

import hmac
import weakref
from typing import Any, NamedTuple

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Col
from django.http import HttpRequest, HttpResponse

from channels_inbox.models import ChannelAccount
from helpdesk.statements import fetch_one


class BodyTooLarge(Exception):
    """The request body is over the endpoint's limit: answered 413."""


class UnreadableBody(ValueError):
    """The request cannot be what the provider sends: answered 400 with the reason."""


def active_account(slug: str, kind: str) -> ChannelAccount | None:
    """The active account of ``kind`` at ``slug``, or None. Read from the database on every
    call, never kept between requests: an account deactivated, or given a new secret, holds
    from the next request on, in every process."""
    # The statement and the row's conversions are worked out once per database connection:
    # the ORM compiling the same lookup anew on every request made it the costliest step of
    # a webhook. The row becomes the model as a queryset would make it (the backend's and
    # the fields' conversions, then from_db).
    database = connections[router.db_for_read(ChannelAccount)]
    query = _account_queries.get(database)
    if query is None:
        query = _account_queries[database] = _active_account_query(database)
    row = fetch_one(database, query.sql, [slug, kind, True])
    if row is None:
        return None
    values = list(row)
    for index, column, converters in query.converters:
        for convert in converters:
            values[index] = convert(values[index], column, database)
    return ChannelAccount.from_db(database.alias, query.attnames, values)


class _AccountQuery(NamedTuple):
    sql: str
    attnames: list[str]
    converters: list[tuple[int, Col, list[Any]]]


_account_queries: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _AccountQuery] = (
    weakref.WeakKeyDictionary()
)


# Bookkeeping no endpoint reads, left deferred (reading one would cost a query): turning
# each timestamp into a datetime goes through Django's time-zone loader, in Python, and was
# a twentieth of a webhook's CPU in the web server.
_UNREAD_COLUMNS = frozenset({"created_at", "updated_at"})


def _active_account_query(database: BaseDatabaseWrapper) -> _AccountQuery:
    """The row of the account at a slug, of a kind, if active (every column an endpoint
    reads); the slug is unique, so no ordering."""
    meta = ChannelAccount._meta
    quote = database.ops.quote_name
    fields = [field for field in meta.concrete_fields if field.name not in _UNREAD_COLUMNS]
    name = {field.name: quote(field.column) for field in fields}
    sql = (
        f"SELECT {', '.join(name.values())} FROM {quote(meta.db_table)} "  # noqa: S608 (names only)
        f"WHERE {name['slug']} = %s AND {name['kind']} = %s AND {name['is_active']} = %s"
    )
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(meta.db_table)
        # As SQLCompiler.get_converters: the backend's first, then the field's.
        found = database.ops.get_db_converters(column) + column.get_db_converters(database)
        if found:
            converters.append((index, column, found))
    return _AccountQuery(sql, [field.attname for field in fields], converters)


def credential(account: ChannelAccount, name: str) -> str:
    """A secret from the account's credentials, "" when it is missing or not a string."""
    credentials = account.credentials if isinstance(account.credentials, dict) else {}
    value = credentials.get(name)
    return value.strip() if isinstance(value, str) else ""


def secrets_match(expected: str, given: str) -> bool:
    """Constant-time, as bytes: compare_digest refuses non-ASCII text, and a header can
    carry any."""
    return bool(expected) and hmac.compare_digest(
        expected.encode("utf-8"), given.encode("utf-8", "surrogatepass")
    )


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, read once and before anything parses it (signatures are over these
    bytes). BodyTooLarge when it is declared or turns out larger than ``limit``;
    UnreadableBody for a Content-Length that is not a number."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise UnreadableBody("Content-Length is not a number.") from None
    if declared > limit:
        raise BodyTooLarge
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge
    return body


def plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def not_found() -> HttpResponse:
    return plain("Not found.", 404)


def forbidden() -> HttpResponse:
    return plain("Forbidden.", 403)


def too_large() -> HttpResponse:
    return plain("Body too large.", 413)


def unreadable(reason: str) -> HttpResponse:
    return plain(f"Unreadable payload: {reason}", 400)


def try_later() -> HttpResponse:
    return plain("Try again later.", 503)
