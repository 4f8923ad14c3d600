"""Agent replies to Telegram customers through the real delivery task and the fake Bot API:
the calls made, the ids kept, and what each kind of failure does to the message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from channels_inbox.tasks import deliver_message_task
from channels_inbox.telegram import api
from helpdesk.models import User
from tests.channels_inbox.telegram.conftest import (
    LENA,
    FakeTelegram,
    message_update,
    post_update,
    telegram_error,
)
from tickets.models import Message, Ticket
from tickets.services import OutboundAttachment, add_reply, open_ticket

pytestmark = pytest.mark.django_db

LABEL = OutboundAttachment("label.pdf", "application/pdf", b"%PDF-1.7 return label")
PHOTO = OutboundAttachment("mug.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 replacement mug")


@pytest.fixture
def lena_ticket(
    telegram_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> Ticket:
    post_update(django_capture_on_commit_callbacks, message_update(text="Where is my parcel?"))
    return Ticket.objects.get()


def reply(ticket: Ticket, agent: User, capture: Any, text: str, **options: Any) -> Message:
    with capture(execute=True):
        message = add_reply(ticket, author=agent, text=text, **options)
    message.refresh_from_db()
    return message


def retry_now(message: Message) -> str:
    """Let the backoff pass and run the delivery task, as the sweep would."""
    Message.objects.filter(pk=message.pk).update(
        next_delivery_at=timezone.now() - timedelta(seconds=1)
    )
    return str(deliver_message_task(message.pk))


def test_a_text_reply_goes_out_with_send_message(
    lena_ticket: Ticket,
    agent: User,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    message = reply(lena_ticket, agent, django_capture_on_commit_callbacks, "It ships today.")

    [call] = telegram.called("sendMessage")
    assert call.params == {"chat_id": LENA, "text": "It ships today."}
    assert (message.delivery_status, message.provider_message_id) == ("sent", f"{LENA}:9001")


def test_a_customer_reply_to_our_message_threads_by_its_id(
    lena_ticket: Ticket,
    agent: User,
    telegram_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Quoting our message beats the newer conversation the customer also has open."""
    reply(lena_ticket, agent, django_capture_on_commit_callbacks, "Which size did you order?")
    newer = open_ticket(
        customer=lena_ticket.customer, channel="telegram", channel_account=telegram_account
    )
    quoted = {"message_id": 9001, "date": 1, "chat": {"id": LENA, "type": "private"}}

    post_update(
        django_capture_on_commit_callbacks,
        message_update(text="Size M", reply_to_message=quoted),
    )
    post_update(django_capture_on_commit_callbacks, message_update(text="Another thing"))

    answer = Message.objects.get(text="Size M")
    assert (answer.ticket_id, answer.threading_reason) == (lena_ticket.pk, "references")
    assert Message.objects.get(text="Another thing").ticket_id == newer.pk


def test_a_reply_with_a_photo_sends_the_text_as_its_caption(
    lena_ticket: Ticket,
    agent: User,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    message = reply(
        lena_ticket,
        agent,
        django_capture_on_commit_callbacks,
        "Here is the replacement.",
        attachments=[PHOTO],
    )

    assert [call.method for call in telegram.calls if call.method.startswith("send")] == [
        "sendPhoto"
    ]
    [call] = telegram.called("sendPhoto")
    assert call.params == {"chat_id": str(LENA), "caption": "Here is the replacement."}
    assert call.files == {"photo": ("mug.jpg", "image/jpeg", PHOTO.content)}
    assert message.delivery_status == "sent"


def test_a_long_text_goes_first_and_each_file_after_it(
    lena_ticket: Ticket,
    agent: User,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    text = "Step by step: " + "x" * 1100

    message = reply(
        lena_ticket, agent, django_capture_on_commit_callbacks, text, attachments=[LABEL, PHOTO]
    )

    sends = [call for call in telegram.calls if call.method.startswith("send")]
    assert [call.method for call in sends] == ["sendMessage", "sendDocument", "sendPhoto"]
    assert sends[0].params["text"] == text
    assert sends[1].files == {"document": ("label.pdf", "application/pdf", LABEL.content)}
    assert "caption" not in sends[1].params
    assert message.provider_message_id == f"{LENA}:9001"


def test_rate_limit_then_server_error_then_success_sends_exactly_once(
    lena_ticket: Ticket,
    agent: User,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    telegram.answer(
        "sendMessage",
        429,
        telegram_error(429, "Too Many Requests: retry after 35", retry_after=35),
    )
    telegram.answer("sendMessage", 500, telegram_error(500, "Internal Server Error"))
    before = timezone.now()

    message = reply(lena_ticket, agent, django_capture_on_commit_callbacks, "On its way.")

    assert (message.delivery_status, message.delivery_attempts) == ("queued", 1)
    assert message.delivery_error == (
        "Telegram rate limit on sendMessage: Too Many Requests: retry after 35"
    )
    assert message.next_delivery_at is not None
    assert message.next_delivery_at >= before + timedelta(seconds=35)

    assert retry_now(message) == "queued"
    message.refresh_from_db()
    assert message.delivery_error == (
        "Telegram server error on sendMessage (500): Internal Server Error"
    )

    assert retry_now(message) == "sent"
    message.refresh_from_db()
    assert (message.delivery_status, message.delivery_attempts) == ("sent", 3)
    assert (message.delivery_error, message.next_delivery_at) == ("", None)
    statuses = [call.status for call in telegram.called("sendMessage")]
    assert statuses == [429, 500, 200]
    assert message.provider_message_id == f"{LENA}:9001"
    assert retry_now(message) == "skipped"
    assert len(telegram.called("sendMessage")) == 3


def test_a_timeout_is_retried(
    lena_ticket: Ticket,
    agent: User,
    telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(api, "CALL_TIMEOUT_SECONDS", 0.3)
    telegram.answer("sendMessage", 200, {"ok": True, "result": {"message_id": 1}}, delay=1.0)

    message = reply(lena_ticket, agent, django_capture_on_commit_callbacks, "On its way.")

    assert message.delivery_status == "queued"
    assert message.delivery_error == "Telegram did not answer in time (127.0.0.1)."


@pytest.mark.parametrize(
    ("status", "description", "error"),
    [
        pytest.param(
            400,
            "Bad Request: chat not found",
            "Telegram refused sendMessage (400): Bad Request: chat not found",
            id="chat not found",
        ),
        pytest.param(
            403,
            "Forbidden: bot was blocked by the user",
            "Telegram refused sendMessage (403): Forbidden: bot was blocked by the user",
            id="blocked",
        ),
    ],
)
def test_a_refusal_fails_the_message_with_telegrams_description(
    lena_ticket: Ticket,
    agent: User,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
    status: int,
    description: str,
    error: str,
) -> None:
    telegram.answer("sendMessage", status, telegram_error(status, description))

    message = reply(lena_ticket, agent, django_capture_on_commit_callbacks, "Hello?")

    assert (message.delivery_status, message.delivery_error) == ("failed", error)
    assert message.next_delivery_at is None
    assert retry_now(message) == "skipped"
    assert len(telegram.called("sendMessage")) == 1


def test_a_failure_after_part_of_the_message_went_out_is_not_retried(
    lena_ticket: Ticket,
    agent: User,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Sending again would repeat the text the customer already has."""
    telegram.answer("sendDocument", 502, b"<html>Bad Gateway</html>")

    message = reply(
        lena_ticket,
        agent,
        django_capture_on_commit_callbacks,
        "x" * 1100,
        attachments=[LABEL],
    )

    assert message.delivery_status == "failed"
    assert message.delivery_error == (
        "Sent the text to Telegram, then: Telegram server error on sendDocument (502): "
        "no description. Not sent: label.pdf. Sending again would repeat what went out."
    )
    assert len(telegram.called("sendMessage")) == 1


def test_text_longer_than_telegram_takes_is_refused_before_any_request(
    lena_ticket: Ticket,
    agent: User,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    message = reply(lena_ticket, agent, django_capture_on_commit_callbacks, "y" * 4097)

    assert message.delivery_status == "failed"
    assert message.delivery_error == (
        "The message has 4097 characters; Telegram takes at most 4096."
    )
    assert [call.method for call in telegram.calls if call.method.startswith("send")] == []


def test_the_bot_token_never_appears_in_an_error(
    lena_ticket: Ticket,
    agent: User,
    telegram_account: ChannelAccount,
    telegram: FakeTelegram,
    django_capture_on_commit_callbacks: Any,
) -> None:
    credentials = dict(telegram_account.credentials, bot_token="123:revoked-token")
    ChannelAccount.objects.filter(pk=telegram_account.pk).update(credentials=credentials)

    message = reply(lena_ticket, agent, django_capture_on_commit_callbacks, "Hello?")

    assert message.delivery_status == "failed"
    assert message.delivery_error == (
        "Telegram refused sendMessage (401): Unauthorized; check the account's bot_token"
    )
    assert "revoked-token" not in message.delivery_error
