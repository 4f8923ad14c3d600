"""The WhatsApp webhook: ``/webhooks/whatsapp/<account slug>/``, the callback URL pasted into
the Meta app's WhatsApp configuration.

GET is Meta's subscription handshake (``hub.verify_token`` against the account's
``verify_token``). POST is a notification, signed with the app's ``app_secret``: checked
over the raw bytes before anything else, then stored as one InboundEvent keyed by what it
is about (``Notification.delivery_key``), so a redelivery is acknowledged and dropped. The
pipeline's task parses it later.

Meta has one callback URL per app, so a post may be about several business numbers of the
app. It is stored for the account in the URL and, once more, for each other active WhatsApp
account whose ``phone_number_id`` it names and whose ``app_secret`` also verifies the
signature; each account's parse reads only its own number's part.

Answers: 200 once stored (or already stored); 404 for an unknown, inactive, non-WhatsApp
account or one without an ``app_secret`` (the answer never says which); 403 for a missing
or wrong signature or verify token; 413 for a body over 3 MB; 400 for a body that is not a
WhatsApp notification (Meta's retries cannot fix it); 405 for other methods; 503 when the
database is unavailable (Meta retries).
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

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
from channels_inbox.meta.signatures import SIGNATURE_HEADER, signature_matches
from channels_inbox.meta.webhooks import MAX_BODY_BYTES, handshake_response
from channels_inbox.models import ChannelAccount
from channels_inbox.services import store_inbound_event
from channels_inbox.whatsapp.payloads import Notification, PayloadError, read_notification
from helpdesk.channel_kinds import ChannelKind

logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        account = receiving_account(slug)
        if account is None:
            return not_found()
        if request.method == "GET":
            return handshake_response(request, credential(account, "verify_token"))
        return _receive(request, account)
    except DatabaseError:
        logger.exception("Database unavailable for the WhatsApp webhook of %s", slug)
        return try_later()


def receiving_account(slug: str) -> ChannelAccount | None:
    """The active WhatsApp account at ``slug`` that can verify what it receives, or None."""
    account = active_account(slug, ChannelKind.WHATSAPP)
    if account is None or not credential(account, "app_secret"):
        return None
    return account


def _receive(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    try:
        body = read_body(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        return too_large()
    except UnreadableBody as error:
        return unreadable(str(error))
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature_matches(credential(account, "app_secret"), body, signature):
        logger.info("WhatsApp post for account %s refused: bad or missing signature", account.slug)
        # One answer for a missing and a wrong signature: the caller learns nothing more.
        return forbidden()
    try:
        notification = read_notification(body)
    except PayloadError as error:
        logger.info("Unreadable WhatsApp post for account %s: %s", account.slug, error)
        return unreadable(str(error))
    key = notification.delivery_key(body)
    headers = {SIGNATURE_HEADER: signature or ""}
    others = _other_accounts(account, notification, body, signature)
    if not others:
        # The usual post, about the one account: its INSERT commits on its own.
        store_inbound_event(account, external_id=key, payload=body, headers=headers)
        return plain("OK", 200)
    with transaction.atomic():
        for target in [account, *others]:
            store_inbound_event(target, external_id=key, payload=body, headers=headers)
    return plain("OK", 200)


def _other_accounts(
    account: ChannelAccount, notification: Notification, body: bytes, signature: str | None
) -> list[ChannelAccount]:
    """Other accounts of the same Meta app that the post is also about."""
    others = notification.phone_number_ids - {credential(account, "phone_number_id")}
    if not others:
        return []
    candidates = ChannelAccount.objects.filter(
        kind=ChannelKind.WHATSAPP,
        is_active=True,
        credentials__phone_number_id__in=sorted(others),
    ).exclude(pk=account.pk)
    return [
        other
        for other in candidates.order_by("pk")
        if signature_matches(credential(other, "app_secret"), body, signature)
    ]
