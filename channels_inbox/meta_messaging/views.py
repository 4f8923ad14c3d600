"""The Messenger and Instagram webhooks: ``/webhooks/messenger/<account slug>/`` and
``/webhooks/instagram/<account slug>/``, the callback URLs pasted into the Meta app's
Messenger (object ``page``) and Instagram (object ``instagram``) webhook settings.

GET is Meta's subscription handshake (``hub.verify_token`` against the account's
``verify_token``). POST is a notification, signed with the app's ``app_secret``: checked
over the raw bytes before anything else, then stored as one InboundEvent keyed by what it
is about (``Notification.delivery_key``: message mids, receipt watermarks), so a redelivery
is acknowledged and dropped. The pipeline's task parses it later.

Meta has one callback URL per app and object, so a post may be about several Pages (or
Instagram accounts) of the app. It is stored for the account in the URL and, once more, for
each other active account of the same kind whose ``page_id`` it names and whose
``app_secret`` also verifies the signature; each account's parse reads only its own entries.

Answers: 200 once stored (or already stored); 404 for an unknown or inactive account, one
of another kind, or one without an ``app_secret`` (the answer never says which); 403 for a
missing or wrong signature or verify token; 413 for a body over 3 MB; 400 for a body that
is not a notification of the product (Meta's retries cannot fix it); 405 for other methods;
503 when the database is unavailable (Meta retries).
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
from channels_inbox.meta_messaging.payloads import Notification, PayloadError, read_notification
from channels_inbox.meta_messaging.products import INSTAGRAM, MESSENGER, Product
from channels_inbox.models import ChannelAccount
from channels_inbox.services import store_inbound_event

logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def messenger_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    return _webhook(request, slug, MESSENGER)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def instagram_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    return _webhook(request, slug, INSTAGRAM)


def _webhook(request: HttpRequest, slug: str, product: Product) -> HttpResponse:
    try:
        account = receiving_account(slug, product)
        if account is None:
            return not_found()
        if request.method == "GET":
            return handshake_response(request, credential(account, "verify_token"))
        return _receive(request, account, product)
    except DatabaseError:
        logger.exception("Database unavailable for the %s webhook of %s", product.label, slug)
        return try_later()


def receiving_account(slug: str, product: Product) -> ChannelAccount | None:
    """The active account of ``product`` at ``slug`` that can verify what it receives."""
    account = active_account(slug, product.kind)
    if account is None or not credential(account, "app_secret"):
        return None
    return account


def _receive(request: HttpRequest, account: ChannelAccount, product: Product) -> HttpResponse:
    try:
        body = read_body(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        return too_large()
    except UnreadableBody as error:
        return unreadable(str(error))
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature_matches(credential(account, "app_secret"), body, signature):
        logger.info(
            "%s post for account %s refused: bad or missing signature", product.label, account.slug
        )
        # One answer for a missing and a wrong signature: the caller learns nothing more.
        return forbidden()
    try:
        notification = read_notification(body, product.webhook_object)
    except PayloadError as error:
        logger.info("Unreadable %s post for account %s: %s", product.label, account.slug, error)
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
    others = notification.account_ids - {credential(account, "page_id")}
    if not others:
        return []
    candidates = ChannelAccount.objects.filter(
        kind=account.kind, is_active=True, credentials__page_id__in=sorted(others)
    ).exclude(pk=account.pk)
    return [
        other
        for other in candidates.order_by("pk")
        if signature_matches(credential(other, "app_secret"), body, signature)
    ]
