"""normalize_address: one canonical form per handle, and a clear refusal otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from customers.identities import MAX_ADDRESS_LENGTH, normalize_address, normalize_phone


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("email", "  Ana.Souza@Example.COM \n", "ana.souza@example.com"),
        ("email", "ana+orders@shop.example", "ana+orders@shop.example"),
        ("whatsapp", "+49 151 12345678", "+4915112345678"),
        ("whatsapp", "0049 151 12345678", "+4915112345678"),
        ("whatsapp", "whatsapp:+4915112345678", "+4915112345678"),
        ("whatsapp", "WhatsApp: +49 151 12345678", "+4915112345678"),
        ("whatsapp", "+49 (0)151 1234-5678", "+4915112345678"),
        ("sms", "tel:+1-415-555-0100", "+14155550100"),
        ("sms", "(415) 555-0100", "+14155550100"),
        ("sms", "+44 20 7946 0958", "+442079460958"),
        ("messenger", " 6543210987654321 ", "6543210987654321"),
        ("instagram", "17841400000000000", "17841400000000000"),
        ("telegram", "-1001234567890", "-1001234567890"),
        ("chat", "Visitor-AbC123", "Visitor-AbC123"),
    ],
)
def test_addresses_are_normalized(kind: str, raw: str, expected: str) -> None:
    assert normalize_address(kind, raw) == expected


def test_numbers_without_country_code_use_the_default_region(settings: Any) -> None:
    settings.DEFAULT_PHONE_REGION = "DE"

    assert normalize_address("sms", "0151 12345678") == "+4915112345678"
    assert normalize_phone("020 7946 0958", region="GB") == "+442079460958"


@pytest.mark.parametrize(
    ("kind", "raw", "code"),
    [
        ("email", "ana", "invalid"),
        ("email", "ana@", "invalid"),
        ("email", "@example.com", "invalid"),
        ("email", "ana@@example.com", "invalid"),
        ("email", "Ana Souza <ana@example.com>", "invalid"),
        ("email", "ana @example.com", "invalid"),
        ("whatsapp", "+1 555", "invalid_phone"),
        ("whatsapp", "12", "invalid_phone"),
        ("sms", "call me maybe", "invalid_phone"),
        ("sms", "+999 1234", "invalid_phone"),
        ("sms", "whatsapp:", "invalid_phone"),
        ("sms", "+49 151 1234567890123456", "invalid_phone"),
        ("telegram", "12 34", "invalid_address"),
        ("messenger", "abc\tdef", "invalid_address"),
        ("fax", "+4915112345678", "invalid_channel"),
        ("", "ana@example.com", "invalid_channel"),
        ("EMAIL", "ana@example.com", "invalid_channel"),
        ("email", "", "empty_address"),
        ("sms", "   \n ", "empty_address"),
        ("chat", "x" * (MAX_ADDRESS_LENGTH + 1), "address_too_long"),
        ("email", "a" * 310 + "@example.com", "address_too_long"),
    ],
)
def test_bad_addresses_are_refused(kind: str, raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_address(kind, raw)

    assert caught.value.code == code


def test_an_address_at_the_length_limit_is_accepted() -> None:
    address = "x" * MAX_ADDRESS_LENGTH

    assert normalize_address("chat", f"  {address}  ") == address


def test_none_is_an_empty_address() -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_address("email", None)  # type: ignore[arg-type]

    assert caught.value.code == "empty_address"
