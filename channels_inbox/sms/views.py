"""The webhooks Twilio posts to: ``/webhooks/sms/<slug>/`` for a message that comes in,
``/webhooks/sms/<slug>/status/`` for the status callbacks of the messages we send.

Each post is checked against ``X-Twilio-Signature`` with the account's ``auth_token``, over
the URL Twilio called. Behind a proxy this server sees another scheme and host, so the URL
is rebuilt from ``PUBLIC_BASE_URL`` and the path and query as received: set it to what the
Twilio console has.

Answers: 404 for an account that is unknown, inactive, not SMS or without an
``auth_token``; 403 for a missing or wrong signature; 415 for anything but form data; 413
for a body over ``MAX_FORM_BYTES``; 400 for a body that cannot be read or lacks the
``MessageSid`` (and ``From`` or ``MessageStatus``); 503 when the database is down; otherwise
200 with empty TwiML, also for a post stored before. The key stored is the ``MessageSid``,
and for a status callback the ``MessageSid`` and the status: each status is its own
delivery, repeated ones are dropped.

An opt-out or opt-in keyword is recorded here, in the transaction that stores the post:
from the moment Twilio has our answer, no reply goes to a number that sent STOP, however
long the pipeline takes to get to the message.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels_inbox.adapters.inbound import (
    BodyTooLarge,
    UnreadableBody,
    active_account,
    credential,
    forbidden,
    not_found,
    plain,
    read_body,
    too_large,
    try_later,
    unreadable,
)
from channels_inbox.services import store_inbound_event
from channels_inbox.sms.adapter import MESSAGE_WEBHOOK, STATUS_WEBHOOK, field, parse_form
from channels_inbox.sms.keywords import Keyword, keyword_of
from channels_inbox.sms.services import record_keyword
from channels_inbox.sms.signature import is_valid_form_signature
from customers.identities import normalize_address
from helpdesk.channel_kinds import ChannelKind

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# A message's form post: up to 1,600 characters of text, ten media URLs and the metadata.
MAX_FORM_BYTES = 256 * 1024
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@csrf_exempt
@require_POST
def sms_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    return _receive(request, slug, MESSAGE_WEBHOOK)


@csrf_exempt
@require_POST
def sms_status_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    return _receive(request, slug, STATUS_WEBHOOK)


def public_url(request: HttpRequest) -> str:
    """The URL Twilio called, as Twilio wrote it: the public base URL, then the path and the
    query string as received."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path_info()


def _receive(request: HttpRequest, slug: str, webhook: str) -> HttpResponse:
    account = active_account(slug, ChannelKind.SMS)
    auth_token = credential(account, "auth_token") if account is not None else ""
    if account is None or not auth_token:
        return not_found()
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return forbidden()
    if request.content_type != FORM_CONTENT_TYPE:
        return plain("Expected form data.", 415)
    try:
        body = read_body(request, MAX_FORM_BYTES)
        try:
            fields = parse_form(body)
        except (UnicodeDecodeError, ValueError):
            raise UnreadableBody("not UTF-8 form data") from None
    except BodyTooLarge:
        return too_large()
    except UnreadableBody as error:
        return unreadable(str(error))
    if not is_valid_form_signature(public_url(request), fields, signature, auth_token):
        logger.info("Twilio %s post for account %s refused: signature mismatch", webhook, slug)
        return forbidden()

    sid = field(fields, "MessageSid").strip()
    if webhook == STATUS_WEBHOOK:
        status = field(fields, "MessageStatus").strip().lower()
        if not sid or not status:
            return unreadable("no MessageSid or MessageStatus")
        external_id = f"{sid}:{status}"
    else:
        if not sid or not field(fields, "From").strip():
            return unreadable("no MessageSid or From")
        external_id = sid
    opt_keyword = _opt_keyword(fields) if webhook == MESSAGE_WEBHOOK else None
    headers = {"webhook": webhook}
    try:
        if opt_keyword is None:
            # Nothing else to write (the usual post): the INSERT commits on its own.
            store_inbound_event(account, external_id=external_id, payload=body, headers=headers)
        else:
            with transaction.atomic():
                _event, created = store_inbound_event(
                    account, external_id=external_id, payload=body, headers=headers
                )
                if created:
                    address, keyword = opt_keyword
                    record_keyword(account, address=address, keyword=keyword)
    except DatabaseError:
        logger.exception("Database unavailable while storing a Twilio post for %r", account)
        return try_later()
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def _opt_keyword(fields: dict[str, list[str]]) -> tuple[str, Keyword] | None:
    """The sender's number (E.164) and the keyword a message is, or None for an ordinary
    message or a sender that is not a number of this channel."""
    keyword = keyword_of(field(fields, "Body"), field(fields, "OptOutType"))
    if keyword is None:
        return None
    sender = field(fields, "From").strip()
    if ":" in sender and not sender.lower().startswith("tel:"):
        return None  # another channel's address (whatsapp:+1...): not this account's SMS
    try:
        address = normalize_address(ChannelKind.SMS, sender)
    except ValidationError:
        return None  # not a number we could ever send to
    return address, keyword
