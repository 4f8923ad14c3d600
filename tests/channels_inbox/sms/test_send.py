"""Agent replies by SMS through the real delivery task and the fake Twilio API, and the
status callbacks that follow them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from channels_inbox.tasks import deliver_message_task
from helpdesk.models import User
from tests.channels_inbox.sms.conftest import (
    ACCOUNT_SID,
    ANA,
    AUTH_TOKEN,
    PUBLIC,
    SHOP_NUMBER,
    SLUG,
    STATUS_PATH,
    FakeTwilio,
    events,
    inbound_fields,
    post_form,
    status_fields,
)
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import OutboundAttachment, add_reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana_ticket(sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any) -> Ticket:
    post_form(django_capture_on_commit_callbacks, inbound_fields("Where is my parcel?"))
    return Ticket.objects.get()


def reply(
    ticket: Ticket, agent: User, capture: Any, text: str = "It ships today.", **options: Any
) -> Message:
    with capture(execute=True):
        message = add_reply(ticket, author=agent, text=text, **options)
    message.refresh_from_db()
    return message


def retry_now(message: Message) -> str:
    Message.objects.filter(pk=message.pk).update(
        next_delivery_at=timezone.now() - timedelta(seconds=1)
    )
    return str(deliver_message_task(message.pk))


def test_a_reply_goes_to_the_messages_api_with_basic_auth_and_a_status_callback(
    ana_ticket: Ticket, agent: User, twilio: FakeTwilio, django_capture_on_commit_callbacks: Any
) -> None:
    message = reply(ana_ticket, agent, django_capture_on_commit_callbacks)

    [call] = twilio.sends
    assert call.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert call.form == {
        "To": [ANA],
        "Body": ["It ships today."],
        "StatusCallback": [f"{PUBLIC}/webhooks/sms/{SLUG}/status/"],
        "From": [SHOP_NUMBER],
    }
    assert call.status == 201
    assert message.delivery_status == "sent"
    assert message.provider_message_id.startswith("SM")
    assert len(message.provider_message_id) == 34


def test_a_messaging_service_sends_when_the_account_names_one(
    ana_ticket: Ticket,
    agent: User,
    sms_account: ChannelAccount,
    twilio: FakeTwilio,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ChannelAccount.objects.filter(pk=sms_account.pk).update(
        options={"messaging_service_sid": "MG0123456789abcdef0123456789abcdef"}
    )

    reply(ana_ticket, agent, django_capture_on_commit_callbacks)

    [call] = twilio.sends
    assert call.form["MessagingServiceSid"] == ["MG0123456789abcdef0123456789abcdef"]
    assert "From" not in call.form


def test_status_callbacks_move_the_reply_forward_only(
    ana_ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    message = reply(ana_ticket, agent, capture)
    sid = message.provider_message_id

    post_form(
        capture, status_fields(sid, "delivered", RawDlrDoneDate="2601011201"), path=STATUS_PATH
    )
    message.refresh_from_db()
    assert message.delivery_status == "delivered"

    post_form(capture, status_fields(sid, "sent"), path=STATUS_PATH)  # late and out of order
    message.refresh_from_db()
    assert message.delivery_status == "delivered"
    assert [event.status for event in events()[1:]] == ["processed", "processed"]


@pytest.mark.parametrize(
    ("status", "extra", "error"),
    [
        pytest.param(
            "undelivered",
            {"ErrorCode": "30003"},
            "Twilio reports the message undelivered: The handset is unreachable "
            "(Twilio error 30003)",
            id="undelivered",
        ),
        pytest.param(
            "failed",
            {"ErrorCode": "30007", "ErrorMessage": "Message filtered"},
            "Twilio reports the message failed: The carrier filtered the message "
            "(Twilio error 30007: Message filtered)",
            id="failed",
        ),
        pytest.param(
            "failed",
            {"ErrorCode": "39999"},
            "Twilio reports the message failed: Twilio error 39999",
            id="unknown code",
        ),
        pytest.param("canceled", {}, "Twilio reports the message canceled.", id="canceled"),
    ],
)
def test_a_failure_callback_fails_the_reply_with_the_reason_on_the_ticket(
    ana_ticket: Ticket,
    agent: User,
    django_capture_on_commit_callbacks: Any,
    status: str,
    extra: dict[str, str],
    error: str,
) -> None:
    capture = django_capture_on_commit_callbacks
    message = reply(ana_ticket, agent, capture)

    post_form(
        capture, status_fields(message.provider_message_id, status, **extra), path=STATUS_PATH
    )

    message.refresh_from_db()
    assert (message.delivery_status, message.delivery_error) == ("failed", error)
    activity = TicketActivity.objects.get(
        ticket=ana_ticket, verb=TicketActivity.Verb.DELIVERY_FAILED
    )
    assert activity.data == {"message_id": message.pk, "error": error}


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("queued", "Twilio status queued: nothing the message does not show."),
        ("sending", "Twilio status sending: nothing the message does not show."),
        ("accepted", "Twilio status accepted: nothing the message does not show."),
        ("partially_delivered", "Unknown Twilio status 'partially_delivered'."),
    ],
)
def test_statuses_that_say_nothing_new_are_ignored_with_the_reason(
    ana_ticket: Ticket,
    agent: User,
    django_capture_on_commit_callbacks: Any,
    status: str,
    reason: str,
) -> None:
    capture = django_capture_on_commit_callbacks
    message = reply(ana_ticket, agent, capture)

    post_form(capture, status_fields(message.provider_message_id, status), path=STATUS_PATH)

    event = events()[-1]
    assert (event.status, event.error) == ("ignored", reason)
    message.refresh_from_db()
    assert message.delivery_status == "sent"


def test_rate_limit_then_server_error_then_success_sends_exactly_once(
    ana_ticket: Ticket, agent: User, twilio: FakeTwilio, django_capture_on_commit_callbacks: Any
) -> None:
    twilio.answer(
        429,
        {
            "code": 20429,
            "message": "Too Many Requests",
            "more_info": "https://www.twilio.com/docs/errors/20429",
            "status": 429,
        },
        **{"Retry-After": "90"},
    )
    twilio.answer(503, {"code": 20500, "message": "Internal Server Error", "status": 503})
    before = timezone.now()

    message = reply(ana_ticket, agent, django_capture_on_commit_callbacks)

    assert (message.delivery_status, message.delivery_attempts) == ("queued", 1)
    assert (
        message.delivery_error
        == "Twilio rate limit on the message: Twilio error 20429: Too Many Requests"
    )
    assert message.next_delivery_at is not None
    assert message.next_delivery_at >= before + timedelta(seconds=90)

    assert retry_now(message) == "queued"
    message.refresh_from_db()
    assert message.delivery_error == (
        "Twilio server error on the message (503): Twilio error 20500: Internal Server Error"
    )

    assert retry_now(message) == "sent"
    message.refresh_from_db()
    assert (message.delivery_status, message.delivery_attempts, message.delivery_error) == (
        "sent",
        3,
        "",
    )
    assert [call.status for call in twilio.sends] == [429, 503, 201]
    assert retry_now(message) == "skipped"
    assert len(twilio.sends) == 3


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param(
            {"code": 21211, "message": "Invalid 'To' Phone Number: +1718555012", "status": 400},
            "Twilio refused the message (400): The number is not a valid phone number "
            "(Twilio error 21211: Invalid 'To' Phone Number: +1718555012)",
            id="invalid recipient",
        ),
        pytest.param(
            {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
            "Twilio refused the message (400): The recipient has opted out of messages from "
            "this number (replied STOP) (Twilio error 21610: Attempt to send to unsubscribed "
            "recipient)",
            id="unsubscribed",
        ),
    ],
)
def test_a_refusal_fails_the_reply_with_the_reason(
    ana_ticket: Ticket,
    agent: User,
    twilio: FakeTwilio,
    django_capture_on_commit_callbacks: Any,
    answer: dict[str, Any],
    error: str,
) -> None:
    twilio.answer(400, answer)

    message = reply(ana_ticket, agent, django_capture_on_commit_callbacks)

    assert (message.delivery_status, message.delivery_error) == ("failed", error)
    assert retry_now(message) == "skipped"
    assert len(twilio.sends) == 1


def test_wrong_credentials_fail_the_reply_without_showing_them(
    ana_ticket: Ticket,
    agent: User,
    sms_account: ChannelAccount,
    twilio: FakeTwilio,
    django_capture_on_commit_callbacks: Any,
) -> None:
    credentials = {"account_sid": ACCOUNT_SID, "auth_token": "rotated-away"}
    ChannelAccount.objects.filter(pk=sms_account.pk).update(credentials=credentials)

    message = reply(ana_ticket, agent, django_capture_on_commit_callbacks)

    assert message.delivery_status == "failed"
    assert message.delivery_error == (
        "Twilio refused the message (401): Twilio refused the account_sid and auth_token "
        "credentials (Twilio error 20003: Authenticate)"
    )
    assert AUTH_TOKEN not in message.delivery_error


@pytest.mark.parametrize(
    ("text", "attachments", "error"),
    [
        pytest.param(
            "z" * 1601,
            [],
            "The message has 1601 characters; an SMS takes at most 1600.",
            id="too long",
        ),
        pytest.param(
            "See the label",
            [OutboundAttachment("label.pdf", "application/pdf", b"%PDF")],
            "SMS replies cannot carry files (label.pdf); send the text alone.",
            id="attachment",
        ),
    ],
)
def test_what_an_sms_cannot_carry_is_refused_before_any_request(
    ana_ticket: Ticket,
    agent: User,
    twilio: FakeTwilio,
    django_capture_on_commit_callbacks: Any,
    text: str,
    attachments: list[OutboundAttachment],
    error: str,
) -> None:
    message = reply(
        ana_ticket, agent, django_capture_on_commit_callbacks, text, attachments=attachments
    )

    assert (message.delivery_status, message.delivery_error) == ("failed", error)
    assert twilio.sends == []
