"""Meta's webhook checks: the subscription handshake (GET) and ``X-Hub-Signature-256`` on
every notification (POST).

The signature is the lowercase hex HMAC-SHA256 of the raw request body under the Meta app's
App Secret, sent as ``sha256=<hex>``. It is computed over the bytes received, never over JSON
parsed and serialized again: Meta escapes non-ASCII as ``\\uXXXX`` in what it signs, so a
re-serialized body hashes differently. The legacy SHA-1 header ``X-Hub-Signature`` is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="
SUBSCRIBE_MODE = "subscribe"


def expected_signature(app_secret: str, body: bytes) -> str:
    """The header value Meta sends for ``body``: ``sha256=`` and 64 lowercase hex digits."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signature_matches(app_secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` (the ``X-Hub-Signature-256`` value, None when missing) signs
    ``body`` under ``app_secret``. Constant time; an empty secret matches nothing, so an
    account set up without one cannot be posted to by anybody."""
    if not app_secret or not header:
        return False
    given = header.strip()
    # The prefix is fixed; the digest is compared case-insensitively, as hex.
    if given[: len(SIGNATURE_PREFIX)].lower() != SIGNATURE_PREFIX:
        return False
    # Bytes on both sides: compare_digest refuses non-ASCII text, and a header can carry any.
    expected = expected_signature(app_secret, body)[len(SIGNATURE_PREFIX) :].encode("ascii")
    digest = given[len(SIGNATURE_PREFIX) :].lower().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(expected, digest)


def subscription_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The ``hub.challenge`` to echo when ``params`` (the GET query) are a subscription
    request carrying our verify token; None otherwise (the caller answers 403). The verify
    token only serves this handshake; it is unrelated to the App Secret."""
    mode = params.get("hub.mode", "")
    given = params.get("hub.verify_token", "")
    challenge = params.get("hub.challenge", "")
    if not verify_token or mode != SUBSCRIBE_MODE or not challenge:
        return None
    if not hmac.compare_digest(
        verify_token.encode("utf-8"), given.encode("utf-8", "surrogateescape")
    ):
        return None
    return challenge
