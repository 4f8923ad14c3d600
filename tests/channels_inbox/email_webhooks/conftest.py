"""Accounts set up for each provider, and requests built the way the providers build them."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from django.test import Client

from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import Team
from tests.caches import clear_cache

ADDRESS = "support@shop.test"
MAILGUN_KEY = "key-mailgun-signing-0123456789"
POSTMARK_SECRET = "pm-Secret-4f0c2e9a7b"
SENDGRID_SECRET = "sg-Secret-81d3aa50c6"


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Used Mailgun tokens and the per-sender rate limit live in the cache."""
    clear_cache()
    yield
    clear_cache()


def account_for(
    provider: str, support_team: Team | None = None, **overrides: Any
) -> ChannelAccount:
    credentials = {"inbound_provider": provider}
    if provider == "mailgun":
        credentials["mailgun_signing_key"] = MAILGUN_KEY
    elif provider == "postmark":
        credentials["inbound_secret"] = POSTMARK_SECRET
    elif provider == "sendgrid":
        credentials["inbound_secret"] = SENDGRID_SECRET
    fields: dict[str, Any] = {
        "kind": "email",
        "name": "Shop support",
        "slug": "shop-support",
        "address": ADDRESS,
        "credentials": credentials,
        "default_team": support_team,
    }
    fields.update(overrides)
    return ChannelAccount.objects.create(**fields)


@pytest.fixture
def mailgun_account(support_team: Team) -> ChannelAccount:
    return account_for("mailgun", support_team)


@pytest.fixture
def postmark_account(support_team: Team) -> ChannelAccount:
    return account_for("postmark", support_team)


@pytest.fixture
def sendgrid_account(support_team: Team) -> ChannelAccount:
    return account_for("sendgrid", support_team)


def mailgun_url(slug: str = "shop-support") -> str:
    return f"/webhooks/email/{slug}/mailgun/"


def postmark_url(slug: str = "shop-support", secret: str = POSTMARK_SECRET) -> str:
    return f"/webhooks/email/{slug}/postmark/{secret}/"


def sendgrid_url(slug: str = "shop-support", secret: str = SENDGRID_SECRET) -> str:
    return f"/webhooks/email/{slug}/sendgrid/{secret}/"


def mailgun_signature(key: str, timestamp: str, token: str) -> str:
    """As Mailgun signs: hex HMAC-SHA256 of timestamp + token under the signing key."""
    return hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


def mailgun_signed(
    key: str = MAILGUN_KEY, *, timestamp: int | None = None, token: str | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    token = token or uuid.uuid4().hex + uuid.uuid4().hex[:18]
    return {"timestamp": stamp, "token": token, "signature": mailgun_signature(key, stamp, token)}


Field = tuple[str, bytes] | tuple[str, bytes, str, str]


def multipart(fields: Sequence[Field], boundary: str = "xYzZY-boundary-7f3a") -> tuple[bytes, str]:
    """A multipart/form-data body: (name, value) fields and (name, content, filename,
    content type) files, byte for byte as given."""
    chunks = []
    for item in fields:
        name = item[0]
        if len(item) == 4:
            _, content, filename, content_type = item
            disposition = f'form-data; name="{name}"; filename="{filename}"'
            head = f"Content-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n"
        else:
            content = item[1]
            head = f'Content-Disposition: form-data; name="{name}"\r\n'
        chunks.append(f"--{boundary}\r\n{head}\r\n".encode() + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def post(
    capture: Any, url: str, body: bytes, content_type: str, client: Client | None = None
) -> Any:
    """POST as the provider does; the pipeline's task runs after the request's commit."""
    with capture(execute=True):
        return (client or Client()).post(url, data=body, content_type=content_type)


def events() -> list[InboundEvent]:
    return list(InboundEvent.objects.order_by("pk"))
