"""Signed plus-addresses on a support mailbox.

A reply-to address ``support+t1234-<sig>@shop.example`` carries the ticket number, so a
customer's answer finds its ticket even when their mail client drops ``In-Reply-To``. A bounce
address ``support+bounce-m77-<sig>@shop.example`` (the envelope sender, VERP) names the
outbound message a delivery failure is about, even when the bounce itself is malformed.

The signature is an HMAC keyed from ``SECRET_KEY`` over the number and the account address,
so nobody can write to ``+t1234`` and land in someone else's ticket, and a token made for one
mailbox means nothing on another. Signatures are lower-case base32 because mail systems may
change the case of a local part; ten characters (50 bits) are plenty for an address nobody
can query offline. Addresses signed with a key in ``SECRET_KEY_FALLBACKS`` keep working after
a key rotation.
"""

from __future__ import annotations

import base64
import hmac
import re
from email.utils import parseaddr

from django.conf import settings
from django.utils.crypto import salted_hmac

REPLY_SALT = "switchboard.email.reply-token"
BOUNCE_SALT = "switchboard.email.bounce-address"
SIGNATURE_LENGTH = 10

_NUMBER_AND_SIGNATURE = rf"([1-9][0-9]{{0,17}})-([a-z2-7]{{{SIGNATURE_LENGTH}}})"
_REPLY_TAG = re.compile("t" + _NUMBER_AND_SIGNATURE)
_BOUNCE_TAG = re.compile("bounce-m" + _NUMBER_AND_SIGNATURE)


def split_address(address: str) -> tuple[str, str]:
    """``(local, domain)`` of an address; ValueError when it is not ``local@domain``."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain or any(c.isspace() or c in "<>" for c in address.strip()):
        raise ValueError(f"Not an email address: {address!r}")
    return local, domain


def _signature(salt: str, number: int, account_address: str, secret: str | bytes) -> str:
    digest = salted_hmac(
        salt, f"{number}:{account_address.strip().lower()}", secret, algorithm="sha256"
    ).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:SIGNATURE_LENGTH]


def _secrets() -> list[str | bytes]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _make(salt: str, tag: str, account_address: str, number: int) -> str:
    if number < 1:
        raise ValueError(f"Not a positive number: {number!r}")
    local, domain = split_address(account_address)
    signature = _signature(salt, number, account_address, settings.SECRET_KEY)
    return f"{local}+{tag}{number}-{signature}@{domain}"


def _read(salt: str, pattern: re.Pattern[str], address: str, account_address: str) -> int | None:
    try:
        account_local, account_domain = split_address(account_address)
    except ValueError:
        return None
    prefix = f"{account_local}+".lower()
    # Every recipient of every mail comes here, and nearly none is a token address: one
    # without the mailbox's "local+" anywhere cannot be one, so the address parser is spared.
    if prefix not in address.lower():
        return None
    try:
        local, domain = split_address(parseaddr(address)[1] or address)
    except ValueError:
        return None
    local = local.lower()
    if domain.lower() != account_domain.lower() or not local.startswith(prefix):
        return None
    match = pattern.fullmatch(local[len(prefix) :])
    if match is None:
        return None
    number = int(match.group(1))
    given = match.group(2)
    # Every key is tried, so the time taken does not tell which one (if any) matched.
    valid = False
    for secret in _secrets():
        expected = _signature(salt, number, account_address, secret)
        valid |= hmac.compare_digest(expected, given)
    return number if valid else None


def make_reply_address(account_address: str, ticket_number: int) -> str:
    """The reply-to address that leads back to ticket ``ticket_number`` on this mailbox."""
    return _make(REPLY_SALT, "t", account_address, ticket_number)


def read_reply_address(address: str, account_address: str) -> int | None:
    """The ticket number in a reply-to address made for this mailbox; None when the address
    is not one, is garbled, was signed for another mailbox or the signature is forged."""
    return _read(REPLY_SALT, _REPLY_TAG, address, account_address)


def make_bounce_address(account_address: str, message_id: int) -> str:
    """The envelope sender (VERP) for outbound message ``message_id`` from this mailbox."""
    return _make(BOUNCE_SALT, "bounce-m", account_address, message_id)


def read_bounce_address(address: str, account_address: str) -> int | None:
    """The outbound message pk in a bounce address made for this mailbox, else None."""
    return _read(BOUNCE_SALT, _BOUNCE_TAG, address, account_address)
