"""Messenger and Instagram accounts served by the fake Graph API, and notifications built and
signed the way Meta builds and signs them (providers.md section 2)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.test import Client

from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import Team
from tests.channels_inbox.meta_messaging.fake_graph import FakeGraph

# 2026-01-01 12:00:00 UTC in milliseconds, a plausible time for the examples' messages.
T0 = 1767268800000
# The app Meta Business Suite's inbox sends with: its echoes carry this app_id.
BUSINESS_SUITE_APP_ID = 263902037430900

_mids = itertools.count(1)


def encode(data: dict[str, Any]) -> bytes:
    """As Meta serializes: compact, non-ASCII escaped as \\uXXXX."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True).encode()


def signature(body: bytes, secret: str) -> str:
    """As Meta signs: sha256= and the hex HMAC-SHA256 of the raw body under the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def events() -> list[InboundEvent]:
    return list(InboundEvent.objects.order_by("pk"))


@dataclass(frozen=True)
class Product:
    """One product's account, customer and webhook, and its notifications."""

    kind: str
    webhook_object: str
    page_id: str
    customer: str  # Ana's PSID or IGSID
    customer_name: str
    profile: dict[str, str]  # what the user profile endpoint answers for Ana
    slug: str
    app_secret: str
    verify_token: str
    page_access_token: str
    max_text: int
    text_in_bytes: bool

    @property
    def url(self) -> str:
        return f"/webhooks/{self.kind}/{self.slug}/"

    def fake_graph(self) -> FakeGraph:
        graph = FakeGraph(
            page_access_token=self.page_access_token,
            max_text=self.max_text,
            text_in_bytes=self.text_in_bytes,
        )
        graph.profiles[self.customer] = dict(self.profile)
        return graph

    def credentials(self, **overrides: str) -> dict[str, str]:
        return {
            "app_secret": self.app_secret,
            "verify_token": self.verify_token,
            "page_access_token": self.page_access_token,
            "page_id": self.page_id,
            **overrides,
        }

    def make_account(self, support_team: Team | None = None, **overrides: Any) -> ChannelAccount:
        fields: dict[str, Any] = {
            "kind": self.kind,
            "name": f"Shop {self.kind.title()}",
            "slug": self.slug,
            "address": "Harbor & Pine",
            "credentials": self.credentials(),
            "default_team": support_team,
        }
        fields.update(overrides)
        return ChannelAccount.objects.create(**fields)

    # --- Events ----------------------------------------------------------------------------

    def new_mid(self) -> str:
        number = next(_mids)
        if self.kind == "instagram":
            return f"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAw{number:06d}"
        return f"m_AbCdEf{number:06d}"

    def event(
        self, body: dict[str, Any], *, sender: str = "", recipient: str = "", timestamp: int = T0
    ) -> dict[str, Any]:
        return {
            "sender": {"id": sender or self.customer},
            "recipient": {"id": recipient or self.page_id},
            "timestamp": timestamp,
            **body,
        }

    def message(
        self, text: str | None = None, *, mid: str = "", sender: str = "", timestamp: int = T0,
        **fields: Any,
    ) -> dict[str, Any]:  # fmt: skip
        """A customer's message event; ``fields`` go into ``message``."""
        message: dict[str, Any] = {"mid": mid or self.new_mid()}
        if text is not None:
            message["text"] = text
        message.update(fields)
        return self.event({"message": message}, sender=sender, timestamp=timestamp)

    def attachment(
        self, kind: str, url: str, text: str | None = None, **options: Any
    ) -> dict[str, Any]:
        payload = {"url": url, **options.pop("payload", {})}
        return self.message(text, attachments=[{"type": kind, "payload": payload}], **options)

    def echo(
        self, text: str | None = None, *, mid: str = "", customer: str = "", timestamp: int = T0,
        app_id: int = BUSINESS_SUITE_APP_ID, **fields: Any,
    ) -> dict[str, Any]:  # fmt: skip
        """What the Page sent, echoed: from the Page to the customer."""
        message: dict[str, Any] = {"is_echo": True, "app_id": app_id, "mid": mid or self.new_mid()}
        if text is not None:
            message["text"] = text
        message.update(fields)
        return self.event(
            {"message": message},
            sender=self.page_id,
            recipient=customer or self.customer,
            timestamp=timestamp,
        )

    def reaction(
        self, mid: str, *, action: str = "react", reaction: str = "love", emoji: str = "❤️",
        timestamp: int = T0 + 5000,
    ) -> dict[str, Any]:  # fmt: skip
        body = {"mid": mid, "action": action}
        if action == "react":
            body.update(reaction=reaction, emoji=emoji)
        return self.event({"reaction": body}, timestamp=timestamp)

    def postback(self, title: str, payload: str, *, mid: str = "") -> dict[str, Any]:
        return self.event(
            {"postback": {"title": title, "payload": payload, "mid": mid or self.new_mid()}}
        )

    def delivery(
        self, watermark: int, *, mids: Sequence[str] = (), timestamp: int = 0
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"watermark": watermark}
        if mids:
            body["mids"] = list(mids)
        return self.event({"delivery": body}, timestamp=timestamp or watermark + 100)

    def read(
        self, watermark: int | None = None, *, mid: str = "", timestamp: int = 0
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if watermark is not None:
            body["watermark"] = watermark
        if mid:
            body["mid"] = mid
        return self.event({"read": body}, timestamp=timestamp or (watermark or T0) + 100)

    def notification(
        self, *events: dict[str, Any], page_id: str = "", standby: Sequence[dict[str, Any]] = ()
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": page_id or self.page_id,
            "time": T0 + 1234,
            "messaging": list(events),
        }
        if standby:
            entry["standby"] = list(standby)
        return {"object": self.webhook_object, "entry": [entry]}

    # --- Posting ---------------------------------------------------------------------------

    def sign(self, body: bytes) -> str:
        return signature(body, self.app_secret)

    def post(self, capture: Any, body: bytes, *, url: str = "", signed: str | None = "") -> Any:
        """POST as Meta does (``signed`` "" signs the body with the app secret, None sends
        no signature); the pipeline's task runs after the request's commit."""
        headers = {}
        if signed is not None:
            headers["X-Hub-Signature-256"] = signed or self.sign(body)
        with capture(execute=True):
            return Client().post(
                url or self.url, data=body, content_type="application/json", headers=headers
            )

    def deliver(self, capture: Any, *events: dict[str, Any], **options: Any) -> Any:
        """A signed notification of ``events`` posted to the account's webhook."""
        response = self.post(capture, encode(self.notification(*events, **options)))
        assert response.status_code == 200, response.content
        return response

    def handshake(self, url: str = "", **overrides: str) -> Any:
        params = {
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": self.verify_token,
        }
        params.update(overrides)
        return Client().get(url or self.url, params)


MESSENGER = Product(
    kind="messenger",
    webhook_object="page",
    page_id="110200334455667",
    customer="6789012345678901",
    customer_name="Ana Souza",
    profile={"first_name": "Ana", "last_name": "Souza", "profile_pic": "https://cdn.test/a.jpg"},
    slug="shop-messenger",
    app_secret="fb-app-secret-91c2d4",
    verify_token="fb-verify-2b7c",
    page_access_token="EAAG-page-token-8d3a",
    max_text=2000,
    text_in_bytes=False,
)

INSTAGRAM = Product(
    kind="instagram",
    webhook_object="instagram",
    page_id="17841400000000001",
    customer="1122334455667788",
    customer_name="Ana Souza",
    profile={"name": "Ana Souza", "username": "ana.souza"},
    slug="shop-instagram",
    app_secret="ig-app-secret-5e7f01",
    verify_token="ig-verify-9a3d",
    page_access_token="EAAG-ig-page-token-4c1b",
    max_text=1000,
    text_in_bytes=True,
)
