"""The widget's HTTP side: its script, its settings, starting a conversation, uploading a
file, and the files of the visitor's conversation.

``/widget.js`` is a small loader that shops embed; it names the current build of the widget
(``/widget/chat.<version>.js`` and ``.css``, versioned by content), which browsers keep for a
year, so a new release reaches every visitor within the loader's five minutes.

The JSON endpoints are called cross-origin from the shop's pages. Each answers, in order:
404 for an account that is unknown, inactive or not a chat; 403 for a request whose Origin is
not one of the account's allowed origins (without CORS headers, so the page cannot read the
answer); 401 for a token that is not genuine or has expired (the widget starts over); 429 over
the rate limit; 413 for a body over the limit; 400 or 415 for input that cannot be taken,
with ``{"error": ..., "field": ...}``; 503 when the database is down. The widget sends its
JSON as ``text/plain`` and its files as multipart form data, so browsers make no preflight
request; OPTIONS is still answered for clients that do.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import DatabaseError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from channels_inbox.adapters.inbound import BodyTooLarge, UnreadableBody, active_account, read_body
from channels_inbox.chat import limits, services
from channels_inbox.chat.files import ALLOWED_TYPES, max_upload_bytes, safe_name, sniff_content_type
from channels_inbox.chat.models import ChatVisitor
from channels_inbox.chat.origins import origin_allowed
from channels_inbox.chat.presence import VISITOR_PING_SECONDS, agents_online
from channels_inbox.chat.queries import visitor_customer_id
from channels_inbox.chat.tokens import (
    issue_visitor_token,
    new_visitor_id,
    read_file_link,
    read_visitor_token,
)
from channels_inbox.models import ChannelAccount
from helpdesk.channel_kinds import ChannelKind
from tickets.models import Attachment, Message

logger = logging.getLogger(__name__)

MAX_START_BYTES = 4096
# Room for the multipart boundaries and the form's other fields around the file.
UPLOAD_OVERHEAD_BYTES = 16 * 1024
LOADER_MAX_AGE = 300
ASSET_MAX_AGE = 365 * 24 * 3600
DEFAULT_BRAND_COLOR = "#1f6feb"
DEFAULT_WELCOME_TEXT = "Hi! How can we help?"


# --- The widget's files --------------------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    content: bytes
    version: str
    content_type: str


def _read_asset(name: str, content_type: str) -> Asset:
    found = finders.find(f"widget/{name}")
    if not found:
        raise Http404(f"The widget's {name} is missing from the static files.")
    content = Path(str(found)).read_bytes()
    return Asset(content, hashlib.sha256(content).hexdigest()[:12], content_type)


@functools.cache
def _built_assets() -> dict[str, Asset]:
    return {
        "js": _read_asset("chat.js", "text/javascript; charset=utf-8"),
        "css": _read_asset("chat.css", "text/css; charset=utf-8"),
    }


def widget_assets() -> dict[str, Asset]:
    """The widget's script and style. Read once per process, except with DEBUG on, where
    an edit shows at the next reload."""
    if settings.DEBUG:
        _built_assets.cache_clear()
    return _built_assets()


LOADER = """/* Switchboard live chat: loads the current widget. */
(function () {
  "use strict";
  var tag = document.currentScript;
  if (!tag || !tag.src) return;
  var base = new URL(".", tag.src).href;
  var widget = document.createElement("script");
  widget.src = base + "widget/chat.%(js)s.js";
  widget.async = true;
  widget.setAttribute("data-channel", tag.getAttribute("data-channel") || "");
  widget.setAttribute("data-base", base);
  widget.setAttribute("data-css", base + "widget/chat.%(css)s.css");
  (document.head || document.documentElement).appendChild(widget);
})();
"""


def _cacheable(response: HttpResponse, max_age: int, *, immutable: bool = False) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={max_age}" + (", immutable" if immutable else "")
    # Loaded by <script> and <link> from the shops' sites.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_GET
def widget_loader(request: HttpRequest) -> HttpResponse:
    assets = widget_assets()
    body = LOADER % {"js": assets["js"].version, "css": assets["css"].version}
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
    if request.headers.get("If-None-Match") == etag:
        return _cacheable(HttpResponse(status=304), LOADER_MAX_AGE)
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    return _cacheable(response, LOADER_MAX_AGE)


@require_GET
def widget_asset(request: HttpRequest, version: str, extension: str) -> HttpResponse:
    asset = widget_assets()[extension]
    response = HttpResponse(asset.content, content_type=asset.content_type)
    if version != asset.version:
        # A loader cached from before a release: the current build, but not for long.
        return _cacheable(response, 0)
    return _cacheable(response, ASSET_MAX_AGE, immutable=True)


# --- JSON endpoints ------------------------------------------------------------------------


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


def _answer(data: dict[str, Any], status: int = 200, *, origin: str = "") -> HttpResponse:
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"
    return _cors(response, origin) if origin else response


def _error(message: str, status: int, *, origin: str = "", field: str = "") -> HttpResponse:
    data = {"error": message}
    if field:
        data["field"] = field
    return _answer(data, status, origin=origin)


def _client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _account_and_origin(
    request: HttpRequest, slug: str
) -> tuple[ChannelAccount | None, str, HttpResponse | None]:
    """The account and the page's origin, or the 404/403 answer."""
    account = active_account(slug, ChannelKind.CHAT)
    if account is None:
        return None, "", _error("Not found.", 404)
    origin = request.headers.get("Origin", "")
    if not origin_allowed(account, origin):
        logger.info("Chat request for %s refused from origin %r", slug, origin[:100])
        return None, "", _error("This site may not use this chat.", 403)
    return account, origin, None


def _preflight(origin: str) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "86400"
    return _cors(response, origin)


def _rate_limited(origin: str, limit: limits.Limit) -> HttpResponse:
    response = _error("Too many requests; try again in a minute.", 429, origin=origin)
    response["Retry-After"] = str(limit.seconds)
    return response


@csrf_exempt
def widget_config(request: HttpRequest, slug: str) -> HttpResponse:
    """What the widget shows before a conversation starts: its title, colour, welcome and
    whether anyone is online."""
    if request.method not in ("GET", "OPTIONS"):
        return _error("Use GET.", 405)
    account, origin, refusal = _account_and_origin(request, slug)
    if refusal is not None or account is None:
        return refusal or _error("Not found.", 404)
    if request.method == "OPTIONS":
        return _preflight(origin)
    if not limits.allow(limits.CONFIG_LIMIT, account.pk, _client_address(request)):
        return _rate_limited(origin, limits.CONFIG_LIMIT)
    return _answer(
        {
            "title": account.option("title") or account.name,
            "brand_color": account.option("brand_color") or DEFAULT_BRAND_COLOR,
            "welcome_text": account.option("welcome_text") or DEFAULT_WELCOME_TEXT,
            "agents_online": agents_online(account),
        },
        origin=origin,
    )


@csrf_exempt
def start_conversation(request: HttpRequest, slug: str) -> HttpResponse:
    """Start a conversation, or resume one: ``{"token"?, "name"?, "email"?}`` as JSON.

    Without a token the visitor is new and gets one; with a genuine token the same visitor
    gets a fresh one (the 30 days start again); a name or an email is remembered
    (``services.identify_visitor``). Answers the token, what the visitor told us so far,
    whether anyone is online, and where the socket and the upload endpoint are."""
    if request.method not in ("POST", "OPTIONS"):
        return _error("Use POST.", 405)
    account, origin, refusal = _account_and_origin(request, slug)
    if refusal is not None or account is None:
        return refusal or _error("Not found.", 404)
    if request.method == "OPTIONS":
        return _preflight(origin)
    if not limits.allow(limits.START_LIMIT, account.pk, _client_address(request)):
        return _rate_limited(origin, limits.START_LIMIT)
    try:
        body = json.loads(read_body(request, MAX_START_BYTES) or b"{}")
    except BodyTooLarge:
        return _error("Body too large.", 413, origin=origin)
    except (UnreadableBody, UnicodeDecodeError, json.JSONDecodeError):
        return _error("Send a JSON object.", 400, origin=origin)
    if not isinstance(body, dict):
        return _error("Send a JSON object.", 400, origin=origin)
    token = body.get("token")
    if token is not None:
        visitor_id = read_visitor_token(account.pk, token) if isinstance(token, str) else None
        if visitor_id is None:
            return _error("The chat session has expired.", 401, origin=origin, field="token")
    else:
        visitor_id = new_visitor_id()
    try:
        details = services.check_visitor_details(body.get("name"), body.get("email"))
        services.identify_visitor(account, visitor_id, details)
    except services.VisitorInputError as error:
        return _error(str(error), 400, origin=origin, field=error.field)
    except DatabaseError:
        logger.exception("Database unavailable while starting a chat on %r", account)
        return _error("Try again later.", 503, origin=origin)
    visitor = ChatVisitor.objects.filter(visitor_id=visitor_id).first()
    return _answer(
        {
            "token": issue_visitor_token(account.pk, visitor_id),
            "name": visitor.name if visitor else "",
            "email": visitor.email if visitor else "",
            "agents_online": agents_online(account),
            "socket_path": f"/ws/chat/{account.slug}/",
            "upload_path": reverse("channels_inbox:chat_upload", args=[account.slug]),
            "max_upload_bytes": max_upload_bytes(),
            "upload_types": list(ALLOWED_TYPES),
            "ping_seconds": VISITOR_PING_SECONDS,
        },
        origin=origin,
    )


@csrf_exempt
def upload_file(request: HttpRequest, slug: str) -> HttpResponse:
    """A file from the visitor: multipart form data with ``token``, ``id`` (the widget's
    message id) and ``file``. Stored as a message of its own once its size and what its bytes
    are (not its name or declared type) pass: 413 over ``files.max_upload_bytes()``, 415 for
    a type not on ``files.ALLOWED_TYPES``. 201 with what was stored; a repeated id stores
    nothing more and answers 200."""
    if request.method not in ("POST", "OPTIONS"):
        return _error("Use POST.", 405)
    account, origin, refusal = _account_and_origin(request, slug)
    if refusal is not None or account is None:
        return refusal or _error("Not found.", 404)
    if request.method == "OPTIONS":
        return _preflight(origin)
    limit = max_upload_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error("Content-Length is not a number.", 400, origin=origin)
    if declared > limit + UPLOAD_OVERHEAD_BYTES:
        # Refused before the body is read, so an oversized upload costs no disk.
        return _too_large(origin, limit)
    visitor_id = read_visitor_token(account.pk, request.POST.get("token", ""))
    if visitor_id is None:
        return _error("The chat session has expired.", 401, origin=origin, field="token")
    if not (
        limits.allow(limits.MESSAGE_LIMIT, visitor_id)
        and limits.allow(limits.UPLOAD_LIMIT, visitor_id)
    ):
        return _rate_limited(origin, limits.UPLOAD_LIMIT)
    upload = request.FILES.get("file")
    if upload is None:
        return _error("Choose a file to send.", 400, origin=origin, field="file")
    if upload.size is None or upload.size > limit:
        return _too_large(origin, limit)
    try:
        client_message_id = services.check_client_message_id(request.POST.get("id"))
    except services.VisitorInputError as error:
        return _error(str(error), 400, origin=origin, field="id")
    content = upload.read()
    content_type = sniff_content_type(content)
    if content_type is None:
        return _error(
            "This kind of file cannot be sent here: send a picture (PNG, JPEG, GIF, WebP), "
            "a PDF or a text file.",
            415,
            origin=origin,
            field="file",
        )
    name = safe_name(upload.name or "file", content_type)
    try:
        created = services.store_visitor_file(
            account,
            visitor_id,
            client_message_id,
            name=name,
            content_type=content_type,
            content=content,
        )
    except DatabaseError:
        logger.exception("Database unavailable while storing a chat file on %r", account)
        return _error("Try again later.", 503, origin=origin)
    return _answer(
        {"id": client_message_id, "name": name, "type": content_type, "size": len(content)},
        201 if created else 200,
        origin=origin,
    )


def _too_large(origin: str, limit: int) -> HttpResponse:
    megabytes = limit / (1024 * 1024)
    return _error(f"Files can be at most {megabytes:g} MB.", 413, origin=origin, field="file")


@require_GET
def conversation_file(request: HttpRequest, slug: str, link: str) -> HttpResponseBase:
    """A file of the visitor's conversation, by a link signed for that visitor
    (``tokens.sign_file_link``); 404 for anything else, whatever the reason. Always a
    download, never rendered as a page of ours, and never sniffed."""
    account = active_account(slug, ChannelKind.CHAT)
    found = read_file_link(link)
    if account is None or found is None:
        raise Http404
    attachment_id, visitor_id = found
    customer_id = visitor_customer_id(visitor_id)
    if customer_id is None:
        raise Http404
    attachment = (
        Attachment.objects.filter(
            pk=attachment_id,
            message__ticket__channel_account=account,
            message__ticket__customer_id=customer_id,
        )
        .exclude(message__direction=Message.Direction.INTERNAL)
        .first()
    )
    if attachment is None:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Cache-Control"] = "private, max-age=3600"
    return response
