"""A fake Graph API for Messenger and Instagram on loopback: a real HTTP server that speaks
the Send API and the user profile endpoint as providers.md section 2 documents them, serves
attachment files as Meta's CDN does, and records what it was sent.

Routes: ``POST /v21.0/me/messages`` ("send": JSON, or multipart with ``recipient``,
``message`` and ``filedata`` for a file; answers ``{"recipient_id", "message_id"}``),
``GET /v21.0/{user-id}?fields=...`` ("profile") and, outside the version, ``GET
/cdn/{name}`` ("cdn": a signed link that needs no token). The Graph routes check the bearer
token and answer Meta's error envelope with code 190 when it is wrong.

``script(route, ...)`` queues answers for the next requests on a route (a Graph error with
its HTTP status and code, a ``Retry-After``, a stall longer than the client's timeout, or no
status for the normal answer). Recipients in ``unavailable`` are refused with 551 and those
in ``unknown_users`` with 100/2018001, as the Send API does.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.channels_inbox.whatsapp.fake_graph import Recorded, Scripted, parse_multipart

VERSION = "v21.0"
ROUTES = ("send", "profile", "cdn")
MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG"})
TAGS = frozenset(
    {"CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT"}
)
ATTACHMENT_TYPES = frozenset({"image", "video", "audio", "file"})


def graph_error(
    code: int, message: str, *, subcode: int | None = None, error_type: str = "OAuthException"
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": error_type,
        "code": code,
        "fbtrace_id": "AxYz0123456",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@dataclass
class CdnFile:
    content: bytes
    content_type: str
    status: int = 200


@dataclass
class Sent:
    """One message the Send API accepted."""

    message_id: str
    recipient: str
    messaging_type: str
    tag: str
    message: dict[str, Any]
    file: dict[str, Any] = field(default_factory=dict)  # filename, content_type, content


class FakeGraph:
    def __init__(self, *, page_access_token: str, max_text: int, text_in_bytes: bool) -> None:
        self.page_access_token = page_access_token
        self.max_text = max_text
        self.text_in_bytes = text_in_bytes
        self.requests: list[Recorded] = []
        self.accepted: list[Sent] = []
        self.profiles: dict[str, dict[str, Any]] = {}
        self.files: dict[str, CdnFile] = {}
        self.unavailable: set[str] = set()
        self.unknown_users: set[str] = set()
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

    def add_file(self, name: str, content: bytes, content_type: str, *, status: int = 200) -> str:
        """Serve a file as Meta's CDN does; returns its signed link."""
        self.files[name] = CdnFile(content, content_type, status)
        return f"{self.origin}/cdn/{name}?_nc_cat=1&oh=signature&oe=6800AB12"

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
        if method == "GET" and len(parts) == 2 and parts[0] == "cdn":
            return "cdn", parts[1]
        if method == "POST" and parts == [VERSION, "me", "messages"]:
            return "send", ""
        if method == "GET" and len(parts) == 2 and parts[0] == VERSION:
            return "profile", parts[1]
        return "", ""

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        recorded = Recorded(method, handler.path, dict(handler.headers.items()), body)
        with self._lock:
            self.requests.append(recorded)
        route, argument = self._route(method, handler.path)
        if not route:
            self._write(handler, 404, graph_error(100, "Unknown path components"))
            return
        if route != "cdn" and (
            handler.headers.get("Authorization") != f"Bearer {self.page_access_token}"
        ):
            self._write(
                handler,
                401,
                graph_error(190, "Error validating access token: Session has expired"),
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
            self._write(handler, scripted.status, scripted.body, scripted.headers)
            return
        status, answer, headers = getattr(self, f"_{route}")(recorded, argument)
        self._write(handler, status, answer, headers)

    def _read_send(self, request: Recorded) -> tuple[dict[str, Any], dict[str, Any]]:
        """The request's fields (recipient and message decoded) and its file, if any."""
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            fields, files = parse_multipart(request.body, content_type)
            data: dict[str, Any] = dict(fields)
            for name in ("recipient", "message"):
                data[name] = json.loads(fields.get(name, "null"))
            upload = {}
            if files:
                upload = {
                    "filename": files[0].filename,
                    "content_type": files[0].content_type,
                    "content": files[0].content,
                }
            return data, upload
        return json.loads(request.body), {}

    def _too_long(self, text: str) -> bool:
        size = len(text.encode("utf-8")) if self.text_in_bytes else len(text)
        return size > self.max_text

    def _send(self, request: Recorded, _argument: str) -> tuple[int, Any, dict[str, str]]:
        try:
            data, upload = self._read_send(request)
        except (ValueError, KeyError):
            return 400, graph_error(100, "(#100) Invalid parameter"), {}
        recipient = data.get("recipient")
        to = str(recipient.get("id") or "") if isinstance(recipient, dict) else ""
        message: dict[str, Any] = data["message"] if isinstance(data.get("message"), dict) else {}
        messaging_type = str(data.get("messaging_type") or "")
        tag = str(data.get("tag") or "")
        if not to:
            return 400, graph_error(100, "(#100) The parameter recipient is required"), {}
        if messaging_type not in MESSAGING_TYPES or (
            messaging_type == "MESSAGE_TAG" and tag not in TAGS
        ):
            return 400, graph_error(100, "(#100) Invalid messaging_type or tag"), {}
        attachment = message.get("attachment")
        text = message.get("text")
        if (text is None) == (attachment is None):
            return 400, graph_error(100, "(#100) Message must have text or an attachment"), {}
        if isinstance(text, str) and self._too_long(text):
            return 400, graph_error(100, "(#100) Length of param message[text] too long"), {}
        if attachment is not None and (
            not isinstance(attachment, dict)
            or attachment.get("type") not in ATTACHMENT_TYPES
            or not upload
        ):
            return 400, graph_error(100, "(#100) Upload attachment failure"), {}
        if to in self.unknown_users:
            return (
                400,
                graph_error(100, "(#100) No matching user found", subcode=2018001),
                {},
            )
        if to in self.unavailable:
            return (
                400,
                graph_error(551, "This person isn't available right now.", subcode=1545041),
                {},
            )
        message_id = f"m_FAKE{next(self._ids):04d}"
        with self._lock:
            self.accepted.append(Sent(message_id, to, messaging_type, tag, message, upload))
        return 200, {"recipient_id": to, "message_id": message_id}, {}

    def _profile(self, request: Recorded, user_id: str) -> tuple[int, Any, dict[str, str]]:
        profile = self.profiles.get(user_id)
        if profile is None:
            return (
                400,
                graph_error(
                    100,
                    f"Unsupported get request. Object with ID '{user_id}' does not exist.",
                    subcode=33,
                    error_type="GraphMethodException",
                ),
                {},
            )
        fields = parse_qs(urlsplit(request.path).query).get("fields", [""])[0].split(",")
        answer = {name: profile[name] for name in fields if name in profile}
        return 200, {**answer, "id": user_id}, {}

    def _cdn(self, _request: Recorded, name: str) -> tuple[int, Any, dict[str, str]]:
        stored = self.files.get(name)
        if stored is None:
            return 404, b"Not found", {"Content-Type": "text/plain"}
        if stored.status != 200:
            return stored.status, b"URL signature expired", {"Content-Type": "text/plain"}
        return 200, stored.content, {"Content-Type": stored.content_type}

    def _write(
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
