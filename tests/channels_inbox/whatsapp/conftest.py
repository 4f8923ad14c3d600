"""A WhatsApp account served by the fake Graph API, and notifications built and signed the
way Meta builds and signs them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from django.test import Client

from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import Team
from tests.caches import clear_cache
from tests.channels_inbox.whatsapp.fake_graph import FakeGraph

APP_SECRET = "wa-app-secret-3f9c0d"
VERIFY_TOKEN = "wa-verify-7d21aa"
ACCESS_TOKEN = "wa-system-user-token-5b8e"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
BUSINESS_NUMBER = "15550783881"
SLUG = "shop-whatsapp"
URL = f"/webhooks/whatsapp/{SLUG}/"
# Ana, the customer: her wa_id as WhatsApp sends it, and as an E.164 identity.
ANA_WA_ID = "5511987654321"
ANA = "+5511987654321"
# 2026-01-01 12:00:00 UTC, a plausible time for the examples' messages.
T0 = 1767268800

_wamids = itertools.count(1)


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """A reply sent in several parts remembers its progress in the cache."""
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def graph(settings: Any) -> Iterator[FakeGraph]:
    fake = FakeGraph(access_token=ACCESS_TOKEN, phone_number_id=PHONE_NUMBER_ID)
    settings.META_GRAPH_API_URL = fake.url
    settings.META_GRAPH_TIMEOUT_SECONDS = 5
    yield fake
    fake.close()


def make_account(support_team: Team | None = None, **overrides: Any) -> ChannelAccount:
    fields: dict[str, Any] = {
        "kind": "whatsapp",
        "name": "Shop WhatsApp",
        "slug": SLUG,
        "address": f"+{BUSINESS_NUMBER}",
        "credentials": {
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": ACCESS_TOKEN,
            "phone_number_id": PHONE_NUMBER_ID,
        },
        "default_team": support_team,
    }
    fields.update(overrides)
    return ChannelAccount.objects.create(**fields)


@pytest.fixture
def account(support_team: Team, graph: FakeGraph) -> ChannelAccount:
    return make_account(support_team)


# --- Notifications, as Meta sends them -----------------------------------------------------


def new_wamid() -> str:
    return f"wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjBD{next(_wamids):06d}AA=="


def message(
    kind: str,
    body: Any = None,
    *,
    wamid: str = "",
    wa_id: str = ANA_WA_ID,
    timestamp: int = T0,
    **extra: Any,
) -> dict[str, Any]:
    """One ``messages[]`` item of type ``kind``."""
    item: dict[str, Any] = {
        "from": wa_id,
        "id": wamid or new_wamid(),
        "timestamp": str(timestamp),
        "type": kind,
    }
    if body is not None:
        item[kind] = body
    item.update(extra)
    return item


def text(body: str, **options: Any) -> dict[str, Any]:
    return message("text", {"body": body}, **options)


def status(wamid: str, state: str, *, timestamp: int = T0 + 60, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": str(timestamp),
        "recipient_id": ANA_WA_ID,
    }
    item.update(extra)
    return item


def change_value(
    *,
    messages: Sequence[dict[str, Any]] = (),
    statuses: Sequence[dict[str, Any]] = (),
    names: dict[str, str] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": BUSINESS_NUMBER, "phone_number_id": phone_number_id},
    }
    if messages:
        senders = names if names is not None else {ANA_WA_ID: "Ana Souza"}
        value["contacts"] = [
            {"profile": {"name": name}, "wa_id": wa_id} for wa_id, name in senders.items()
        ]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return value


def notification(*values: dict[str, Any], field: str = "messages") -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": WABA_ID, "changes": [{"field": field, "value": value} for value in values]}
        ],
    }


def encode(data: dict[str, Any]) -> bytes:
    """As Meta serializes: compact, non-ASCII escaped as \\uXXXX."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True).encode()


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    """As Meta signs: sha256= and the hex HMAC-SHA256 of the raw body under the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(
    capture: Any,
    body: bytes,
    *,
    url: str = URL,
    signed: str | None = "",
    content_type: str = "application/json",
) -> Any:
    """POST as Meta does (``signed`` "" signs the body with the app secret, None sends no
    signature); the pipeline's task runs after the request's commit."""
    headers = {}
    if signed is not None:
        headers["X-Hub-Signature-256"] = signed or signature(body)
    with capture(execute=True):
        return Client().post(url, data=body, content_type=content_type, headers=headers)


def deliver(capture: Any, *values: dict[str, Any]) -> Any:
    """A signed notification with ``values`` posted to the account's webhook."""
    response = post(capture, encode(notification(*values)))
    assert response.status_code == 200, response.content
    return response


def events() -> list[InboundEvent]:
    return list(InboundEvent.objects.order_by("pk"))
