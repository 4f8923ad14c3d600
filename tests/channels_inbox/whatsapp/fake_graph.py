"""A fake Graph API for WhatsApp on loopback: a real HTTP server that speaks the Cloud API's
documented formats (providers.md 1.3 and 1.4) and records what it was sent.

Routes, under ``/v21.0``: ``POST /{phone-number-id}/messages`` (answers a wamid),
``POST /{phone-number-id}/media`` (multipart upload, answers a media id), ``GET /{media-id}``
(the media lookup: a download URL, mime type, hex sha256 and size) and, outside the
version, ``GET /lookaside/{media-id}`` (the download, bearer token required, as Meta's
lookaside host). Every route checks the bearer token and answers Meta's error envelope
with code 190 when it is wrong.

``script(route, ...)`` queues answers for the next requests on a route (a Graph error with
its HTTP status and code, a ``Retry-After``, a stall longer than the client's timeout, or
no status for the normal answer); unscripted requests get the normal answer. Numbers in
``not_on_whatsapp`` are refused with 131026, as the API does for a recipient it cannot
deliver to.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

VERSION = "v21.0"
ROUTES = ("messages", "upload", "lookup", "download")
MESSAGE_TYPES = frozenset(
    {"text", "image", "video", "audio", "document", "sticker", "template", "reaction"}
)


@dataclass
class Scripted:
    status: int | None = None  # None: the normal answer
    body: dict[str, Any] | bytes = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    stall_seconds: float = 0.0


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class StoredMedia:
    content: bytes
    mime_type: str
    # What the lookup announces; by default the true hex sha256 and size.
    sha256: str = ""
    file_size: str = ""
    # Download URLs handed out before this many lookups answer 404 (an expired URL).
    expired_urls: int = 0


@dataclass
class Upload:
    media_id: str
    content: bytes
    content_type: str
    filename: str
    fields: dict[str, str]


def graph_error(
    code: int, message: str, *, details: str = "", error_type: str = "OAuthException"
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": error_type,
        "code": code,
        "fbtrace_id": "AbCdEfGhIjK",
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], list[Upload]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: list[Upload] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if filename is None:
            fields[str(name)] = content.decode("utf-8")
        else:
            files.append(Upload("", content, part.get_content_type(), filename, {}))
    return fields, files


class FakeGraph:
    def __init__(self, *, access_token: str, phone_number_id: str) -> None:
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.requests: list[Recorded] = []
        self.accepted: list[dict[str, Any]] = []
        self.uploads: dict[str, Upload] = {}
        self.media: dict[str, StoredMedia] = {}
        self.not_on_whatsapp: set[str] = set()
        self._scripts: dict[str, list[Scripted]] = {route: [] for route in ROUTES}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.url = f"{self.origin}/{VERSION}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    # --- Test controls ---------------------------------------------------------------------

    def script(
        self,
        route: str,
        status: int | None = None,
        body: dict[str, Any] | bytes | None = None,
        *,
        stall_seconds: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        assert route in ROUTES
        with self._lock:
            self._scripts[route].append(
                Scripted(status, body if body is not None else {}, headers or {}, stall_seconds)
            )

    def add_media(self, media_id: str, content: bytes, mime_type: str, **announced: Any) -> str:
        """Store an inbound file; returns its base64 sha256, as webhooks carry it."""
        self.media[media_id] = StoredMedia(content, mime_type, **announced)
        return base64.b64encode(hashlib.sha256(content).digest()).decode()

    def calls(self, route: str) -> list[Recorded]:
        return [
            request
            for request in self.requests
            if self._route(request.method, request.path)[0] == route
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    # --- Serving ---------------------------------------------------------------------------

    def _route(self, method: str, path: str) -> tuple[str, str]:
        parts = urlsplit(path).path.strip("/").split("/")
        if method == "GET" and len(parts) == 2 and parts[0] == "lookaside":
            return "download", parts[1]
        if len(parts) == 3 and parts[0] == VERSION and parts[1] == self.phone_number_id:
            if method == "POST" and parts[2] == "messages":
                return "messages", ""
            if method == "POST" and parts[2] == "media":
                return "upload", ""
        if method == "GET" and len(parts) == 2 and parts[0] == VERSION:
            return "lookup", parts[1]
        return "", ""

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        recorded = Recorded(method, handler.path, dict(handler.headers.items()), body)
        with self._lock:
            self.requests.append(recorded)
        route, argument = self._route(method, handler.path)
        if not route:
            self._send(handler, 404, graph_error(100, "Unknown path components"))
            return
        if handler.headers.get("Authorization") != f"Bearer {self.access_token}":
            self._send(
                handler, 401, graph_error(190, "Error validating access token: Session expired")
            )
            return
        with self._lock:
            scripted = self._scripts[route].pop(0) if self._scripts[route] else None
        if scripted is not None and (scripted.status is not None or scripted.stall_seconds):
            if scripted.stall_seconds:
                # Never answered in time: the client gives up, and nothing was accepted.
                time.sleep(scripted.stall_seconds)
                handler.close_connection = True
                return
            assert scripted.status is not None
            self._send(handler, scripted.status, scripted.body, scripted.headers)
            return
        status, answer, headers = getattr(self, f"_{route}")(recorded, argument, handler)
        self._send(handler, status, answer, headers)

    def _messages(
        self, request: Recorded, _argument: str, _handler: Any
    ) -> tuple[int, Any, dict[str, str]]:
        try:
            data = request.json()
        except ValueError:
            return 400, graph_error(100, "Invalid parameter", details="Body is not JSON"), {}
        if data.get("messaging_product") != "whatsapp":
            return 400, graph_error(100, "Invalid parameter", details="messaging_product"), {}
        kind = data.get("type", "text")
        to = str(data.get("to", ""))
        if kind not in MESSAGE_TYPES or not isinstance(data.get(kind), dict):
            return 400, graph_error(131051, "Unsupported message type"), {}
        if not to.isdigit():
            return 400, graph_error(100, "Invalid parameter", details=f"Invalid to: {to}"), {}
        if to in self.not_on_whatsapp:
            return (
                400,
                graph_error(
                    131026,
                    "Message Undeliverable.",
                    details="Unable to deliver message: the recipient is not on WhatsApp.",
                ),
                {},
            )
        media = data[kind].get("id") if kind in ("image", "video", "audio", "document") else None
        if media is not None and media not in self.uploads:
            return 400, graph_error(131053, "Media upload error", details=f"Unknown id {media}"), {}
        wamid = f"wamid.FAKE{next(self._ids):04d}"
        with self._lock:
            self.accepted.append({**data, "wamid": wamid})
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }
        return 200, answer, {}

    def _upload(
        self, request: Recorded, _argument: str, _handler: Any
    ) -> tuple[int, Any, dict[str, str]]:
        fields, files = parse_multipart(request.body, request.headers.get("Content-Type", ""))
        if fields.get("messaging_product") != "whatsapp" or "type" not in fields or len(files) != 1:
            return 400, graph_error(100, "Invalid parameter", details="upload fields"), {}
        media_id = f"{9000000000000000 + next(self._ids)}"
        upload = files[0]
        with self._lock:
            self.uploads[media_id] = Upload(
                media_id, upload.content, upload.content_type, upload.filename, fields
            )
        return 200, {"id": media_id}, {}

    def _lookup(
        self, _request: Recorded, media_id: str, _handler: Any
    ) -> tuple[int, Any, dict[str, str]]:
        stored = self.media.get(media_id)
        if stored is None:
            return (
                400,
                graph_error(100, "Unsupported get request.", error_type="GraphMethodException"),
                {},
            )
        with self._lock:
            token = next(self._ids)
            expired = stored.expired_urls > 0
            if expired:
                stored.expired_urls -= 1
        prefix = "expired-" if expired else ""
        answer = {
            "messaging_product": "whatsapp",
            "url": f"{self.origin}/lookaside/{media_id}?mid={prefix}{token}",
            "mime_type": stored.mime_type,
            "sha256": stored.sha256 or hashlib.sha256(stored.content).hexdigest(),
            "file_size": stored.file_size or str(len(stored.content)),
            "id": media_id,
        }
        return 200, answer, {}

    def _download(
        self, request: Recorded, media_id: str, _handler: Any
    ) -> tuple[int, Any, dict[str, str]]:
        stored = self.media.get(media_id)
        if stored is None or "mid=expired-" in request.path:
            return 404, b"<html>URL expired</html>", {"Content-Type": "text/html"}
        return 200, stored.content, {"Content-Type": stored.mime_type}

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any] | bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        if not isinstance(body, bytes):
            handler.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
