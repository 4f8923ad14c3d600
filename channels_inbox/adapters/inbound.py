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

from django.http import HttpRequest, HttpResponse

from channels_inbox.models import ChannelAccount


class BodyTooLarge(Exception):
    """The request body is over the endpoint's limit: answered 413."""


class UnreadableBody(ValueError):
    """The request cannot be what the provider sends: answered 400 with the reason."""


def active_account(slug: str, kind: str) -> ChannelAccount | None:
    # get(), not first(): the slug is unique, and first() would sort by the model's ordering.
    try:
        return ChannelAccount.objects.get(slug=slug, kind=kind, is_active=True)
    except ChannelAccount.DoesNotExist:
        return None


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
