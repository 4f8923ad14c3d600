"""A fake Twilio REST API on loopback, an SMS account that uses it, and webhook posts signed
the way Twilio signs them (providers.md sections 3.1 to 3.5)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from django.test import Client

from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import Team

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "twilio-auth-token-5f1c9e"
SHOP_NUMBER = "+14155550100"
ANA = "+17185550123"
SLUG = "shop-sms"
PUBLIC = "https://help.shop.example"
MESSAGE_PATH = f"/webhooks/sms/{SLUG}/"
STATUS_PATH = f"/webhooks/sms/{SLUG}/status/"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@dataclass
class Call:
    method: str
    path: str
    form: dict[str, list[str]]
    authorization: str
    status: int = 0


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | bytes
    headers: dict[str, str] = field(default_factory=dict)


class FakeTwilio:
    """Speaks Twilio's REST API: ``POST /2010-04-01/Accounts/{sid}/Messages.json`` (form,
    Basic auth) answers 201 with a new ``SM...`` sid; a media URL
    ``/2010-04-01/Accounts/{sid}/Messages/{MM}/Media/{ME}`` needs Basic auth and redirects
    to ``/cdn/{ME}``, which serves the bytes without auth (like Twilio's CDN). Wrong
    credentials get Twilio's 20003. ``answer(...)`` queues the next replies to a send."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.media: dict[str, tuple[str, bytes]] = {}  # ME sid -> (content type, bytes)
        self._replies: list[Reply] = []
        self._lock = threading.Lock()
        fake = self
        expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                call = Call("POST", self.path, form, self.headers.get("Authorization", ""))
                with fake._lock:
                    fake.calls.append(call)
                    queued = fake._replies.pop(0) if fake._replies else None
                if self.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                    reply = Reply(404, {"code": 20404, "message": "Not found", "status": 404})
                elif call.authorization != expected_auth:
                    reply = Reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                else:
                    reply = queued or Reply(201, fake._created(form))
                call.status = reply.status
                self._send(reply)

            def do_GET(self) -> None:
                call = Call("GET", self.path, {}, self.headers.get("Authorization", ""))
                with fake._lock:
                    fake.calls.append(call)
                media_prefix = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/"
                sid = self.path.rsplit("/", 1)[-1]
                if self.path.startswith(media_prefix) and "/Media/" in self.path:
                    if call.authorization != expected_auth:
                        reply = Reply(
                            401, {"code": 20003, "message": "Authenticate", "status": 401}
                        )
                    elif sid in fake.media:
                        reply = Reply(302, b"", {"Location": f"/cdn/{sid}"})
                    else:
                        reply = Reply(
                            404,
                            {
                                "code": 20404,
                                "message": "The requested resource was not found",
                                "status": 404,
                            },
                        )
                elif self.path.startswith("/cdn/") and sid in fake.media:
                    content_type, content = fake.media[sid]
                    reply = Reply(200, content, {"Content-Type": content_type})
                else:
                    reply = Reply(404, b"not found")
                call.status = reply.status
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                data = (
                    reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                )
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _created(self, form: dict[str, list[str]]) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        return {
            "sid": sid,
            "status": "queued",
            "to": form.get("To", [""])[0],
            "from": form.get("From", [None])[0],
            "body": form.get("Body", [""])[0],
            "num_segments": "1",
            "error_code": None,
            "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
        }

    def answer(
        self, status: int, body: dict[str, Any] | bytes | None = None, **headers: str
    ) -> None:
        with self._lock:
            self._replies.append(Reply(status, body if body is not None else {}, headers))

    def media_url(self, message_sid: str, media_sid: str, content_type: str, content: bytes) -> str:
        self.media[media_sid] = (content_type, content)
        return (
            f"{self.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message_sid}/Media/{media_sid}"
        )

    @property
    def sends(self) -> list[Call]:
        return [call for call in self.calls if call.method == "POST"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@pytest.fixture
def twilio(settings: Any) -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    settings.TWILIO_API_BASE_URL = fake.url
    settings.PUBLIC_BASE_URL = PUBLIC
    yield fake
    fake.close()


@pytest.fixture
def sms_account(support_team: Team, twilio: FakeTwilio) -> ChannelAccount:
    return ChannelAccount.objects.create(
        kind="sms",
        name="Shop SMS",
        slug=SLUG,
        address=SHOP_NUMBER,
        credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
        default_team=support_team,
    )


# --- Posts as Twilio sends them --------------------------------------------------------------

_sids = itertools.count(1)


def twilio_signature(url: str, params: dict[str, list[str]], token: str = AUTH_TOKEN) -> str:
    """providers.md 3.2: the URL, then each name with each of its distinct values, in order;
    base64 of HMAC-SHA1 under the auth token."""
    signed = url + "".join(
        name + value for name in sorted(params) for value in sorted(set(params[name]))
    )
    return base64.b64encode(
        hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    ).decode()


def message_sid(prefix: str = "SM") -> str:
    return f"{prefix}{next(_sids):032x}"


def inbound_fields(body: str = "Is my order on its way?", **overrides: str) -> dict[str, str]:
    sid = overrides.pop("MessageSid", None) or message_sid()
    fields = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "NY",
        "SmsStatus": "received",
        "FromCity": "BROOKLYN",
        "Body": body,
        "FromCountry": "US",
        "To": SHOP_NUMBER,
        "MessagingServiceSid": "MG0123456789abcdef0123456789abcdef",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": ANA,
        "ApiVersion": "2010-04-01",
    }
    fields.update(overrides)
    return fields


def status_fields(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": ACCOUNT_SID,
        "From": SHOP_NUMBER,
        "To": ANA,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def post_form(
    capture: Any,
    fields: dict[str, str] | list[tuple[str, str]] | bytes,
    *,
    path: str = MESSAGE_PATH,
    signature: str | None = "sign",
    signed_url: str | None = None,
    content_type: str = "application/x-www-form-urlencoded",
    **extra: Any,
) -> Any:
    """POST as Twilio does, signed over ``signed_url`` (the public URL by default);
    ``signature=None`` leaves the header out, any other string than "sign" is sent as is.
    The pipeline runs after the request's commit."""
    params: dict[str, list[str]] = {}
    if isinstance(fields, bytes):
        body = fields
    else:
        pairs = list(fields.items()) if isinstance(fields, dict) else fields
        body = urlencode(pairs).encode()
        for name, value in pairs:
            params.setdefault(name, []).append(value)
    if signature == "sign":
        signature = twilio_signature(signed_url or PUBLIC + path, params)
    headers: dict[str, Any] = (
        {"HTTP_X_TWILIO_SIGNATURE": signature} if signature is not None else {}
    )
    with capture(execute=True):
        return Client().post(path, data=body, content_type=content_type, **headers, **extra)


def events() -> list[InboundEvent]:
    return list(InboundEvent.objects.order_by("pk"))
