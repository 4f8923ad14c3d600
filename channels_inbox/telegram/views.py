"""The webhook a Telegram bot posts its updates to: ``/webhooks/telegram/<slug>/``.

Telegram signs nothing; it sends back the ``secret_token`` we gave ``setWebhook`` in the
``X-Telegram-Bot-Api-Secret-Token`` header, compared here in constant time. Answers: 404 for
an account that is unknown, inactive, not Telegram or without a ``secret_token``; 403 for a
missing or wrong secret; 413 for a body over ``MAX_UPDATE_BYTES``; 400 for a body that is
not an update (not a JSON object, no ``update_id``); 503 when the database is down, so
Telegram delivers it again; otherwise 200 with an empty body, also for an update stored
before. Every update that passes is stored, whatever its type: the adapter decides what
to take in and records why it ignores the rest.

The stored key is the ``update_id``, followed by the chat and message ids when the update
carries a message. Telegram numbers updates in sequence but starts again from a random
number after a week without updates, so an update id alone could match an old delivery and
a new message would be dropped as a repeat; a message id is never reused within its chat.
"""

from __future__ import annotations

import json
import logging
from typing import Any, TypeGuard

from django.db import DatabaseError
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
    read_body,
    secrets_match,
    too_large,
    try_later,
    unreadable,
)
from channels_inbox.services import store_inbound_event
from helpdesk.channel_kinds import ChannelKind

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# An update is one message with its metadata: a few kilobytes, never near this.
MAX_UPDATE_BYTES = 1024 * 1024


@csrf_exempt
@require_POST
def telegram_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    account = active_account(slug, ChannelKind.TELEGRAM)
    secret = credential(account, "secret_token") if account is not None else ""
    if account is None or not secret:
        return not_found()
    if not secrets_match(secret, request.headers.get(SECRET_HEADER, "")):
        logger.info("Telegram update for account %s refused: secret token mismatch", slug)
        return forbidden()
    try:
        body = read_body(request, MAX_UPDATE_BYTES)
        external_id = update_key(body)
    except BodyTooLarge:
        return too_large()
    except UnreadableBody as error:
        logger.info("Unreadable Telegram update for account %s: %s", slug, error)
        return unreadable(str(error))
    try:
        store_inbound_event(account, external_id=external_id, payload=body)
    except DatabaseError:
        logger.exception("Database unavailable while storing a Telegram update for %r", account)
        return try_later()
    return HttpResponse(b"", status=200)


def update_key(body: bytes) -> str:
    """The stored key of an update; UnreadableBody when ``body`` is not an update."""
    try:
        update = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UnreadableBody("not JSON") from None
    if not isinstance(update, dict):
        raise UnreadableBody("not a JSON object")
    update_id = update.get("update_id")
    if not _is_number(update_id) or update_id < 0:
        raise UnreadableBody("no update_id")
    for value in update.values():
        chat = value.get("chat") if isinstance(value, dict) else None
        if isinstance(chat, dict) and _is_number(chat.get("id")):
            assert isinstance(value, dict)
            if _is_number(value.get("message_id")):
                return f"{update_id}:{chat['id']}:{value['message_id']}"
    return str(update_id)


def _is_number(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
