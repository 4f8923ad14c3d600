"""The Telegram webhook: who may post, how much, what it stores and what it answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.telegram.views import MAX_UPDATE_BYTES
from customers.models import Customer
from tests.channels_inbox.telegram.conftest import (
    SECRET,
    WEBHOOK_URL,
    events,
    message_update,
    post_update,
)
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def chat_and_message_ids(update: dict[str, Any]) -> tuple[int, int]:
    return update["message"]["chat"]["id"], update["message"]["message_id"]


def nothing_stored() -> bool:
    return (
        not InboundEvent.objects.exists()
        and not Message.objects.exists()
        and not Customer.objects.exists()
    )


def test_a_text_message_is_stored_and_becomes_a_ticket(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    update = message_update(text="Where is order #1001?")

    response = post_update(django_capture_on_commit_callbacks, update)

    assert (response.status_code, response.content) == (200, b"")
    [event] = events()
    chat_id, message_id = chat_and_message_ids(update)
    assert event.external_id == f"{update['update_id']}:{chat_id}:{message_id}"
    assert json.loads(bytes(event.payload)) == update
    assert (event.status, event.error) == ("processed", "")
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.channel_account_id) == ("telegram", telegram_account.pk)
    assert ticket.team == telegram_account.default_team
    [message] = ticket.messages.all()
    assert (message.text, message.provider_message_id) == (
        "Where is order #1001?",
        f"{chat_id}:{message_id}",
    )
    identity = ticket.customer.identities.get()
    assert (identity.kind, identity.address, identity.display_name) == (
        "telegram",
        "481516234",
        "Lena Kraus",
    )


def test_a_redelivered_update_is_acknowledged_and_stores_nothing_new(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    update = message_update(text="Hello?")
    post_update(django_capture_on_commit_callbacks, update)

    again = post_update(django_capture_on_commit_callbacks, update)

    assert again.status_code == 200
    assert InboundEvent.objects.count() == 1
    assert Message.objects.count() == 1


def test_an_update_id_reused_after_a_quiet_week_is_a_new_message(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """Telegram restarts update ids at random after a week without updates; the chat's
    message id tells the new message from the old one."""
    first = message_update(text="First question")
    second = message_update(text="A question weeks later")
    second["update_id"] = first["update_id"]
    post_update(django_capture_on_commit_callbacks, first)

    post_update(django_capture_on_commit_callbacks, second)

    assert [message.text for message in Message.objects.order_by("pk")] == [
        "First question",
        "A question weeks later",
    ]


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("wrong-secret", id="wrong"),
        pytest.param(SECRET[:-1], id="prefix"),
        pytest.param(SECRET.upper(), id="other case"),
        pytest.param(SECRET + "x", id="longer"),
    ],
)
def test_a_missing_or_wrong_secret_token_answers_403_and_stores_nothing(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any, secret: str | None
) -> None:
    response = post_update(
        django_capture_on_commit_callbacks, message_update(text="hi"), secret=secret
    )

    assert response.status_code == 403
    assert nothing_stored()


def test_a_non_ascii_secret_header_answers_403(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    response = post_update(
        django_capture_on_commit_callbacks, message_update(text="hi"), secret="sécret"
    )

    assert response.status_code == 403
    assert nothing_stored()


@pytest.mark.parametrize(
    ("overrides", "url"),
    [
        pytest.param({}, "/webhooks/telegram/no-such-bot/", id="unknown slug"),
        pytest.param({"is_active": False}, WEBHOOK_URL, id="inactive"),
        pytest.param({"kind": "sms", "address": "+14155550100"}, WEBHOOK_URL, id="not telegram"),
        pytest.param({"credentials": {"bot_token": "t"}}, WEBHOOK_URL, id="no secret token"),
    ],
)
def test_an_account_that_cannot_receive_answers_404(
    telegram_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    overrides: dict[str, Any],
    url: str,
) -> None:
    ChannelAccount.objects.filter(pk=telegram_account.pk).update(**overrides)

    response = post_update(django_capture_on_commit_callbacks, message_update(text="hi"), url=url)

    assert response.status_code == 404
    assert nothing_stored()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"{not json", "not JSON", id="malformed JSON"),
        pytest.param(b"\xff\xfe{}", "not JSON", id="not UTF-8"),
        pytest.param(b"[1, 2]", "not a JSON object", id="array"),
        pytest.param(b"{}", "no update_id", id="no update_id"),
        pytest.param(b'{"update_id": "12"}', "no update_id", id="string update_id"),
        pytest.param(b'{"update_id": -1}', "no update_id", id="negative update_id"),
        pytest.param(b'{"update_id": true}', "no update_id", id="boolean update_id"),
        pytest.param(b"", "not JSON", id="empty"),
    ],
)
def test_a_body_that_is_not_an_update_answers_400_and_stores_nothing(
    telegram_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    body: bytes,
    reason: str,
) -> None:
    response = post_update(django_capture_on_commit_callbacks, body)

    assert response.status_code == 400
    assert response.content.decode() == f"Unreadable payload: {reason}"
    assert nothing_stored()


def test_a_body_over_the_limit_answers_413_and_stores_nothing(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    update = message_update(text="x" * MAX_UPDATE_BYTES)

    response = post_update(django_capture_on_commit_callbacks, update)

    assert response.status_code == 413
    assert nothing_stored()


def test_a_declared_length_over_the_limit_answers_413_before_reading(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    response = post_update(
        django_capture_on_commit_callbacks,
        message_update(text="short"),
        CONTENT_LENGTH=str(MAX_UPDATE_BYTES + 1),
    )

    assert response.status_code == 413
    assert nothing_stored()


def test_the_secret_is_checked_before_the_size(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """Without the secret nobody learns anything about the endpoint's limits."""
    update = message_update(text="x" * MAX_UPDATE_BYTES)

    response = post_update(django_capture_on_commit_callbacks, update, secret="wrong")

    assert response.status_code == 403


def test_get_answers_405(telegram_account: ChannelAccount) -> None:
    response = Client().get(WEBHOOK_URL, HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET)

    assert response.status_code == 405


@pytest.mark.parametrize(
    ("update", "reason"),
    [
        pytest.param(
            {"update_id": 1, "edited_message": {"message_id": 5, "chat": {"id": 7}, "text": "x"}},
            "Telegram edited_message updates are not taken in.",
            id="edited message",
        ),
        pytest.param(
            {"update_id": 2, "callback_query": {"id": "cb1", "data": "yes"}},
            "Telegram callback_query updates are not taken in.",
            id="button press",
        ),
        pytest.param(
            {"update_id": 3, "message_reaction": {"chat": {"id": 7}, "message_id": 5}},
            "Telegram message_reaction updates are not taken in.",
            id="reaction",
        ),
        pytest.param(
            {"update_id": 4, "some_future_update": {"x": 1}},
            "Telegram some_future_update updates are not taken in.",
            id="unknown type",
        ),
        pytest.param({"update_id": 5}, "Telegram empty updates are not taken in.", id="empty"),
    ],
)
def test_updates_of_other_types_are_acknowledged_and_ignored_with_the_reason(
    telegram_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    update: dict[str, Any],
    reason: str,
) -> None:
    """Stored raw like every update (so a later version can take them in), but no
    customer, ticket or message comes of them."""
    response = post_update(django_capture_on_commit_callbacks, update)

    assert response.status_code == 200
    [event] = events()
    assert (event.status, event.error) == ("ignored", reason)
    assert not Message.objects.exists()
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(
            {"chat": {"id": -100123, "type": "supergroup", "title": "Fans"}, "text": "hi"},
            "A message in a Telegram supergroup chat: only private chats with the bot are "
            "taken in.",
            id="group",
        ),
        pytest.param(
            {"from": {"id": 99, "is_bot": True, "first_name": "Bot"}, "text": "hi"},
            "A message from a Telegram bot.",
            id="bot",
        ),
        pytest.param(
            {"text": "/start"},
            "The customer opened the bot (/start); nothing to answer yet.",
            id="start",
        ),
        pytest.param(
            {"text": "/start order-1001"},
            "The customer opened the bot (/start); nothing to answer yet.",
            id="start with a deep link",
        ),
        pytest.param(
            {"sticker": {"file_id": "st1", "emoji": "👍"}},
            "A Telegram message with nothing we take in (sticker).",
            id="sticker",
        ),
        pytest.param(
            {"poll": {"id": "p1", "question": "?"}},
            "A Telegram message with nothing we take in (poll).",
            id="poll",
        ),
    ],
)
def test_messages_we_do_not_take_in_are_ignored_with_the_reason(
    telegram_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    content: dict[str, Any],
    reason: str,
) -> None:
    response = post_update(django_capture_on_commit_callbacks, message_update(**content))

    assert response.status_code == 200
    [event] = events()
    assert (event.status, event.error) == ("ignored", reason)
    assert not Message.objects.exists()


def test_a_start_command_with_words_after_it_is_a_message(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    post_update(django_capture_on_commit_callbacks, message_update(text="/start my parcel is lost"))

    assert Message.objects.get().text == "/start my parcel is lost"


def test_a_message_without_chat_fails_its_event_for_good(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    update = {"update_id": 77, "message": {"message_id": 1, "text": "hi"}}

    response = post_update(django_capture_on_commit_callbacks, update)

    assert response.status_code == 200
    [event] = events()
    assert (event.status, event.next_attempt_at) == ("failed", None)
    assert event.error == "The Telegram message has no chat id or message id."
    assert not Message.objects.exists()


def test_the_account_is_found_by_its_slug(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    other = ChannelAccount.objects.create(
        kind="telegram",
        name="Other bot",
        slug="other-bot",
        credentials={"bot_token": "1:other", "secret_token": "other-secret"},
    )

    response = post_update(
        django_capture_on_commit_callbacks,
        message_update(text="hi"),
        secret="other-secret",
        url="/webhooks/telegram/other-bot/",
    )

    assert response.status_code == 200
    assert [event.channel_account_id for event in events()] == [other.pk]
