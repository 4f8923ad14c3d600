"""A small real channel adapter and a fake provider for the pipeline tests.

``JsonTestAdapter`` reads a JSON payload into messages and delivery reports and sends replies
by POSTing JSON to the account's ``base_url``: the ``FakeProvider`` HTTP server on loopback,
which can be told to answer 200, 429, 500 or 400. The pipeline's real task code runs end to
end against them; nothing of ours is mocked.

Payload: ``{"messages": [{"from", "name", "text", "id", "media_url", "automated"}],
"statuses": [{"id", "status", "error"}], "ignore": "reason"}``.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from channels_inbox import adapters
from channels_inbox.adapters import (
    ChannelAdapter,
    ChannelError,
    OutboundMessage,
    ParseResult,
    SendResult,
    StatusUpdate,
)
from channels_inbox.adapters.base import payload_bytes
from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.celery import app as celery_app
from tickets.services import InboundAttachment, InboundMessage

ADAPTER_PATH = "tests.channels_inbox.adapters_for_tests.JsonTestAdapter"
TIMEOUT_SECONDS = 5


def _raise_for_http(error: urllib.error.HTTPError) -> None:
    detail = error.read().decode("utf-8", "replace")
    if error.code == 429:
        retry_after = error.headers.get("Retry-After")
        raise ChannelError(
            f"Rate limited: {detail}",
            permanent=False,
            retry_after=float(retry_after) if retry_after else None,
        )
    if error.code >= 500:
        raise ChannelError(f"Provider error {error.code}: {detail}", permanent=False)
    raise ChannelError(f"Refused ({error.code}): {detail}", permanent=True)


def _call(request: urllib.request.Request) -> bytes:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as error:
        _raise_for_http(error)
        raise
    except (urllib.error.URLError, TimeoutError) as error:
        raise ChannelError(f"Provider unreachable: {error}", permanent=False) from error


class JsonTestAdapter(ChannelAdapter):
    kind = "sms"

    def parse(self, account: ChannelAccount, event: InboundEvent) -> ParseResult:
        try:
            data = json.loads(payload_bytes(event))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ChannelError(f"Not a JSON payload: {error}", permanent=True) from error
        if not isinstance(data, dict):
            raise ChannelError("The payload is not a JSON object.", permanent=True)
        messages = []
        for item in data.get("messages", []):
            attachments: tuple[InboundAttachment, ...] = ()
            if "media_url" in item:
                content = _call(urllib.request.Request(item["media_url"]))
                attachments = (InboundAttachment("photo.jpg", "image/jpeg", content),)
            messages.append(
                InboundMessage(
                    channel=account.kind,
                    sender_address=item["from"],
                    sender_name=item.get("name", ""),
                    text=item.get("text", ""),
                    provider_message_id=item.get("id", ""),
                    attachments=attachments,
                    is_automated=item.get("automated", False),
                    references=tuple(item.get("references", ())),
                    starts_conversation=item.get("starts_conversation", False),
                )
            )
        statuses = tuple(
            StatusUpdate(
                provider_message_id=item["id"], status=item["status"], error=item.get("error", "")
            )
            for item in data.get("statuses", [])
        )
        return ParseResult(
            messages=tuple(messages), statuses=statuses, ignored_reason=data.get("ignore", "")
        )

    def send(self, account: ChannelAccount, outbound: OutboundMessage) -> SendResult:
        body = {
            "to": outbound.to_address,
            "to_name": outbound.to_name,
            "ticket": outbound.ticket_number,
            "subject": outbound.subject,
            "text": outbound.text,
            "thread": list(outbound.thread_provider_ids),
            "attachments": [
                {"name": item.name, "type": item.content_type, "size": len(item.content)}
                for item in outbound.attachments
            ],
            "automatic": outbound.is_automatic,
        }
        request = urllib.request.Request(
            account.credentials["base_url"] + "/messages",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        answer = json.loads(_call(request))
        return SendResult(provider_message_id=answer["id"])


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | bytes
    headers: dict[str, str] = field(default_factory=dict)


class FakeProvider:
    """A loopback HTTP server speaking the test adapter's format. ``answer`` queues replies
    for the next requests; without one, a POST gets 200 and a fresh id and a GET gets the
    bytes of the path."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self._replies: list[Reply] = []
        self._lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, default: Reply) -> None:
                with provider._lock:
                    reply = provider._replies.pop(0) if provider._replies else default
                body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body)
                data = body.encode() if isinstance(body, str) else body
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"null")
                with provider._lock:
                    provider.requests.append(("POST", self.path, body))
                    number = len(provider.requests)
                self._reply(Reply(200, {"id": f"prov-{number}"}))

            def do_GET(self) -> None:
                with provider._lock:
                    provider.requests.append(("GET", self.path, None))
                self._reply(Reply(200, f"bytes of {self.path}".encode()))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def answer(
        self, status: int, body: dict[str, Any] | bytes | None = None, **headers: str
    ) -> None:
        with self._lock:
            self._replies.append(Reply(status, body if body is not None else {}, headers))

    @property
    def sent(self) -> list[Any]:
        return [body for method, path, body in self.requests if method == "POST"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    yield fake
    fake.close()


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks run in the calling process, also when the suite runs against Redis."""
    was_eager = celery_app.conf.get("task_always_eager")
    celery_app.conf.update(task_always_eager=True)
    yield
    celery_app.conf.update(task_always_eager=was_eager)


@pytest.fixture
def sms_account(
    db: None, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch, eager_celery: None
) -> ChannelAccount:
    """An SMS account served by the JSON test adapter and the fake provider."""
    monkeypatch.setitem(adapters.ADAPTER_PATHS, "sms", ADAPTER_PATH)
    return ChannelAccount.objects.create(
        kind="sms",
        name="Shop SMS",
        slug="shop-sms",
        address="+14155550100",
        credentials={"base_url": provider.url},
    )
