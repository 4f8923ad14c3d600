"""Twilio's ``X-Twilio-Signature``, as twilio-python's ``RequestValidator`` checks it.

The ``twilio`` package is not one of our dependencies, so this is the algorithm written
out (providers.md 3.2), and the tests run Twilio's published test vectors through it.

The signed string is the full URL Twilio requested, query string as configured, followed by
every POST parameter name in code-point order, each with its distinct values in order
(``name + value``, no separators). The signature is base64 of its HMAC-SHA1 under the
account's auth token. Like the SDK, a signature is accepted for the URL without its port or
with the scheme's default port, whichever way it was configured in Twilio's console.

A JSON body is not signed as parameters: Twilio puts ``bodySHA256=<hex SHA-256 of the
body>`` in the URL, which is signed, and the body must match that digest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlsplit, urlunsplit

DEFAULT_PORTS = {"https": 443, "http": 80}


def compute_signature(url: str, params: Mapping[str, Sequence[str]], auth_token: str) -> str:
    parts = [url]
    for name in sorted(params):
        for value in sorted(set(params[name])):
            parts.append(name + value)
    digest = hmac.new(auth_token.encode(), "".join(parts).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_variants(url: str) -> tuple[str, str]:
    """``url`` without its port and with the port (the scheme's default when it has none)."""
    parts = urlsplit(url)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    prefix = f"{userinfo}@" if userinfo else ""
    host = hostport
    port = parts.port
    if port is not None:
        host = hostport[: hostport.rindex(":")]
    default = DEFAULT_PORTS.get(parts.scheme.lower())
    without_port = urlunsplit(parts._replace(netloc=prefix + host))
    with_port = (
        url
        if port is not None or default is None
        else urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default}"))
    )
    return without_port, with_port


def is_valid_form_signature(
    url: str, params: Mapping[str, Sequence[str]], signature: str, auth_token: str
) -> bool:
    """Whether ``signature`` signs a form POST of ``params`` to ``url``."""
    if not signature or not auth_token:
        return False
    given = signature.encode("utf-8", "surrogatepass")
    return any(
        hmac.compare_digest(compute_signature(variant, params, auth_token).encode(), given)
        for variant in url_variants(url)
    )


def is_valid_json_signature(url: str, body: bytes, signature: str, auth_token: str) -> bool:
    """Whether ``signature`` signs ``url`` and its ``bodySHA256`` is the digest of ``body``."""
    declared = parse_qs(urlsplit(url).query).get("bodySHA256", [""])[0]
    actual = hashlib.sha256(body).hexdigest()
    if not declared or not hmac.compare_digest(declared.encode(), actual.encode()):
        return False
    return is_valid_form_signature(url, {}, signature, auth_token)
