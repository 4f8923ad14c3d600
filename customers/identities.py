"""Normalizing channel addresses, so one person's handle always matches the same Identity."""

from __future__ import annotations

import functools

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from helpdesk.channel_kinds import CHANNEL_KINDS, PHONE_CHANNELS, ChannelKind

MAX_ADDRESS_LENGTH = 320


def normalize_phone(raw: str, *, region: str | None = None) -> str:
    """E.164 (``+4915112345678``); a number without a country code is read in ``region``
    (``settings.DEFAULT_PHONE_REGION`` by default)."""
    text = raw.strip()
    if text.lower().startswith(("whatsapp:", "tel:")):
        text = text.split(":", 1)[1].strip()
    if text.startswith("00"):
        # "00" is the international call prefix nearly everywhere, but phonenumbers only
        # reads it as one when the default region dials it (not in the US, which dials 011),
        # so "0049 151 …" would become a US number. No national number starts with 00.
        text = "+" + text[2:]
    e164 = _e164(text, region or settings.DEFAULT_PHONE_REGION)
    if e164 is None:
        raise ValidationError(f"{raw!r} is not a phone number.", code="invalid_phone")
    if not e164:
        raise ValidationError(f"{raw!r} is not a possible phone number.", code="invalid_phone")
    return e164


# Parsing a number is the dearest step of taking a chat message in, and the same customers
# write again and again: an adapter and the sender's resolution both normalize each one.
@functools.lru_cache(maxsize=4096)
def _e164(text: str, region: str) -> str | None:
    """``text`` in E.164; None when it is no phone number, "" when not a possible one."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_address(kind: str, raw: str) -> str:
    """The canonical form of ``raw`` on channel ``kind``; ValidationError when it is not one."""
    if kind not in CHANNEL_KINDS:
        raise ValidationError(f"Unknown channel {kind!r}.", code="invalid_channel")
    text = (raw or "").strip()
    if not text:
        raise ValidationError("The address is empty.", code="empty_address")
    if len(text) > MAX_ADDRESS_LENGTH:
        raise ValidationError("The address is too long.", code="address_too_long")
    if kind == ChannelKind.EMAIL:
        address = text.lower()
        validate_email(address)
        return address
    if kind in PHONE_CHANNELS:
        return normalize_phone(text)
    # Provider-scoped ids (Messenger PSID, Instagram IGSID, Telegram chat id, chat visitor id)
    # are opaque and case-sensitive.
    if any(character.isspace() for character in text):
        raise ValidationError(f"{raw!r} is not a valid {kind} id.", code="invalid_address")
    return text
