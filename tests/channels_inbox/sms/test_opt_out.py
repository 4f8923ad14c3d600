"""STOP, START and HELP: recorded when Twilio posts them, honoured before any send."""

from __future__ import annotations

from typing import Any

import pytest

from channels_inbox.models import ChannelAccount, OptOut
from channels_inbox.sms.keywords import KeywordAction, keyword_of
from helpdesk.models import User
from tests.channels_inbox.sms.conftest import ANA, FakeTwilio, inbound_fields, post_form
from tickets.models import Message, Ticket
from tickets.services import TicketError, add_reply

pytestmark = pytest.mark.django_db

OTHER = "+14155550199"


def opt_outs() -> list[tuple[str, str]]:
    return list(OptOut.objects.order_by("pk").values_list("address", "keyword"))


def reply(ticket: Ticket, agent: User, capture: Any) -> Message:
    with capture(execute=True):
        message = add_reply(ticket, author=agent, text="Your refund is on its way.")
    message.refresh_from_db()
    return message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", (KeywordAction.OPT_OUT, "STOP")),
        ("stop", (KeywordAction.OPT_OUT, "STOP")),
        ("  Stop. ", (KeywordAction.OPT_OUT, "STOP")),
        ("STOPALL", (KeywordAction.OPT_OUT, "STOPALL")),
        ("Unsubscribe!", (KeywordAction.OPT_OUT, "UNSUBSCRIBE")),
        ("cancel", (KeywordAction.OPT_OUT, "CANCEL")),
        ("END", (KeywordAction.OPT_OUT, "END")),
        ("quit", (KeywordAction.OPT_OUT, "QUIT")),
        ("revoke", (KeywordAction.OPT_OUT, "REVOKE")),
        ("OPTOUT", (KeywordAction.OPT_OUT, "OPTOUT")),
        ("START", (KeywordAction.OPT_IN, "START")),
        ("yes", (KeywordAction.OPT_IN, "YES")),
        ("unstop", (KeywordAction.OPT_IN, "UNSTOP")),
        ("HELP", (KeywordAction.HELP, "HELP")),
        ("info", (KeywordAction.HELP, "INFO")),
        ("stop please", None),
        ("Please stop sending me these", None),
        ("STOP STOP", None),
        ("stopped", None),
        ("", None),
    ],
)
def test_keywords_are_the_whole_message_in_any_case(
    body: str, expected: tuple[KeywordAction, str] | None
) -> None:
    keyword = keyword_of(body)

    assert (None if keyword is None else (keyword.action, keyword.word)) == expected


def test_twilio_advanced_opt_out_type_wins_over_the_words() -> None:
    keyword = keyword_of("ARRET", "STOP")

    assert keyword is not None
    assert (keyword.action, keyword.word) == (KeywordAction.OPT_OUT, "ARRET")
    assert keyword_of("stop", "") is not None
    assert keyword_of("Bonjour", "SOMETHING") is None


def test_stop_records_the_opt_out_and_the_message_still_reaches_the_ticket(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    post_form(django_capture_on_commit_callbacks, inbound_fields("Stop"))

    assert opt_outs() == [(ANA, "STOP")]
    assert [message.text for message in Message.objects.all()] == ["Stop"]


def test_a_reply_to_an_opted_out_number_is_refused_when_submitted(
    sms_account: ChannelAccount,
    agent: User,
    twilio: FakeTwilio,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    post_form(capture, inbound_fields("My refund?"))
    post_form(capture, inbound_fields("UNSUBSCRIBE"))
    ticket = Ticket.objects.get()

    with pytest.raises(TicketError) as refused:
        reply(ticket, agent, capture)

    opted_out_at = OptOut.objects.get().opted_out_at
    assert str(refused.value) == (
        f"{ANA} opted out of messages from this number: they sent UNSUBSCRIBE on "
        f"{opted_out_at:%Y-%m-%d %H:%M} UTC. Nothing is sent until they send START."
    )
    assert not Message.objects.filter(direction="outbound").exists()
    assert twilio.sends == []


def test_a_reply_queued_before_the_opt_out_arrived_fails_before_any_request(
    sms_account: ChannelAccount,
    agent: User,
    twilio: FakeTwilio,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    post_form(capture, inbound_fields("My refund?"))
    ticket = Ticket.objects.get()
    with capture() as queued:
        message = add_reply(ticket, author=agent, text="Your refund is on its way.")
    post_form(capture, inbound_fields("UNSUBSCRIBE"))

    with capture(execute=True):
        for callback in queued:
            callback()

    message.refresh_from_db()
    assert message.delivery_status == "failed"
    opted_out_at = OptOut.objects.get().opted_out_at
    assert message.delivery_error == (
        f"{ANA} opted out of messages from this number: they sent UNSUBSCRIBE on "
        f"{opted_out_at:%Y-%m-%d %H:%M} UTC. Nothing is sent until they send START."
    )
    assert twilio.sends == []


def test_start_opts_back_in_and_replies_go_out_again(
    sms_account: ChannelAccount,
    agent: User,
    twilio: FakeTwilio,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    post_form(capture, inbound_fields("STOP"))
    post_form(capture, inbound_fields("start"))
    ticket = Ticket.objects.get()

    message = reply(ticket, agent, capture)

    assert opt_outs() == []
    assert message.delivery_status == "sent"
    assert len(twilio.sends) == 1


@pytest.mark.parametrize("body", ["HELP", "yes", "Stop sending the wrong size!"])
def test_other_messages_change_nothing(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any, body: str
) -> None:
    post_form(django_capture_on_commit_callbacks, inbound_fields(body))

    assert opt_outs() == []
    assert Message.objects.get().text == body


def test_an_opt_out_is_per_account(
    sms_account: ChannelAccount,
    agent: User,
    twilio: FakeTwilio,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A STOP to one of the shop's numbers does not silence its other number."""
    capture = django_capture_on_commit_callbacks
    other = ChannelAccount.objects.create(
        kind="sms",
        name="Returns line",
        slug="returns-sms",
        address=OTHER,
        credentials=dict(sms_account.credentials),
    )
    post_form(capture, inbound_fields("STOP"))
    post_form(
        capture, inbound_fields("About my return", To=OTHER), path="/webhooks/sms/returns-sms/"
    )
    returns_ticket = Ticket.objects.get(channel_account=other)

    message = reply(returns_ticket, agent, capture)

    assert message.delivery_status == "sent"
    assert [call.form["From"] for call in twilio.sends] == [[OTHER]]


def test_twilios_opt_out_type_is_honoured_for_the_accounts_own_keywords(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    post_form(django_capture_on_commit_callbacks, inbound_fields("ARRET", OptOutType="STOP"))

    assert opt_outs() == [(ANA, "ARRET")]


def test_a_redelivered_stop_after_start_does_not_opt_out_again(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """Only the first delivery of a post records its keyword."""
    capture = django_capture_on_commit_callbacks
    stop = inbound_fields("STOP")
    post_form(capture, stop)
    post_form(capture, inbound_fields("START"))

    post_form(capture, stop)

    assert opt_outs() == []


@pytest.mark.parametrize("sender", ["whatsapp:+17185550123", "12345"])
def test_a_stop_from_what_is_not_a_phone_number_records_nothing(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any, sender: str
) -> None:
    response = post_form(django_capture_on_commit_callbacks, inbound_fields("STOP", From=sender))

    assert response.status_code == 200
    assert opt_outs() == []


def test_a_forged_stop_records_nothing(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    response = post_form(
        django_capture_on_commit_callbacks, inbound_fields("STOP"), signature="forged"
    )

    assert response.status_code == 403
    assert opt_outs() == []
