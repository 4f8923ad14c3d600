"""The chat account's options, and the two option types they brought: a colour and a list of
web origins."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from channels_inbox.chat.origins import allowed_origins, origin_allowed
from channels_inbox.models import ChannelAccount
from channels_inbox.services import clean_options, normalize_origin

EVERY_CHAT_OPTION: dict[str, Any] = {
    "allowed_origins": ["https://shop.example", "https://www.shop.example:8443"],
    "brand_color": "#0a7d4f",
    "title": "Shop help",
    "welcome_text": "Hello! Ask us anything.",
    "fallback_email_account": "support-mail",
}


def errors_of(options: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        clean_options("chat", options)
    return caught.value.message_dict["options"]


def test_every_chat_option_is_taken_as_given() -> None:
    assert clean_options("chat", EVERY_CHAT_OPTION) == EVERY_CHAT_OPTION


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://shop.example", "https://shop.example"),
        ("HTTPS://Shop.Example/", "https://shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("http://shop.example:80", "http://shop.example"),
        ("http://localhost:8080", "http://localhost:8080"),
        (" https://shop.example ", "https://shop.example"),
        ("http://[::1]:3000", "http://[::1]:3000"),
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
    ],
)
def test_origins_are_stored_as_browsers_send_them(given: str, stored: str) -> None:
    assert normalize_origin(given) == stored
    assert clean_options("chat", {"allowed_origins": [given]}) == {"allowed_origins": [stored]}


def test_repeated_origins_are_stored_once_in_order() -> None:
    cleaned = clean_options(
        "chat",
        {"allowed_origins": ["https://b.example", "https://a.example", "https://B.example/"]},
    )

    assert cleaned == {"allowed_origins": ["https://b.example", "https://a.example"]}


@pytest.mark.parametrize(
    "origin",
    [
        "shop.example",
        "ftp://shop.example",
        "https://",
        "https://shop.example/contact",
        "https://shop.example/?page=1",
        "https://shop.example/#top",
        "https://shop.example#",
        "https://user:pw@shop.example",
        "https://*.shop.example",
        "https://shop.example:99999",
        "javascript:alert(1)",
        "null",
        "",
    ],
)
def test_what_is_not_an_origin_is_refused_naming_it(origin: str) -> None:
    [message] = errors_of({"allowed_origins": [origin]})

    assert message.startswith("allowed_origins: ")
    assert "is not an origin" in message


@pytest.mark.parametrize("value", ["https://shop.example", [42], {"a": 1}, None, [["x"]]])
def test_origins_must_be_a_list_of_strings(value: Any) -> None:
    assert errors_of({"allowed_origins": value}) == [
        "allowed_origins must be a list of origins such as https://shop.example.com."
    ]


def test_at_most_fifty_origins() -> None:
    origins = [f"https://shop{number}.example" for number in range(51)]

    assert errors_of({"allowed_origins": origins}) == ["allowed_origins takes at most 50 origins."]
    assert (
        clean_options("chat", {"allowed_origins": origins[:50]})["allowed_origins"] == origins[:50]
    )


@pytest.mark.parametrize(
    ("given", "stored"), [("#0A7D4F", "#0a7d4f"), ("#ffffff", "#ffffff"), ("#000000", "#000000")]
)
def test_brand_colour_is_stored_lower_case(given: str, stored: str) -> None:
    assert clean_options("chat", {"brand_color": given}) == {"brand_color": stored}


@pytest.mark.parametrize(
    "value", ["0a7d4f", "#0a7d4", "#0a7d4f0", "#gggggg", "green", "rgb(1,2,3)", 255, None, True]
)
def test_brand_colour_must_be_rrggbb(value: Any) -> None:
    assert errors_of({"brand_color": value}) == ["brand_color must be a colour written #rrggbb."]


def test_unknown_chat_option_lists_the_ones_it_takes() -> None:
    assert errors_of({"colour": "#ffffff"}) == [
        "Unknown option 'colour'; chat accounts take: allowed_origins, brand_color, "
        "fallback_email_account, title, welcome_text."
    ]


@pytest.mark.django_db
def test_own_site_is_always_allowed_and_nothing_else_by_default(settings: Any) -> None:
    """With no allowed origins the widget works only on Switchboard's own pages."""
    settings.PUBLIC_BASE_URL = "https://help.shop.example/desk"
    account = ChannelAccount.objects.create(kind="chat", name="Chat", slug="chat")

    assert allowed_origins(account) == {"https://help.shop.example"}
    assert origin_allowed(account, "https://help.shop.example") is True
    assert origin_allowed(account, "https://shop.example") is False
    assert origin_allowed(account, "null") is False
    assert origin_allowed(account, None) is False
    assert origin_allowed(account, "not an origin") is False


@pytest.mark.django_db
def test_origins_kept_among_the_credentials_still_count() -> None:
    """The issue's first accounts listed allowed_origins as a credential string."""
    account = ChannelAccount.objects.create(
        kind="chat",
        name="Chat",
        slug="chat",
        credentials={"allowed_origins": "https://shop.example, https://www.shop.example"},
    )

    assert origin_allowed(account, "https://www.shop.example") is True
    assert origin_allowed(account, "https://evil.example") is False
