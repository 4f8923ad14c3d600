"""Twilio's REST API as the SMS adapter uses it: creating messages, downloading MMS media,
and what each failure means.

Errors come as ``{"code": 21211, "message": "Invalid 'To' Phone Number: ...", "status":
400}``. HTTP 429 (Twilio error 20429) and 5xx answers, timeouts and broken connections are
transient; every other refusal is permanent and carries Twilio's code and message, with a
plainer word for the codes an agent meets (an invalid number, an opted-out recipient).

The base URL is ``settings.TWILIO_API_BASE_URL`` (https://api.twilio.com by default), which
tests and staging point at a local server. The account's credentials go only to that
host: a media URL elsewhere is fetched without them, and Twilio's redirect of a media
download to its CDN never carries them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import Message as HeaderBlock
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings

from channels_inbox.adapters.base import ChannelError
from channels_inbox.adapters.transport import (
    ProviderResponse,
    ResponseTooLarge,
    basic_auth,
    request,
)

PROVIDER = "Twilio"
CALL_TIMEOUT_SECONDS = 30.0
DOWNLOAD_TIMEOUT_SECONDS = 60.0
MAX_ANSWER_BYTES = 1024 * 1024

# Twilio's error codes an agent meets, in plain words: synchronous refusals of a send and
# the asynchronous ones a status callback reports.
ERROR_EXPLANATIONS = {
    20003: "Twilio refused the account_sid and auth_token credentials",
    21211: "the number is not a valid phone number",
    21408: "sending to that region is not enabled for the Twilio account",
    21606: "the account's number cannot send SMS",
    21610: "the recipient has opted out of messages from this number (replied STOP)",
    21612: "this number cannot send to that one",
    21614: "the number cannot receive SMS",
    30003: "the handset is unreachable",
    30004: "the message was blocked",
    30005: "the number is unknown to the carrier",
    30006: "a landline, or a carrier that cannot be reached",
    30007: "the carrier filtered the message",
    30008: "the carrier reported an unknown error",
    30034: "the sending number is not registered for A2P 10DLC",
}


def api_base_url() -> str:
    return str(settings.TWILIO_API_BASE_URL).rstrip("/")


def explain(code: Any, message: str = "") -> str:
    """``Twilio error 21211: <message>``, led by the plain explanation when there is one."""
    number = int(code) if isinstance(code, int | str) and str(code).strip().isdigit() else None
    if number is None and not message:
        return "no details given"
    detail = f"Twilio error {number}" if number is not None else "Twilio error"
    if message:
        detail = f"{detail}: {message}"
    explanation = ERROR_EXPLANATIONS.get(number) if number is not None else None
    return f"{explanation[:1].upper()}{explanation[1:]} ({detail})" if explanation else detail


class MediaTooLarge(Exception):
    """A file the customer sent is over the size we take; it is not downloaded."""

    def __init__(self, size: int | None) -> None:
        super().__init__("media too large")
        self.size = size


@dataclass(frozen=True)
class TwilioApi:
    account_sid: str
    auth_token: str

    def __repr__(self) -> str:  # never the token
        return f"<TwilioApi {self.account_sid}>"

    def _authorization(self) -> dict[str, str]:
        if not self.account_sid or not self.auth_token:
            raise ChannelError(
                "The account needs the account_sid and auth_token credentials.", permanent=True
            )
        return {"Authorization": basic_auth(self.account_sid, self.auth_token)}

    def create_message(self, form: list[tuple[str, str]]) -> str:
        """Hand a message to Twilio; returns its sid (``SM...``). ChannelError otherwise."""
        authorization = self._authorization()
        url = (
            f"{api_base_url()}/2010-04-01/Accounts/{quote(self.account_sid, safe='')}/Messages.json"
        )
        try:
            response = request(
                url,
                provider=PROVIDER,
                method="POST",
                data=urlencode(form).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                secret_headers=authorization,
                timeout=CALL_TIMEOUT_SECONDS,
                max_bytes=MAX_ANSWER_BYTES,
            )
        except ResponseTooLarge:
            raise ChannelError(
                "Twilio's answer is too large to be its API's.", permanent=True
            ) from None
        answer = _answer(response)
        if not response.ok:
            raise _refusal(response, answer)
        sid = answer.get("sid")
        if not isinstance(sid, str) or not sid:
            # The message may be on its way: sending it again could repeat it.
            raise ChannelError(
                "Twilio accepted the message but its answer has no sid.", permanent=True
            )
        return sid

    def download_media(self, url: str, *, max_bytes: int) -> tuple[bytes, str]:
        """An MMS file's content and content type. MediaTooLarge when it is over
        ``max_bytes``; ChannelError otherwise (transient for 429, 5xx and the network)."""
        ours = _origin(url) == _origin(api_base_url())
        try:
            response = request(
                url,
                provider=PROVIDER,
                secret_headers=self._authorization() if ours else None,
                timeout=DOWNLOAD_TIMEOUT_SECONDS,
                max_bytes=max_bytes,
            )
        except ResponseTooLarge as error:
            raise MediaTooLarge(error.size) from None
        if not response.ok:
            raise _refusal(response, _answer(response), what="the media download")
        return response.body, _content_type(response.headers)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def _content_type(headers: HeaderBlock) -> str:
    value = headers.get_content_type() if headers.get("Content-Type") else ""
    return value or "application/octet-stream"


def _answer(response: ProviderResponse) -> dict[str, Any]:
    try:
        data = json.loads(response.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _refusal(
    response: ProviderResponse, answer: dict[str, Any], *, what: str = "the message"
) -> ChannelError:
    message = answer.get("message")
    message = message if isinstance(message, str) else ""
    code = answer.get("code")
    if response.status == 429 or str(code) == "20429":
        header = response.header("Retry-After").strip()
        return ChannelError(
            f"Twilio rate limit on {what}: {explain(code, message)}",
            permanent=False,
            retry_after=float(header) if header.isdigit() else None,
        )
    if response.status >= 500:
        return ChannelError(
            f"Twilio server error on {what} ({response.status}): {explain(code, message)}",
            permanent=False,
        )
    return ChannelError(
        f"Twilio refused {what} ({response.status}): {explain(code, message)}", permanent=True
    )
