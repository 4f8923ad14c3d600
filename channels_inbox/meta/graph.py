"""A small client for Meta's Graph API, shared by the WhatsApp, Messenger and Instagram
adapters, over the adapters' plain HTTP (``channels_inbox.adapters.transport``).

The base URL with its pinned API version is ``settings.META_GRAPH_API_URL`` and the timeout
``settings.META_GRAPH_TIMEOUT_SECONDS``, so tests and staging point at a fake server. A
request that gets no answer (refused, broken off, timed out) is the transport's transient
``ChannelError``. An answer that is not a success is a ``GraphError`` carrying what the
products' adapters need to decide whether trying again can help: the HTTP status, Meta's
error code and subcode and a 429's ``Retry-After``. Which codes are permanent differs per
product, so that decision stays in each adapter; ``GraphError.transient`` is only the part
every product shares (429 and 5xx).
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from channels_inbox.adapters import transport
from channels_inbox.adapters.transport import FilePart, ResponseTooLarge

PROVIDER = "Graph API"
# Graph's JSON answers are small; media downloads pass their own limit.
MAX_JSON_BODY_BYTES = 4 * 1024 * 1024


def graph_api_url() -> str:
    """The Graph API base with its version, e.g. ``https://graph.facebook.com/v21.0``."""
    return str(settings.META_GRAPH_API_URL).rstrip("/")


def graph_timeout() -> float:
    return float(settings.META_GRAPH_TIMEOUT_SECONDS)


class GraphError(Exception):
    """A Graph API answer that is not a success. ``code``/``subcode`` are Meta's error code
    when the answer carried the Graph error envelope."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        code: int | None = None,
        subcode: int | None = None,
        details: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code
        self.subcode = subcode
        self.details = details
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """True for what every Meta product retries: 429 and 5xx."""
        return self.http_status == 429 or self.http_status >= 500

    def describe(self) -> str:
        """One line for an agent or an operator: Meta's message, details and code."""
        text = self.message
        if self.details and self.details not in text:
            text = f"{text}: {self.details}"
        if self.code is not None:
            subcode = f", subcode {self.subcode}" if self.subcode is not None else ""
            return f"{text} (code {self.code}{subcode})"
        return f"{text} (HTTP {self.http_status})"


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header as seconds: a number, or an HTTP date. None when absent or
    unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN is not a delay
        return None
    return max(seconds, 0.0)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def error_from_answer(status: int, retry_after: str, body: bytes) -> GraphError:
    """The GraphError for a non-success answer, read from Meta's envelope
    ``{"error": {"message", "code", "error_subcode", "error_data": {"details"}}}`` when the
    body is one."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        excerpt = body[:300].decode("utf-8", "replace").strip()
        return GraphError(
            f"Graph API answered HTTP {status}" + (f": {excerpt}" if excerpt else ""),
            http_status=status,
            retry_after=retry_after_seconds(retry_after),
        )
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    return GraphError(
        str(error.get("message") or f"Graph API answered HTTP {status}"),
        http_status=status,
        code=_int_or_none(error.get("code")),
        subcode=_int_or_none(error.get("error_subcode")),
        details=details.strip() if isinstance(details, str) else "",
        retry_after=retry_after_seconds(retry_after),
    )


class GraphClient:
    """Calls the Graph API with one access token (``Authorization: Bearer``), which the
    transport never repeats on a redirect."""

    def __init__(
        self, access_token: str, *, base_url: str | None = None, timeout: float | None = None
    ) -> None:
        self.access_token = access_token
        self.base_url = (base_url or graph_api_url()).rstrip("/")
        self.timeout = timeout if timeout is not None else graph_timeout()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def get_json(self, path: str) -> dict[str, Any]:
        return self._json(self._call("GET", self.url(path)))

    def post_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return self._json(
            self._call("POST", self.url(path), data, "application/json; charset=utf-8")
        )

    def post_multipart(
        self, path: str, fields: Sequence[tuple[str, str]], files: Sequence[FilePart]
    ) -> dict[str, Any]:
        data, content_type = transport.multipart_form(fields, files)
        return self._json(self._call("POST", self.url(path), data, content_type))

    def download(self, url: str, *, max_bytes: int) -> bytes:
        """The bytes at ``url`` (a media URL the API handed out), fetched with the bearer
        token. ``ResponseTooLarge`` when larger than ``max_bytes``; a permanent
        ChannelError for a URL that is not http(s)."""
        return self._call("GET", url, max_bytes=max_bytes)

    def _json(self, body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise GraphError(
                "Graph API answered success with a body that is not JSON.", http_status=200
            ) from None
        if not isinstance(data, dict):
            raise GraphError(
                "Graph API answered success with JSON that is not an object.", http_status=200
            )
        return data

    def _call(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        content_type: str = "",
        *,
        max_bytes: int = MAX_JSON_BODY_BYTES,
    ) -> bytes:
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            answer = transport.request(
                url,
                provider=PROVIDER,
                method=method,
                data=data,
                headers=headers,
                secret_headers={"Authorization": f"Bearer {self.access_token}"},
                timeout=self.timeout,
                max_bytes=max_bytes,
            )
        except ResponseTooLarge:
            if max_bytes != MAX_JSON_BODY_BYTES:
                raise
            raise GraphError(
                f"The Graph API's answer is over {MAX_JSON_BODY_BYTES} bytes.", http_status=200
            ) from None
        if not answer.ok:
            raise error_from_answer(answer.status, answer.header("Retry-After"), answer.body)
        return answer.body
