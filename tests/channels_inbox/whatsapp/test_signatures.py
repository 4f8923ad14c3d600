"""Meta's webhook checks, shared by WhatsApp, Messenger and Instagram: the published test
vector, the raw-bytes rule, and the handshake."""

from __future__ import annotations

import pytest

from channels_inbox.meta.signatures import (
    expected_signature,
    signature_matches,
    subscription_challenge,
)

# providers.md section 8, T4: the WhatsApp Node.js SDK's own test.
T4_SECRET = "TEST_APP_SECRET"
T4_BODY = b"test"
T4_HEADER = "sha256=0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221"


def test_the_published_vector_is_what_we_compute_and_accept() -> None:
    assert expected_signature(T4_SECRET, T4_BODY) == T4_HEADER
    assert signature_matches(T4_SECRET, T4_BODY, T4_HEADER) is True


def test_the_digest_is_read_case_insensitively_with_surrounding_space() -> None:
    assert signature_matches(T4_SECRET, T4_BODY, "  SHA256=" + T4_HEADER[7:].upper() + " ")


@pytest.mark.parametrize(
    ("secret", "body", "header"),
    [
        pytest.param(T4_SECRET, b"test ", T4_HEADER, id="body changed"),
        pytest.param("TEST_APP_SECRET2", T4_BODY, T4_HEADER, id="other secret"),
        pytest.param(T4_SECRET, T4_BODY, T4_HEADER[:-1], id="digest cut short"),
        pytest.param(T4_SECRET, T4_BODY, T4_HEADER[7:], id="no sha256= prefix"),
        pytest.param(T4_SECRET, T4_BODY, "sha1=" + T4_HEADER[7:], id="sha1 prefix"),
        pytest.param(T4_SECRET, T4_BODY, "", id="empty header"),
        pytest.param(T4_SECRET, T4_BODY, None, id="missing header"),
        pytest.param(T4_SECRET, T4_BODY, "sha256=é" + T4_HEADER[8:], id="non-ASCII digest"),
        pytest.param("", T4_BODY, expected_signature("", T4_BODY), id="account without secret"),
    ],
)
def test_anything_else_is_refused(secret: str, body: bytes, header: str | None) -> None:
    assert signature_matches(secret, body, header) is False


def test_escaped_and_raw_unicode_bodies_sign_differently() -> None:
    """providers.md's pitfall check: the HMAC is over the bytes received. A verifier that
    parsed the JSON and serialized it again would accept one of these for the other."""
    escaped = b'{"text":"caf\\u00e9"}'
    raw = '{"text":"café"}'.encode()

    assert expected_signature(T4_SECRET, escaped) != expected_signature(T4_SECRET, raw)
    assert signature_matches(T4_SECRET, escaped, expected_signature(T4_SECRET, escaped))
    assert not signature_matches(T4_SECRET, raw, expected_signature(T4_SECRET, escaped))


def subscribe(token: str, mode: str = "subscribe", challenge: str = "1158201444") -> dict[str, str]:
    return {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}


def test_the_handshake_echoes_the_challenge_for_our_token() -> None:
    assert subscription_challenge(subscribe("our-token"), "our-token") == "1158201444"


@pytest.mark.parametrize(
    ("params", "configured"),
    [
        pytest.param(subscribe("other-token"), "our-token", id="wrong token"),
        pytest.param(subscribe("our-token", mode="unsubscribe"), "our-token", id="wrong mode"),
        pytest.param(subscribe("our-token", challenge=""), "our-token", id="no challenge"),
        pytest.param(subscribe(""), "", id="no token configured"),
        pytest.param({"hub.challenge": "1"}, "our-token", id="no mode, no token"),
        pytest.param(subscribe("our-tokén"), "our-token", id="non-ASCII token"),
    ],
)
def test_the_handshake_refuses_anything_else(params: dict[str, str], configured: str) -> None:
    assert subscription_challenge(params, configured) is None
