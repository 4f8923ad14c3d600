"""The Telegram Bot API as the adapter uses it: method calls, file downloads, and what each
failure means.

Every answer is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code",
"description", "parameters": {"retry_after"}}``. A 429 ("Too Many Requests: retry after
35") is transient and its ``retry_after`` is honoured; 5xx answers, timeouts and broken
connections are transient; everything else (400 "chat not found", 403 "bot was blocked by
the user", 401 for a wrong token) is permanent and carries Telegram's description.

The bot token is part of every URL, so no URL is ever put in an error or a log line.
The API's base URL is ``settings.TELEGRAM_API_BASE_URL`` (https://api.telegram.org by
default), which tests and staging point at a local server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings

from channels_inbox.adapters.base import ChannelError
from channels_inbox.adapters.transport import (
    FilePart,
    ProviderResponse,
    ResponseTooLarge,
    multipart_form,
    request,
)

PROVIDER = "Telegram"
# A send is one small request; a slow answer is better retried than waited for.
CALL_TIMEOUT_SECONDS = 30.0
# Files go up to 20 MB through the cloud Bot API.
DOWNLOAD_TIMEOUT_SECONDS = 60.0
# Method answers are one Message or File object; anything near this is not the Bot API.
MAX_ANSWER_BYTES = 1024 * 1024
DOWNLOAD = "the file download"


def api_base_url() -> str:
    return str(settings.TELEGRAM_API_BASE_URL).rstrip("/")


class FileTooLarge(Exception):
    """A file the customer sent is over the size we take; it is not downloaded."""

    def __init__(self, size: int | None) -> None:
        super().__init__("file too large")
        self.size = size


@dataclass(frozen=True)
class BotApi:
    token: str

    def __repr__(self) -> str:  # never the token
        return "<BotApi>"

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        files: tuple[FilePart, ...] = (),
    ) -> Any:
        """Call ``method`` with JSON ``params`` (multipart form fields when there are
        ``files``) and return its ``result``. ChannelError on every failure."""
        if not self.token:
            raise ChannelError("The account has no bot_token credential.", permanent=True)
        if files:
            fields = [
                (name, value if isinstance(value, str) else json.dumps(value))
                for name, value in (params or {}).items()
            ]
            data, content_type = multipart_form(fields, files)
        else:
            data, content_type = json.dumps(params or {}).encode(), "application/json"
        try:
            response = request(
                f"{api_base_url()}/bot{self.token}/{method}",
                provider=PROVIDER,
                method="POST",
                data=data,
                headers={"Content-Type": content_type},
                timeout=CALL_TIMEOUT_SECONDS,
                max_bytes=MAX_ANSWER_BYTES,
            )
        except ResponseTooLarge:
            raise ChannelError(
                f"Telegram's answer to {method} is too large to be the Bot API's.",
                permanent=True,
            ) from None
        return _result(method, response)

    def download(self, file_id: str, *, max_bytes: int) -> bytes:
        """The content of a file a customer sent: ``getFile`` for its path, then the file
        itself. FileTooLarge when it is over ``max_bytes``; ChannelError otherwise."""
        info = self.call("getFile", {"file_id": file_id})
        if not isinstance(info, dict):
            raise ChannelError("Telegram's getFile answer has no file.", permanent=True)
        size = info.get("file_size")
        if isinstance(size, int) and size > max_bytes:
            raise FileTooLarge(size)
        path = info.get("file_path")
        if not isinstance(path, str) or not path:
            raise ChannelError("Telegram has no download for this file.", permanent=True)
        try:
            response = request(
                f"{api_base_url()}/file/bot{self.token}/{quote(path)}",
                provider=PROVIDER,
                timeout=DOWNLOAD_TIMEOUT_SECONDS,
                max_bytes=max_bytes,
            )
        except ResponseTooLarge as error:
            raise FileTooLarge(error.size) from None
        if response.ok:
            return response.body
        raise _refusal(DOWNLOAD, response, _answer(response))


def _answer(response: ProviderResponse) -> dict[str, Any]:
    try:
        data = json.loads(response.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _result(method: str, response: ProviderResponse) -> Any:
    answer = _answer(response)
    if response.ok and answer.get("ok") is True:
        return answer.get("result")
    if response.ok:
        # Whatever answered is not the Bot API; the request may have gone through, so
        # sending it again could repeat it.
        raise ChannelError(
            f"Telegram answered {method} with something that is not the Bot API's JSON.",
            permanent=True,
        )
    raise _refusal(method, response, answer)


def _refusal(what: str, response: ProviderResponse, answer: dict[str, Any]) -> ChannelError:
    code = answer.get("error_code")
    status = code if isinstance(code, int) else response.status
    description = answer.get("description")
    detail = description if isinstance(description, str) and description else "no description"
    parameters = answer.get("parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    if response.status == 429 or status == 429:
        return ChannelError(
            f"Telegram rate limit on {what}: {detail}",
            permanent=False,
            retry_after=_retry_after(parameters.get("retry_after"), response),
        )
    if response.status >= 500:
        return ChannelError(
            f"Telegram server error on {what} ({response.status}): {detail}", permanent=False
        )
    if status in (401, 404) and what != DOWNLOAD:
        # How the Bot API answers a token it does not know.
        detail = f"{detail}; check the account's bot_token"
    return ChannelError(f"Telegram refused {what} ({status}): {detail}", permanent=True)


def _retry_after(value: Any, response: ProviderResponse) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    header = response.header("Retry-After").strip()
    return float(header) if header.isdigit() else None
