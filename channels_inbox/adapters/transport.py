"""Plain HTTP for the adapters that call a provider's API (standard library only).

One call, one ``ProviderResponse``, whatever the status: each adapter reads its provider's
error body and decides what is permanent. What no adapter can decide otherwise is decided
here: a connection that fails or times out is a transient ``ChannelError``, and a body
larger than the caller's limit is ``ResponseTooLarge`` before it is read into memory.

Credentials go in ``secret_headers``, which urllib never repeats on a redirect: a provider
that sends a media download on to its CDN never hands our API credentials to another host.
Error messages name the provider and the host, never the URL, which may carry a token.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import Message as HeaderBlock
from http.client import HTTPException
from typing import Protocol
from urllib.parse import urlsplit

from channels_inbox.adapters.base import ChannelError

USER_AGENT = "Switchboard-helpdesk"


class _Readable(Protocol):
    def read(self, amount: int, /) -> bytes: ...


class ResponseTooLarge(Exception):
    """The answer is larger than the caller takes; nothing of it was kept."""

    def __init__(self, size: int | None) -> None:
        super().__init__("response too large")
        self.size = size  # as announced by Content-Length, when it was


@dataclass(frozen=True)
class ProviderResponse:
    status: int
    headers: HeaderBlock
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str:
        return str(self.headers.get(name) or "")


def format_size(size: int) -> str:
    """A byte count for people: whole kilobytes below a megabyte, tenths above."""
    if size < 1024 * 1024:
        return f"{-(-size // 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def basic_auth(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def host_of(url: str) -> str:
    return urlsplit(url).hostname or "the provider"


def request(
    url: str,
    *,
    provider: str,
    method: str = "GET",
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    secret_headers: Mapping[str, str] | None = None,
    timeout: float,
    max_bytes: int,
) -> ProviderResponse:
    """Call ``url`` and return the answer of any status, its body read up to ``max_bytes``.

    Raises ChannelError(permanent=False) when the provider cannot be reached, does not
    answer within ``timeout`` seconds or breaks off, and ResponseTooLarge when the body is
    over ``max_bytes``. Redirects are followed without ``secret_headers``. A URL that is not
    http(s) is a permanent ChannelError: urllib would open files and FTP too."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ChannelError(f"{provider} gave a URL that is not http(s).", permanent=True)
    outgoing = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - checked
    outgoing.add_header("User-Agent", USER_AGENT)
    for name, value in (headers or {}).items():
        outgoing.add_header(name, value)
    for name, value in (secret_headers or {}).items():
        outgoing.add_unredirected_header(name, value)
    try:
        try:
            answer = urllib.request.urlopen(outgoing, timeout=timeout)  # noqa: S310 - http(s) only
        except urllib.error.HTTPError as error:
            # A 4xx or 5xx: its body says why, and the caller decides what that means.
            answer = error
        with answer:
            status = int(answer.status if answer.status is not None else answer.code)
            body = _read_limited(answer, answer.headers, max_bytes)
            return ProviderResponse(status=status, headers=answer.headers, body=body)
    except ResponseTooLarge:
        raise
    except urllib.error.URLError as error:
        reason = error.reason
        detail = "timed out" if isinstance(reason, TimeoutError) else str(reason)
        raise ChannelError(
            f"{provider} unreachable ({host_of(url)}): {detail}", permanent=False
        ) from error
    except TimeoutError as error:
        raise ChannelError(
            f"{provider} did not answer in time ({host_of(url)}).", permanent=False
        ) from error
    except (OSError, HTTPException) as error:
        raise ChannelError(
            f"{provider} connection failed ({host_of(url)}): {type(error).__name__}",
            permanent=False,
        ) from error


def _read_limited(answer: _Readable, headers: HeaderBlock, max_bytes: int) -> bytes:
    announced = headers.get("Content-Length")
    if announced is not None and announced.strip().isdigit() and int(announced) > max_bytes:
        raise ResponseTooLarge(int(announced))
    body = answer.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise ResponseTooLarge(None)
    return bytes(body)


@dataclass(frozen=True)
class FilePart:
    field: str
    filename: str
    content_type: str
    content: bytes


def multipart_form(
    fields: Iterable[tuple[str, str]], files: Iterable[FilePart] = ()
) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type. File names are sent as UTF-8 with
    quotes and line breaks removed, which is what providers' form parsers accept."""
    boundary = f"switchboard-{uuid.uuid4().hex}"
    chunks: list[bytes] = []
    for name, value in fields:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode("utf-8")
            + b"\r\n"
        )
    for part in files:
        filename = "".join(c for c in part.filename if c not in '"\\\r\n') or "file"
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{part.field}"; filename="{filename}"\r\n'
            f"Content-Type: {part.content_type or 'application/octet-stream'}\r\n\r\n"
        )
        chunks.append(head.encode("utf-8") + part.content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"
