"""Deterministic provider webhooks for the webhook ingest benchmark (bench/webhook_ingest.py).

``generate(count, seed=..., public_base_url=...)`` returns the same posts for the same
arguments: WhatsApp Cloud notifications, Twilio SMS form posts, Messenger page events and
Telegram updates, each built and signed exactly as its provider builds and signs it
(/work/shared/docs/providers.md; the same shapes the tests in tests/channels_inbox/ post).
Many customers write a few times each (one to five messages, each at least ``SENDER_GAP``
places after the customer's previous one, so their provider would deliver them apart, never
at the same moment; a customer whose next message would fall past the end writes fewer).
Most messages are text, the rest types that need no file download (locations, shared
contacts, button replies, venues). So every post is expected to become exactly one inbound
ticket message, named by the provider message id the adapter stores, and every customer
one ticket.

The signing is written out here rather than imported from the adapters, so a benchmark
post is checked by the product's code, not by itself.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

WHATSAPP, SMS, MESSENGER, TELEGRAM = "whatsapp", "sms", "messenger", "telegram"
PROVIDERS = (WHATSAPP, SMS, MESSENGER, TELEGRAM)
# Of the posts, when every provider takes part; a provider left out gives its share to the
# others in proportion.
SHARES = {WHATSAPP: 0.35, SMS: 0.25, MESSENGER: 0.20, TELEGRAM: 0.20}
# Messages per customer: 1 to 5, about 2.4 on average.
MESSAGES_PER_SENDER_WEIGHTS = (35, 25, 18, 12, 10)
# Places between two messages of one customer, at least: with a few parallel connections
# they arrive some hundred milliseconds apart, like a person typing, never at one instant.
SENDER_GAP = (20, 400)
# 2026-01-01 12:00:00 UTC: the providers' own timestamps start here, a second apart.
T0 = 1767268800


@dataclass(frozen=True)
class AccountSpec:
    """The channel account a provider's posts go to: the benchmark creates it."""

    kind: str
    slug: str
    name: str
    address: str
    credentials: dict[str, str]
    path: str  # the webhook's path on our server


WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
MESSENGER_PAGE_ID = "110200334455667"
TWILIO_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"

ACCOUNTS: dict[str, AccountSpec] = {
    WHATSAPP: AccountSpec(
        kind=WHATSAPP,
        name="Shop WhatsApp",
        slug="bench-whatsapp",
        address="+15550783881",
        credentials={
            "app_secret": "bench-wa-app-secret-3f9c0d7e21",
            "verify_token": "bench-wa-verify-7d21aa",
            "access_token": "bench-wa-system-user-token-5b8e",
            "phone_number_id": WHATSAPP_PHONE_NUMBER_ID,
        },
        path="/webhooks/whatsapp/bench-whatsapp/",
    ),
    SMS: AccountSpec(
        kind=SMS,
        name="Shop SMS",
        slug="bench-sms",
        address="+14155550100",
        credentials={
            "account_sid": TWILIO_ACCOUNT_SID,
            "auth_token": "bench-twilio-auth-token-5f1c9e",
        },
        path="/webhooks/sms/bench-sms/",
    ),
    # The adapter names a new customer through the Graph API's user profile endpoint: the
    # benchmark answers it from a local fake (bench.webhook_ingest.FakeProviderApi).
    MESSENGER: AccountSpec(
        kind=MESSENGER,
        name="Shop Messenger",
        slug="bench-messenger",
        address="Shop on Facebook",
        credentials={
            "app_secret": "bench-fb-app-secret-91c2d4e6f8",
            "verify_token": "bench-fb-verify-2b7c",
            "page_access_token": "bench-fb-page-token-8d3a",
            "page_id": MESSENGER_PAGE_ID,
        },
        path="/webhooks/messenger/bench-messenger/",
    ),
    TELEGRAM: AccountSpec(
        kind=TELEGRAM,
        name="Shop bot",
        slug="bench-bot",
        address="shop_bench_bot",
        credentials={
            "bot_token": "7012345678:AAH-bench-bot-token_0123456789abcdef",
            "secret_token": "bench-Secret_4f0c2e9a7b",
        },
        path="/webhooks/telegram/bench-bot/",
    ),
}

# Which message types each provider's posts carry, and how often (the rest of the way
# to 100 is text).
SHAPES: dict[str, dict[str, int]] = {
    WHATSAPP: {"location": 6, "contacts": 5, "button_reply": 5, "button": 4},
    SMS: {},
    MESSENGER: {"quick_reply": 10},
    TELEGRAM: {"location": 5, "contact": 5, "venue": 5},
}

_FIRST_NAMES = (
    "Ana", "Bruno", "Chloé", "Dmitri", "Eva", "Farid", "Greta", "Hiro", "Inès", "Jonas",
    "Katarzyna", "Lars", "Mei", "Nuno", "Olga", "Pedro", "Quentin", "Rosa", "Søren", "Tomás",
)  # fmt: skip
_LAST_NAMES = (
    "Souza", "Müller", "Dubois", "Ivanov", "Kowalski", "Tanaka", "García", "Jensen", "Rossi",
    "Novák", "Öztürk", "Haddad", "Lindqvist", "O'Brien", "Nakamura", "Fernández",
)  # fmt: skip
# Never a bare keyword (STOP, START, HELP...): those are SMS opt-out commands, not messages.
_TEXTS = (
    "Hi! Where is my order {order}?",
    "The parcel for {order} arrived damaged, the lamp is broken 😞",
    "Can I still change the delivery address for {order}?",
    "I was charged twice for order {order}, please check.",
    "Wrong size delivered ({order}). How do I exchange it?",
    "Bestellung {order} ist noch nicht angekommen. Können Sie nachsehen?",
    "Bonjour, ma commande {order} n'est pas encore arrivée.",
    "Olá! Meu pedido {order} ainda não chegou, podem verificar?",
    "Hola, ¿puedo cancelar el pedido {order}?",
    "注文 {order} の配送状況を教えてください。",
    "Заказ {order} так и не пришёл.",
    "thanks!! 👍",
    "Any news on {order}?",
    "ok, I'll wait for the tracking number",
    "Is the blue one back in stock?",
)
_PLACES = (
    ("Shop pickup point", "Rua Augusta 1200, São Paulo", -23.5558, -46.6620),
    ("Packstation 112", "Torstraße 49, Berlin", 52.5290, 13.4010),
    ("Home", "12 Rue de Rivoli, Paris", 48.8556, 2.3601),
    ("Office", "350 5th Ave, New York", 40.7484, -73.9857),
)
_BUTTONS = (("track-order", "Track my order"), ("talk-to-agent", "Talk to a person"))
_QUICK_REPLIES = (("ORDER_STATUS", "Order status"), ("RETURNS", "Returns and refunds"))
# Customers' numbers, per country: a prefix and how many random digits follow.
_WHATSAPP_NUMBERS = (("55119", 8), ("4915", 9), ("9198", 8), ("5255", 8), ("3462", 7))
_SMS_NUMBERS = (("+1212555", 4), ("+1312555", 4), ("+1415555", 4), ("+1617555", 4))


@dataclass(frozen=True)
class GeneratedWebhook:
    index: int
    provider: str
    sender: str  # the provider's id of the customer: wa_id, phone number, PSID, chat id
    sender_name: str
    shape: str
    path: str
    content_type: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    # The id the adapter stores as Message.provider_message_id.
    provider_message_id: str


@dataclass
class _Sender:
    provider: str
    id: str
    name: str
    messages: int  # still to send
    chat_message_id: int = 0  # Telegram: message ids count per chat


# --- Signatures, as the providers sign --------------------------------------------------------


def meta_signature(app_secret: str, body: bytes) -> str:
    """``X-Hub-Signature-256``: sha256= and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def twilio_signature(url: str, params: Sequence[tuple[str, str]], auth_token: str) -> str:
    """``X-Twilio-Signature`` (providers.md 3.2): the URL, then each parameter name in
    code-point order with each of its distinct values in order; base64 HMAC-SHA1."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    signed = url + "".join(
        name + value for name in sorted(values) for value in sorted(values[name])
    )
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def meta_json(data: dict[str, Any]) -> bytes:
    """As Meta serializes: compact, non-ASCII escaped as \\uXXXX."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True).encode()


# --- Generation -------------------------------------------------------------------------------


def shares_for(providers: Sequence[str]) -> dict[str, float]:
    total = sum(SHARES[provider] for provider in providers)
    return {provider: SHARES[provider] / total for provider in providers}


def generate(
    count: int,
    *,
    seed: int = 2024,
    public_base_url: str = "https://help.shop.bench",
    providers: Sequence[str] = PROVIDERS,
) -> list[GeneratedWebhook]:
    """``count`` signed posts in the order they are to be sent. ``public_base_url`` is what
    the server's ``PUBLIC_BASE_URL`` says: Twilio signs the URL it called."""
    if not providers or any(provider not in SHARES for provider in providers):
        raise ValueError(f"providers must be some of {', '.join(PROVIDERS)}")
    rng = random.Random(seed)
    shares = shares_for(providers)
    names, weights = list(shares), list(shares.values())
    seen: set[str] = set()
    builder = _Builder(rng, public_base_url)
    order = itertools.count()
    # (the first place it may go out at, a tie-breaker, the customer) of each customer's
    # next message; a place nobody is due at goes to a new customer.
    due: list[tuple[int, int, _Sender]] = []
    webhooks = []
    for index in range(count):
        if due and due[0][0] <= index:
            sender = heapq.heappop(due)[2]
        else:
            provider = rng.choices(names, weights)[0]
            sender = _Sender(
                provider=provider,
                id=_new_sender_id(rng, provider, seen),
                name=f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}",
                messages=rng.choices(range(1, 6), MESSAGES_PER_SENDER_WEIGHTS)[0],
                chat_message_id=rng.randrange(2, 500),
            )
        webhooks.append(builder.build(index, sender))
        sender.messages -= 1
        if sender.messages:
            heapq.heappush(due, (index + rng.randint(*SENDER_GAP), next(order), sender))
    return webhooks


def _new_sender_id(rng: random.Random, provider: str, seen: set[str]) -> str:
    while True:
        if provider == WHATSAPP:
            prefix, digits = rng.choice(_WHATSAPP_NUMBERS)
            candidate = prefix + "".join(rng.choices("0123456789", k=digits))
        elif provider == SMS:
            prefix, digits = rng.choice(_SMS_NUMBERS)
            candidate = prefix + "".join(rng.choices("0123456789", k=digits))
        elif provider == MESSENGER:
            candidate = str(rng.randrange(10**15, 10**16))
        else:
            candidate = str(rng.randrange(10**8, 7 * 10**9))
        if candidate not in seen:
            seen.add(candidate)
            return candidate


class _Builder:
    def __init__(self, rng: random.Random, public_base_url: str) -> None:
        self.rng = rng
        self.public_base_url = public_base_url.rstrip("/")
        self.update_id = rng.randrange(900_000_000, 990_000_000)

    def build(self, index: int, sender: _Sender) -> GeneratedWebhook:
        extra = SHAPES[sender.provider]
        shapes = ["text", *extra]
        shape = self.rng.choices(shapes, [100 - sum(extra.values()), *extra.values()])[0]
        text = self.rng.choice(_TEXTS).format(order=f"#{self.rng.randrange(1001, 99999)}")
        timestamp = T0 + index
        build = {
            WHATSAPP: self._whatsapp,
            SMS: self._sms,
            MESSENGER: self._messenger,
            TELEGRAM: self._telegram,
        }[sender.provider]
        return build(index, sender, shape, text, timestamp)

    def _whatsapp(
        self, index: int, sender: _Sender, shape: str, text: str, timestamp: int
    ) -> GeneratedWebhook:
        account = ACCOUNTS[WHATSAPP]
        wamid = "wamid.HBgN" + base64.b64encode(
            f"{sender.id}:{index}:{self.rng.getrandbits(48):012x}".encode()
        ).decode("ascii")
        message: dict[str, Any] = {
            "from": sender.id,
            "id": wamid,
            "timestamp": str(timestamp),
            "type": shape,
        }
        if shape == "text":
            message["text"] = {"body": text}
        elif shape == "location":
            name, address, latitude, longitude = self.rng.choice(_PLACES)
            message["location"] = {
                "latitude": latitude,
                "longitude": longitude,
                "name": name,
                "address": address,
            }
        elif shape == "contacts":
            message["contacts"] = [
                {
                    "name": {"formatted_name": sender.name, "first_name": sender.name.split()[0]},
                    "phones": [{"phone": f"+{sender.id}", "wa_id": sender.id, "type": "CELL"}],
                }
            ]
        elif shape == "button_reply":
            button_id, title = self.rng.choice(_BUTTONS)
            message["type"] = "interactive"
            message["interactive"] = {
                "type": "button_reply",
                "button_reply": {"id": button_id, "title": title},
            }
        else:  # a template's quick-reply button
            payload, title = self.rng.choice(_BUTTONS)
            message["button"] = {"payload": payload, "text": title}
        body = meta_json(
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": "102290129340398",
                        "changes": [
                            {
                                "field": "messages",
                                "value": {
                                    "messaging_product": "whatsapp",
                                    "metadata": {
                                        "display_phone_number": account.address.lstrip("+"),
                                        "phone_number_id": WHATSAPP_PHONE_NUMBER_ID,
                                    },
                                    "contacts": [
                                        {"profile": {"name": sender.name}, "wa_id": sender.id}
                                    ],
                                    "messages": [message],
                                },
                            }
                        ],
                    }
                ],
            }
        )
        signature = meta_signature(account.credentials["app_secret"], body)
        return GeneratedWebhook(
            index=index,
            provider=WHATSAPP,
            sender=sender.id,
            sender_name=sender.name,
            shape=shape,
            path=account.path,
            content_type="application/json",
            headers=(("X-Hub-Signature-256", signature),),
            body=body,
            provider_message_id=wamid,
        )

    def _sms(
        self, index: int, sender: _Sender, shape: str, text: str, timestamp: int
    ) -> GeneratedWebhook:
        account = ACCOUNTS[SMS]
        sid = f"SM{self.rng.getrandbits(128):032x}"
        segments = str(1 + len(text.encode()) // 140)
        fields = [
            ("ToCountry", "US"),
            ("ToState", "CA"),
            ("SmsMessageSid", sid),
            ("NumMedia", "0"),
            ("ToCity", ""),
            ("FromZip", ""),
            ("SmsSid", sid),
            ("FromState", ""),
            ("SmsStatus", "received"),
            ("FromCity", ""),
            ("Body", text),
            ("FromCountry", "US"),
            ("To", account.address),
            ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
            ("ToZip", ""),
            ("NumSegments", segments),
            ("MessageSid", sid),
            ("AccountSid", TWILIO_ACCOUNT_SID),
            ("From", sender.id),
            ("ApiVersion", "2010-04-01"),
        ]
        signature = twilio_signature(
            self.public_base_url + account.path, fields, account.credentials["auth_token"]
        )
        return GeneratedWebhook(
            index=index,
            provider=SMS,
            sender=sender.id,
            sender_name=sender.name,
            shape=shape,
            path=account.path,
            content_type="application/x-www-form-urlencoded",
            headers=(("X-Twilio-Signature", signature),),
            body=urlencode(fields).encode(),
            provider_message_id=sid,
        )

    def _messenger(
        self, index: int, sender: _Sender, shape: str, text: str, timestamp: int
    ) -> GeneratedWebhook:
        account = ACCOUNTS[MESSENGER]
        mid = "m_" + base64.urlsafe_b64encode(self.rng.randbytes(24)).decode("ascii")
        message: dict[str, Any] = {"mid": mid, "text": text}
        if shape == "quick_reply":
            payload, title = self.rng.choice(_QUICK_REPLIES)
            message = {"mid": mid, "text": title, "quick_reply": {"payload": payload}}
        body = meta_json(
            {
                "object": "page",
                "entry": [
                    {
                        "id": MESSENGER_PAGE_ID,
                        "time": timestamp * 1000 + 234,
                        "messaging": [
                            {
                                "sender": {"id": sender.id},
                                "recipient": {"id": MESSENGER_PAGE_ID},
                                "timestamp": timestamp * 1000,
                                "message": message,
                            }
                        ],
                    }
                ],
            }
        )
        signature = meta_signature(account.credentials["app_secret"], body)
        return GeneratedWebhook(
            index=index,
            provider=MESSENGER,
            sender=sender.id,
            sender_name=sender.name,
            shape=shape,
            path=account.path,
            content_type="application/json",
            headers=(("X-Hub-Signature-256", signature),),
            body=body,
            provider_message_id=mid,
        )

    def _telegram(
        self, index: int, sender: _Sender, shape: str, text: str, timestamp: int
    ) -> GeneratedWebhook:
        account = ACCOUNTS[TELEGRAM]
        self.update_id += 1
        sender.chat_message_id += self.rng.randrange(1, 3)
        chat_id = int(sender.id)
        first_name, last_name = sender.name.split(" ", 1)
        message: dict[str, Any] = {
            "message_id": sender.chat_message_id,
            "date": timestamp,
            "from": {
                "id": chat_id,
                "is_bot": False,
                "first_name": first_name,
                "last_name": last_name,
                "language_code": "en",
            },
            "chat": {"id": chat_id, "type": "private", "first_name": first_name},
        }
        name, address, latitude, longitude = self.rng.choice(_PLACES)
        if shape == "text":
            message["text"] = text
        elif shape == "location":
            message["location"] = {"latitude": latitude, "longitude": longitude}
        elif shape == "venue":
            location = {"latitude": latitude, "longitude": longitude}
            message["location"] = location
            message["venue"] = {"location": location, "title": name, "address": address}
        else:
            message["contact"] = {
                "phone_number": f"+{self.rng.randrange(10**10, 10**11)}",
                "first_name": first_name,
                "user_id": chat_id,
            }
        update = {"update_id": self.update_id, "message": message}
        return GeneratedWebhook(
            index=index,
            provider=TELEGRAM,
            sender=sender.id,
            sender_name=sender.name,
            shape=shape,
            path=account.path,
            content_type="application/json",
            headers=(("X-Telegram-Bot-Api-Secret-Token", account.credentials["secret_token"]),),
            body=json.dumps(update, ensure_ascii=False).encode(),
            provider_message_id=f"{chat_id}:{sender.chat_message_id}",
        )
