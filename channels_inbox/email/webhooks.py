"""Inbound email from hosted providers: Mailgun routes, Postmark inbound and SendGrid
Inbound Parse post each received mail to us instead of an SMTP connection.

Each endpoint checks who is calling, turns the provider's payload back into one raw MIME
message (the provider's own raw copy when it sends one, else a message rebuilt from its
fields with the original headers, so Message-ID, In-Reply-To, References and the
auto-reply headers keep threading and loop detection working) and stores it exactly as
the SMTP ingress does: one InboundEvent keyed by the Message-ID and the account's address.
It answers 200 only once the event is stored, and 200 again for a repeated delivery, which
stores nothing. Everything else happens in the pipeline's task.

The account is named in the URL and configured in its options and credentials:

- ``inbound_provider`` (an option; read from the credentials for accounts set up before
  options existed): ``mailgun``, ``postmark`` or ``sendgrid``; another provider's URL
  answers 404, as do unknown, inactive and non-email accounts (the answer never says which).
- Mailgun signs each post: ``mailgun_signing_key`` is the HTTP webhook signing key. A bad
  signature, a timestamp more than five minutes old (or a minute in the future) and a token
  seen before answer 406, which tells Mailgun to stop retrying: a replay would be refused
  again anyway.
- Postmark and SendGrid sign nothing: the URL carries ``inbound_secret``, compared in
  constant time; a wrong one answers 404.

Other answers: 405 to anything but POST, 413 to a body over the size limit, 400 to a body
that cannot be read (the provider's retries cannot fix it), 503 when the database is
unavailable (every provider retries).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels_inbox.email.ingress import default_max_message_bytes, store_email
from channels_inbox.email.webhook_payloads import (
    FormValue,
    PayloadError,
    field_text,
    mailgun_delivery,
    postmark_delivery,
    read_form,
    sendgrid_delivery,
)
from channels_inbox.models import ChannelAccount
from helpdesk.channel_kinds import ChannelKind

logger = logging.getLogger(__name__)

MAILGUN = "mailgun"
POSTMARK = "postmark"
SENDGRID = "sendgrid"
PROVIDERS = (MAILGUN, POSTMARK, SENDGRID)

# Mailgun's advice: refuse old timestamps and reused tokens. A minute of clock drift the
# other way is tolerated.
MAILGUN_MAX_AGE_SECONDS = 300
MAILGUN_MAX_FUTURE_SECONDS = 60
# A token is remembered for as long as its timestamp could still be accepted.
MAILGUN_TOKEN_TTL = MAILGUN_MAX_AGE_SECONDS + MAILGUN_MAX_FUTURE_SECONDS


class SignatureError(ValueError):
    """The Mailgun signature does not hold: answered 406."""


# --- Views ----------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def mailgun_inbound(request: HttpRequest, slug: str) -> HttpResponse:
    account = configured_account(slug, MAILGUN)
    signing_key = _credential(account, "mailgun_signing_key") if account else ""
    if account is None or not signing_key:
        return _not_found()
    return _receive(request, account, MAILGUN, signing_key)


@csrf_exempt
@require_POST
def postmark_inbound(request: HttpRequest, slug: str, secret: str) -> HttpResponse:
    account = configured_account(slug, POSTMARK)
    if account is None or not secret_matches(account, secret):
        return _not_found()
    return _receive(request, account, POSTMARK, "")


@csrf_exempt
@require_POST
def sendgrid_inbound(request: HttpRequest, slug: str, secret: str) -> HttpResponse:
    account = configured_account(slug, SENDGRID)
    if account is None or not secret_matches(account, secret):
        return _not_found()
    return _receive(request, account, SENDGRID, "")


def _receive(
    request: HttpRequest, account: ChannelAccount, provider: str, signing_key: str
) -> HttpResponse:
    limit = max_body_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
    if declared > limit:
        return _too_big()
    # Read here rather than through request.body / request.POST: their limits are the
    # site's small ones for forms, and a mail's attachments need more.
    body = request.read(limit + 1)
    if len(body) > limit:
        return _too_big()
    content_type = request.META.get("CONTENT_TYPE", "")
    token_key = ""
    try:
        if provider == MAILGUN:
            fields = read_form(body, content_type)
            token_key = verify_mailgun(fields, signing_key, account=account)
            delivery = mailgun_delivery(fields)
        elif provider == POSTMARK:
            delivery = postmark_delivery(body)
        else:
            delivery = sendgrid_delivery(read_form(body, content_type))
    except SignatureError as error:
        logger.info("Mailgun post for account %s refused: %s", account.slug, error)
        return HttpResponse("Signature refused.", status=406, content_type="text/plain")
    except PayloadError as error:
        if token_key:
            cache.delete(token_key)
        logger.info("Unreadable %s post for account %s: %s", provider, account.slug, error)
        return HttpResponse(f"Unreadable payload: {error}", status=400, content_type="text/plain")
    except Exception:
        # A 500: the provider posts again, and its token must be usable then.
        if token_key:
            cache.delete(token_key)
        raise
    headers = {"source": provider, "rcpt_tos": delivery.recipients}
    if delivery.mail_from is not None:
        headers["mail_from"] = delivery.mail_from
    try:
        store_email(account, delivery.raw, headers=headers)
    except DatabaseError:
        # The provider posts again later; its token must be usable then.
        if token_key:
            cache.delete(token_key)
        logger.exception("Database unavailable while storing %s mail for %r", provider, account)
        return HttpResponse("Try again later.", status=503, content_type="text/plain")
    except BaseException:
        if token_key:
            cache.delete(token_key)
        raise
    return HttpResponse("OK", content_type="text/plain")


def _not_found() -> HttpResponse:
    return HttpResponse("Not found.", status=404, content_type="text/plain")


def _too_big() -> HttpResponse:
    return HttpResponse("Message too big.", status=413, content_type="text/plain")


def max_body_bytes() -> int:
    """Room for the largest mail the SMTP ingress takes, twice: some providers send the
    parsed fields and the raw message in one post."""
    return max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, 2 * default_max_message_bytes())


# --- Who is calling -------------------------------------------------------------------------


def configured_account(slug: str, provider: str) -> ChannelAccount | None:
    """The active email account at ``slug`` set up to receive from ``provider``, or None."""
    account = ChannelAccount.objects.filter(
        slug=slug, kind=ChannelKind.EMAIL, is_active=True
    ).first()
    if account is None:
        return None
    configured = account.option("inbound_provider")
    if not isinstance(configured, str) or configured.strip().lower() != provider:
        return None
    return account


def _credential(account: ChannelAccount, name: str) -> str:
    credentials = account.credentials if isinstance(account.credentials, dict) else {}
    value = credentials.get(name)
    return value.strip() if isinstance(value, str) else ""


def secret_matches(account: ChannelAccount, given: str) -> bool:
    expected = _credential(account, "inbound_secret")
    # Bytes on both sides: compare_digest refuses non-ASCII text, and a URL can carry any.
    return bool(expected) and hmac.compare_digest(
        expected.encode("utf-8"), given.encode("utf-8", "surrogatepass")
    )


def verify_mailgun(
    fields: dict[str, FormValue],
    signing_key: str,
    *,
    account: ChannelAccount,
    now: Callable[[], float] = time.time,
) -> str:
    """Check the signature, its age and that its token is new; returns the cache key that
    marks the token used (the caller frees it when the mail could not be stored).
    SignatureError otherwise."""
    timestamp = field_text(fields, "timestamp")
    token = field_text(fields, "token")
    signature = field_text(fields, "signature")
    if not (timestamp and token and signature):
        raise SignatureError("timestamp, token or signature missing")
    expected = hmac.new(
        signing_key.encode("utf-8"), (timestamp + token).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode("utf-8")):
        raise SignatureError("signature does not match")
    try:
        signed_at = int(timestamp)
    except ValueError:
        raise SignatureError("timestamp is not a number") from None
    age = now() - signed_at
    if age > MAILGUN_MAX_AGE_SECONDS or age < -MAILGUN_MAX_FUTURE_SECONDS:
        # Logged with the drift: a server clock that is off refuses every mail.
        raise SignatureError(f"timestamp {age:+.0f} s from now is outside the window")
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    key = f"mailgun-token:{account.pk}:{digest}"
    if not cache.add(key, 1, timeout=MAILGUN_TOKEN_TTL):
        raise SignatureError("token already used")
    return key
