"""A fake Telegram Bot API on loopback, a Telegram account that uses it, and updates built
the way Telegram sends them (providers.md section 4)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import Team

BOT_TOKEN = "7012345678:AAH-test-bot-token_0123456789abcdef"
SECRET = "webhook-Secret_4f0c2e9a7b"
SLUG = "shop-bot"
LENA = 481516234
WEBHOOK_URL = f"/webhooks/telegram/{SLUG}/"


@dataclass
class Call:
    """One request the fake received: the Bot API method (or ``file`` for a download),
    its parameters and any uploaded files (field -> (filename, content type, bytes))."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    status: int = 0


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeTelegram:
    """Speaks the Bot API: sendMessage, sendPhoto, sendDocument (multipart), getFile and
    setWebhook under ``/bot<token>/``, file downloads under ``/file/bot<token>/``. A wrong
    token gets 401 like the real one. ``answer(method, ...)`` queues a reply for the next
    call of ``method`` (an error, or a delay longer than the client waits)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self.unknown_chats: set[str] = set()
        self._replies: dict[str, list[Reply]] = {}
        self._message_ids = itertools.count(9001)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                prefix = f"/bot{BOT_TOKEN}/"
                if not self.path.startswith(prefix):
                    self._send(Reply(401, _error(401, "Unauthorized")))
                    return
                method = self.path[len(prefix) :]
                params, files = _read_params(self.headers.get("Content-Type", ""), body)
                call = Call(method, params, files)
                with fake._lock:
                    fake.calls.append(call)
                    queued = fake._replies.get(method)
                    reply = queued.pop(0) if queued else None
                reply = reply or fake._default(method, params, files)
                call.status = reply.status
                self._send(reply)

            def do_GET(self) -> None:
                prefix = f"/file/bot{BOT_TOKEN}/"
                if not self.path.startswith(prefix):
                    self._send(Reply(404, _error(404, "Not Found")))
                    return
                path = self.path[len(prefix) :]
                call = Call("file", {"path": path})
                with fake._lock:
                    fake.calls.append(call)
                    queued = fake._replies.get("file")
                    reply = queued.pop(0) if queued else None
                if reply is None:
                    content = next(
                        (data for file_path, data in fake.files.values() if file_path == path),
                        None,
                    )
                    reply = (
                        Reply(200, content, {"Content-Type": "application/octet-stream"})
                        if content is not None
                        else Reply(404, _error(404, "Not Found"))
                    )
                call.status = reply.status
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body)
                payload = data.encode() if isinstance(data, str) else data
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": "application/json", **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _default(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, str, bytes]]
    ) -> Reply:
        if method == "getFile":
            found = self.files.get(str(params.get("file_id")))
            if found is None:
                return Reply(400, _error(400, "Bad Request: invalid file_id"))
            file_path, content = found
            result = {
                "file_id": params["file_id"],
                "file_unique_id": f"u-{params['file_id']}",
                "file_size": len(content),
                "file_path": file_path,
            }
            return Reply(200, {"ok": True, "result": result})
        if method == "setWebhook":
            if not str(params.get("url", "")).startswith("https://"):
                return Reply(
                    400,
                    _error(
                        400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
                    ),
                )
            return Reply(200, {"ok": True, "result": True, "description": "Webhook was set"})
        if method in ("sendMessage", "sendPhoto", "sendDocument"):
            chat_id = str(params.get("chat_id", ""))
            if not chat_id or chat_id in self.unknown_chats:
                return Reply(400, _error(400, "Bad Request: chat not found"))
            field_name = {"sendPhoto": "photo", "sendDocument": "document"}.get(method)
            if field_name and field_name not in files:
                return Reply(
                    400, _error(400, f"Bad Request: there is no {field_name} in the request")
                )
            if method == "sendMessage" and not params.get("text"):
                return Reply(400, _error(400, "Bad Request: message text is empty"))
            result = {
                "message_id": next(self._message_ids),
                "date": 1767268900,
                "chat": {"id": int(chat_id), "type": "private"},
            }
            return Reply(200, {"ok": True, "result": result})
        return Reply(404, _error(404, "Not Found"))

    def answer(
        self,
        method: str,
        status: int,
        body: dict[str, Any] | bytes | None = None,
        *,
        delay: float = 0.0,
        **headers: str,
    ) -> None:
        with self._lock:
            self._replies.setdefault(method, []).append(
                Reply(status, body if body is not None else {}, headers, delay)
            )

    def add_file(self, file_id: str, file_path: str, content: bytes) -> None:
        self.files[file_id] = (file_path, content)

    def called(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def _error(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def telegram_error(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    return _error(code, description, **parameters)


def _read_params(
    content_type: str, body: bytes
) -> tuple[dict[str, Any], dict[str, tuple[str, str, bytes]]]:
    if content_type.startswith("application/json"):
        return json.loads(body or b"{}"), {}
    if not content_type.startswith("multipart/form-data"):
        return {}, {}
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[str(name)] = (filename, part.get_content_type(), content)
        else:
            params[str(name)] = content.decode()
    return params, files


@pytest.fixture
def telegram(settings: Any) -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    settings.TELEGRAM_API_BASE_URL = fake.url
    yield fake
    fake.close()


@pytest.fixture
def telegram_account(support_team: Team, telegram: FakeTelegram) -> ChannelAccount:
    return ChannelAccount.objects.create(
        kind="telegram",
        name="Shop bot",
        slug=SLUG,
        address="shop_help_bot",
        credentials={"bot_token": BOT_TOKEN, "secret_token": SECRET},
        default_team=support_team,
    )


# --- Updates as Telegram sends them ----------------------------------------------------------

_update_ids = itertools.count(902114553)
_message_ids = itertools.count(311)

LENA_USER = {
    "id": LENA,
    "is_bot": False,
    "first_name": "Lena",
    "last_name": "Kraus",
    "username": "lena_k",
    "language_code": "de",
}
LENA_CHAT = {"id": LENA, "type": "private", "first_name": "Lena", "username": "lena_k"}


def message_update(**content: Any) -> dict[str, Any]:
    """An update carrying one private-chat message from Lena; ``content`` adds or
    overrides the message's fields (text, photo, document, ...)."""
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": 1767268800,
        "from": dict(LENA_USER),
        "chat": dict(LENA_CHAT),
    }
    message.update(content)
    return {"update_id": next(_update_ids), "message": message}


def post_update(
    capture: Any,
    update: dict[str, Any] | bytes,
    *,
    secret: str | None = SECRET,
    url: str = WEBHOOK_URL,
    **extra: Any,
) -> Any:
    """POST an update as Telegram does; the pipeline runs after the request's commit."""
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers: dict[str, Any] = {}
    if secret is not None:
        headers["HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"] = secret
    with capture(execute=True):
        return Client().post(url, data=body, content_type="application/json", **headers, **extra)


def events() -> list[InboundEvent]:
    return list(InboundEvent.objects.order_by("pk"))
