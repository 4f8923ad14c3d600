"""Signed reply-to and bounce addresses on a support mailbox."""

from __future__ import annotations

from typing import Any

import pytest

from channels_inbox.email.tokens import (
    make_bounce_address,
    make_reply_address,
    read_bounce_address,
    read_reply_address,
)

ACCOUNT = "support@shop.test"


def test_reply_address_round_trip() -> None:
    """A reply-to address made for a ticket reads back as that ticket's number."""
    address = make_reply_address(ACCOUNT, 1234)

    assert address.startswith("support+t1234-")
    assert address.endswith("@shop.test")
    assert len(address) == len("support+t1234-@shop.test") + 10
    assert read_reply_address(address, ACCOUNT) == 1234


def test_reply_address_is_deterministic_per_ticket() -> None:
    assert make_reply_address(ACCOUNT, 7) == make_reply_address(ACCOUNT, 7)
    assert make_reply_address(ACCOUNT, 7) != make_reply_address(ACCOUNT, 8)


def test_reply_address_survives_case_changes_and_display_names() -> None:
    """Mail systems may upper-case a local part or add a display name."""
    address = make_reply_address(ACCOUNT, 55)

    assert read_reply_address(address.upper(), "Support@Shop.TEST") == 55
    assert read_reply_address(f'"Acme Support" <{address}>', ACCOUNT) == 55


def test_forged_signature_is_refused() -> None:
    """Changing the ticket number without the key gives nothing."""
    address = make_reply_address(ACCOUNT, 1234)
    signature = address.split("-", 1)[1].split("@")[0]

    assert read_reply_address(f"support+t1235-{signature}@shop.test", ACCOUNT) is None
    flipped = ("b" if signature[0] == "a" else "a") + signature[1:]
    assert read_reply_address(f"support+t1234-{flipped}@shop.test", ACCOUNT) is None


def test_token_of_another_mailbox_is_refused() -> None:
    """A token made for sales@ means nothing on support@, even on the same domain."""
    address = make_reply_address("sales@shop.test", 1234)
    moved = address.replace("sales+", "support+")

    assert read_reply_address(address, ACCOUNT) is None
    assert read_reply_address(moved, ACCOUNT) is None
    assert (
        read_reply_address(address.replace("@shop.test", "@other.test"), "sales@other.test") is None
    )


def test_token_signed_with_another_secret_key_is_refused(settings: Any) -> None:
    address = make_reply_address(ACCOUNT, 99)
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40

    assert read_reply_address(address, ACCOUNT) is None


def test_token_signed_with_a_retired_key_still_reads(settings: Any) -> None:
    """After a key rotation, replies to mail sent before it still thread."""
    old_key = settings.SECRET_KEY
    address = make_reply_address(ACCOUNT, 99)
    settings.SECRET_KEY = "a-brand-new-secret-key-" + "y" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]

    assert read_reply_address(address, ACCOUNT) == 99


@pytest.mark.parametrize(
    "address",
    [
        "",
        "support@shop.test",
        "support+t1234@shop.test",
        "support+t1234-@shop.test",
        "support+t-abcdefghij@shop.test",
        "support+t0123-abcdefghij@shop.test",
        "support+tabc-abcdefghij@shop.test",
        "support+t1234-abcdefghi1@shop.test",
        "support+t1234-abcdefghijk@shop.test",
        "support+x1234-abcdefghij@shop.test",
        "support+t1234-abcdefghij",
        "@shop.test",
        "support+t1234-abcdefghij@",
        "not an address at all",
        "support+t99999999999999999999999-abcdefghij@shop.test",
        "\x00\r\n<>@@",
    ],
)
def test_garbled_reply_addresses_read_as_nothing(address: str) -> None:
    assert read_reply_address(address, ACCOUNT) is None


def test_reading_against_a_garbled_account_address_reads_nothing() -> None:
    assert read_reply_address(make_reply_address(ACCOUNT, 5), "") is None
    assert read_reply_address(make_reply_address(ACCOUNT, 5), "not-an-address") is None


@pytest.mark.parametrize("number", [0, -1])
def test_reply_address_needs_a_positive_number(number: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        make_reply_address(ACCOUNT, number)


@pytest.mark.parametrize("account_address", ["", "support", "support@", "@shop.test", "a b@c.d"])
def test_reply_address_needs_an_account_address(account_address: str) -> None:
    with pytest.raises(ValueError, match="Not an email address"):
        make_reply_address(account_address, 5)


def test_bounce_address_round_trip_and_is_not_a_reply_token() -> None:
    """A VERP address names the outbound message; it is never mistaken for a ticket."""
    bounce = make_bounce_address(ACCOUNT, 77)

    assert bounce.startswith("support+bounce-m77-")
    assert read_bounce_address(bounce, ACCOUNT) == 77
    assert read_reply_address(bounce, ACCOUNT) is None
    assert read_bounce_address(make_reply_address(ACCOUNT, 77), ACCOUNT) is None


def test_bounce_address_forged_or_other_account_reads_nothing() -> None:
    bounce = make_bounce_address(ACCOUNT, 77)

    assert read_bounce_address(bounce.replace("-m77-", "-m78-"), ACCOUNT) is None
    assert read_bounce_address(bounce, "sales@shop.test") is None
