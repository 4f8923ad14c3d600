"""Auto-acknowledgements: once per ticket and period, on the ticket's own channel, with a
business-hours-aware expectation, never to automated messages or refusing channels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from automation.macros.services import save_auto_acknowledgement, send_auto_acknowledgement
from automation.models import AutoAcknowledgement, AutoAcknowledgementSent, BusinessHours
from channels_inbox.models import ChannelAccount
from channels_inbox.services import reply_send_check
from channels_inbox.sms.models import OptOut
from helpdesk.events import MessageCreated, TicketCreated
from helpdesk.models import Team
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import InboundMessage, change_status, receive_message

pytestmark = pytest.mark.django_db

# Wednesday 26 November 2026, 10:00 in Berlin (09:00 UTC): open.
OPEN_MOMENT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
# Saturday 28 November 2026, 11:00 in Berlin: closed until Monday 09:00.
WEEKEND_MOMENT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture
def office_hours(db: None) -> BusinessHours:
    weekday = [["09:00", "17:00"]]
    return BusinessHours.objects.create(
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly_hours={
            day: weekday for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
        },
    )


@pytest.fixture
def acknowledgement(email_account: ChannelAccount, office_hours: BusinessHours) -> Any:
    return save_auto_acknowledgement(
        AutoAcknowledgement(
            channel_account=email_account,
            body="Hi {{ customer.first_name }}, we reply {{ expected_reply }}. "
            "Ticket {{ ticket.number }}.",
            business_hours=office_hours,
            expected_reply_minutes=120,
            period_hours=24,
        )
    )


@pytest.fixture
def write(django_capture_on_commit_callbacks: Any) -> Callable[..., Message]:
    """A customer message received on an account, with automation running after commit
    as it does in the embedded default."""

    def receive(account: ChannelAccount | None, **overrides: Any) -> Message:
        fields: dict[str, Any] = {
            "channel": account.kind if account else "email",
            "sender_address": "ana@example.com",
            "sender_name": "Ana Souza",
            "subject": "Where is my parcel?",
            "text": "Hello?",
            "starts_conversation": False,
        }
        fields.update(overrides)
        with django_capture_on_commit_callbacks(execute=True):
            return receive_message(InboundMessage(**fields), channel_account=account)

    return receive


def acknowledgements(ticket_id: int) -> list[Message]:
    return list(
        Message.objects.filter(ticket_id=ticket_id, direction="outbound", is_automated=True)
    )


@time_machine.travel(OPEN_MOMENT, tick=False)
def test_a_new_ticket_is_acknowledged_once_on_its_channel_in_hours(
    acknowledgement: AutoAcknowledgement, email_account: ChannelAccount, write: Callable
) -> None:
    """Given an email account with an acknowledgement, when Ana writes during business
    hours, she gets one email saying when to expect a reply; the ticket's status, assignee
    and response stamps stay as they were."""
    message = write(email_account)

    [ack] = acknowledgements(message.ticket_id)
    ticket = Ticket.objects.get(pk=message.ticket_id)
    assert ack.text == f"Hi Ana, we reply within 2 hours. Ticket {ticket.number}."
    assert ack.channel_account == email_account
    assert ack.author_agent is None
    assert (ticket.status, ticket.assignee, ticket.first_responded_at) == ("new", None, None)
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]
    assert "Hi Ana, we reply within 2 hours." in mail.outbox[0].body
    activity = TicketActivity.objects.get(ticket=ticket, verb=TicketActivity.Verb.AUTO_ACKNOWLEDGED)
    assert "reply expected within 2 hours" in activity.data["summary"]
    sent = AutoAcknowledgementSent.objects.get(ticket=ticket)
    assert (sent.trigger_message, sent.message) == (message, ack)


@time_machine.travel(WEEKEND_MOMENT, tick=False)
def test_out_of_hours_says_when_we_are_back(
    acknowledgement: AutoAcknowledgement, email_account: ChannelAccount, write: Callable
) -> None:
    message = write(email_account)

    [ack] = acknowledgements(message.ticket_id)
    assert ack.text.startswith("Hi Ana, we reply when we're back Monday at 9:00. ")


def test_expected_reply_without_business_hours_is_always_within(
    acknowledgement: AutoAcknowledgement, email_account: ChannelAccount, write: Callable
) -> None:
    acknowledgement.business_hours = None
    acknowledgement.expected_reply_minutes = 45
    save_auto_acknowledgement(acknowledgement)
    with time_machine.travel(WEEKEND_MOMENT, tick=False):
        message = write(email_account)

    assert acknowledgements(message.ticket_id)[0].text.startswith("Hi Ana, we reply within 45 ")


@time_machine.travel(OPEN_MOMENT, tick=False)
def test_not_twice_within_the_period_again_after_it(
    acknowledgement: AutoAcknowledgement, email_account: ChannelAccount, write: Callable
) -> None:
    first = write(email_account, provider_message_id="<m1@example.com>")
    with time_machine.travel(OPEN_MOMENT + timedelta(hours=23), tick=False):
        write(email_account, provider_message_id="<m2@example.com>")
    assert len(acknowledgements(first.ticket_id)) == 1

    with time_machine.travel(OPEN_MOMENT + timedelta(hours=24, minutes=1), tick=False):
        third = write(email_account, provider_message_id="<m3@example.com>")

    assert third.ticket_id == first.ticket_id
    assert len(acknowledgements(first.ticket_id)) == 2


@time_machine.travel(OPEN_MOMENT, tick=False)
def test_replayed_events_send_nothing_more(
    acknowledgement: AutoAcknowledgement, email_account: ChannelAccount, write: Callable
) -> None:
    """The ticket.created and message.created of the same message, handled again (a task
    retry), and even with the period over, acknowledge that message only once."""
    from automation.macros.handlers import handle_event

    message = write(email_account)
    acknowledgement.period_hours = 1
    save_auto_acknowledgement(acknowledgement)

    with time_machine.travel(OPEN_MOMENT + timedelta(hours=2), tick=False):
        handle_event(TicketCreated(ticket_id=message.ticket_id))
        handle_event(
            MessageCreated(ticket_id=message.ticket_id, message_id=message.pk, kind="customer")
        )

    assert len(acknowledgements(message.ticket_id)) == 1


@time_machine.travel(OPEN_MOMENT, tick=False)
def test_automated_messages_are_not_acknowledged(
    acknowledgement: AutoAcknowledgement, email_account: ChannelAccount, write: Callable
) -> None:
    """An out-of-office reply that opens a ticket (is_automated) gets nothing back."""
    message = write(email_account, is_automated=True, automated_reason="Auto-Submitted")

    assert message.is_automated
    assert acknowledgements(message.ticket_id) == []
    assert send_auto_acknowledgement(message.ticket_id, message_id=message.pk) is None
    assert mail.outbox == []


@time_machine.travel(OPEN_MOMENT, tick=False)
def test_disabled_or_missing_acknowledgement_sends_nothing(
    acknowledgement: AutoAcknowledgement, email_account: ChannelAccount, write: Callable
) -> None:
    acknowledgement.enabled = False
    save_auto_acknowledgement(acknowledgement)
    message = write(email_account)
    other = write(None, sender_address="ben@example.com", starts_conversation=True)

    assert acknowledgements(message.ticket_id) == []
    assert acknowledgements(other.ticket_id) == []


@time_machine.travel(OPEN_MOMENT, tick=False)
def test_a_closed_ticket_is_not_acknowledged(
    acknowledgement: AutoAcknowledgement, email_account: ChannelAccount, write: Callable
) -> None:
    acknowledgement.enabled = False
    save_auto_acknowledgement(acknowledgement)
    message = write(email_account)
    change_status(Ticket.objects.get(pk=message.ticket_id), "closed", actor=None)
    acknowledgement.enabled = True
    save_auto_acknowledgement(acknowledgement)

    assert send_auto_acknowledgement(message.ticket_id, message_id=message.pk) is None


def test_an_opted_out_sms_number_gets_nothing(support_team: Team, write: Callable) -> None:
    sms = ChannelAccount.objects.create(
        kind="sms", name="Shop SMS", slug="shop-sms", address="+14155550123"
    )
    save_auto_acknowledgement(AutoAcknowledgement(channel_account=sms))
    OptOut.objects.create(
        channel_account=sms, address="+14155550199", keyword="STOP", opted_out_at=OPEN_MOMENT
    )

    message = write(sms, sender_address="+14155550199", subject="")

    ticket = Ticket.objects.get(pk=message.ticket_id)
    assert "opted out" in reply_send_check(ticket).reason
    assert acknowledgements(message.ticket_id) == []
    assert not AutoAcknowledgementSent.objects.exists()


def test_a_closed_whatsapp_window_gets_nothing(
    whatsapp_account: ChannelAccount, write: Callable
) -> None:
    """A message that arrives (late) 25 hours after it was written: the 24-hour window is
    already closed, so WhatsApp would refuse free text."""
    save_auto_acknowledgement(AutoAcknowledgement(channel_account=whatsapp_account))
    written = datetime.now(tz=UTC) - timedelta(hours=25)

    message = write(
        whatsapp_account, sender_address="+14155550199", subject="", received_at=written
    )

    ticket = Ticket.objects.get(pk=message.ticket_id)
    assert "window closed" in reply_send_check(ticket).reason
    assert acknowledgements(message.ticket_id) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"body": "{{ customer.__class__.__mro__ }}"}, "body"),
        ({"body": "{% load static %}"}, "body"),
        ({"body": "  "}, "body"),
        ({"expected_reply_minutes": 0}, "expected_reply_minutes"),
        ({"period_hours": 0}, "period_hours"),
    ],
)
def test_bad_settings_are_refused(
    email_account: ChannelAccount, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        save_auto_acknowledgement(AutoAcknowledgement(channel_account=email_account, **fields))

    assert field in raised.value.message_dict
    assert not AutoAcknowledgement.objects.exists()


@pytest.mark.parametrize(
    "event",
    [
        MessageCreated(ticket_id=1, message_id=1, kind="reply"),
        MessageCreated(ticket_id=1, message_id=1, kind="note"),
    ],
)
def test_other_events_cost_no_query(event: Any, django_assert_num_queries: Any) -> None:
    from automation.macros.handlers import handle_event
    from helpdesk.events import TicketUpdated

    with django_assert_num_queries(0):
        handle_event(event)
        handle_event(TicketUpdated(ticket_id=1, fields=("status",)))
