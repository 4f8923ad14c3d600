"""The email channel reads its settings from the account's options, falls back to the
credentials for accounts set up before options existed, and reads secrets from the
credentials only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from channels_inbox.adapters.base import ParseResult
from channels_inbox.email.adapter import EmailAdapter
from channels_inbox.email.imap import ImapSettings, imap_accounts, imap_settings
from channels_inbox.email.webhooks import configured_account
from channels_inbox.models import InboundEvent
from channels_inbox.services import reset_inbound_events
from channels_inbox.tasks import process_inbound_event_task
from customers.models import Customer
from tests.channels_inbox.email_adapter.conftest import Sink
from tests.channels_inbox.email_adapter.factories import email_account_row, outbound_message
from tests.channels_inbox.email_adapter.test_full_loop import deliver
from tests.channels_inbox.email_adapter.test_parse import mail, only_message, parse
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def test_the_subject_window_option_wins_over_the_credential() -> None:
    account = email_account_row(
        options={"subject_window_days": 3}, credentials={"subject_window_days": "14"}
    )

    assert only_message(parse(account, mail())).subject_window == timedelta(days=3)


def test_a_subject_window_left_in_the_credentials_still_counts() -> None:
    account = email_account_row(credentials={"subject_window_days": "14"})

    assert only_message(parse(account, mail())).subject_window == timedelta(days=14)


def test_the_rate_limit_option_wins_over_the_credential() -> None:
    account = email_account_row(
        options={"sender_rate_limit": 1}, credentials={"sender_rate_limit": "0"}
    )

    only_message(parse(account, mail(message_id="<a1@example.com>")))
    result = parse(account, mail(message_id="<a2@example.com>"))

    assert result == ParseResult(
        ignored_reason="rate limit: ana@example.com sent 2 messages in 10 minutes"
    )


def smtp_options(sink: Sink, **options: Any) -> dict[str, Any]:
    return {"smtp_host": sink.host, "smtp_port": sink.port, "smtp_security": "none", **options}


def test_the_verp_option_wins_over_the_credential(smtp_sink: Sink) -> None:
    account = email_account_row(
        options=smtp_options(smtp_sink, verp=False), credentials={"verp": "true"}
    )

    EmailAdapter().send(account, outbound_message())

    assert smtp_sink.received[0].mail_from == "support@acme.test"


def test_verp_stays_on_without_the_option(smtp_sink: Sink) -> None:
    account = email_account_row(options=smtp_options(smtp_sink))

    EmailAdapter().send(account, outbound_message())

    assert smtp_sink.received[0].mail_from.startswith("support+bounce-m42-")


def test_the_smtp_server_comes_from_the_options_and_the_password_from_the_credentials(
    smtp_sink: Sink,
) -> None:
    account = email_account_row(
        options=smtp_options(smtp_sink, smtp_user="mailer"),
        credentials={"smtp_host": "old-relay.invalid", "smtp_password": "s3cret"},
    )

    EmailAdapter().send(account, outbound_message())

    assert smtp_sink.handler.logins == [("mailer", "s3cret")]
    assert len(smtp_sink.received) == 1


def test_a_password_among_the_options_is_not_used(smtp_sink: Sink) -> None:
    """Secrets are read from the credentials only (the services refuse one in options;
    this row is written around them)."""
    account = email_account_row(options=smtp_options(smtp_sink, smtp_password="s3cret"))

    EmailAdapter().send(account, outbound_message())

    assert smtp_sink.handler.logins == []


# --- IMAP and inbound webhooks -----------------------------------------------------------


def test_imap_settings_come_from_the_options() -> None:
    account = email_account_row(
        options={"imap_host": "imap.acme.test", "imap_ssl": False, "imap_mailbox": "Support"},
        credentials={"imap_host": "old.acme.test", "imap_password": "imap-secret"},
    )

    assert imap_settings(account) == ImapSettings(
        host="imap.acme.test",
        port=143,
        ssl=False,
        user="support@acme.test",
        password="imap-secret",
        oauth2_token="",
        mailbox="Support",
    )


def test_imap_settings_left_in_the_credentials_still_count() -> None:
    account = email_account_row(
        credentials={"imap_host": "imap.acme.test", "imap_port": "1993", "imap_password": "pw"}
    )

    settings = imap_settings(account)

    assert settings is not None
    assert (settings.host, settings.port, settings.ssl) == ("imap.acme.test", 1993, True)


def test_accounts_with_imap_in_options_or_credentials_are_polled() -> None:
    by_options = email_account_row(slug="a", address="a@acme.test", options={"imap_host": "i"})
    by_credentials = email_account_row(
        slug="b", address="b@acme.test", credentials={"imap_host": "i"}
    )
    email_account_row(slug="c", address="c@acme.test")

    assert list(imap_accounts()) == [by_options, by_credentials]


def test_the_inbound_provider_option_wins_over_the_credential() -> None:
    account = email_account_row(
        options={"inbound_provider": "postmark"}, credentials={"inbound_provider": "mailgun"}
    )

    assert configured_account(account.slug, "postmark") == account
    assert configured_account(account.slug, "mailgun") is None


# --- Automated mail that belongs to no ticket ----------------------------------------------


def out_of_office() -> bytes:
    """An out-of-office answer from somebody we never wrote to."""
    return mail(
        message_id="<ooo-zed@example.org>",
        sender="Zed Stone <zed@example.org>",
        subject="Out of office: back on Monday",
        headers={"Auto-Submitted": "auto-replied"},
        body="I am away until Monday.",
    )


def test_an_automated_mail_matching_no_ticket_is_dropped_by_default(
    support_team: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account = email_account_row(default_team=support_team)

    event = deliver(
        django_capture_on_commit_callbacks,
        account,
        out_of_office(),
        "ooo",
        mail_from="zed@example.org",
    )

    assert event.status == InboundEvent.Status.PROCESSED
    assert (Ticket.objects.count(), Message.objects.count(), Customer.objects.count()) == (0, 0, 0)


def test_the_option_lets_an_automated_mail_open_a_ticket_nobody_answers(
    smtp_sink: Sink, support_team: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account = email_account_row(
        default_team=support_team,
        options={**smtp_options(smtp_sink), "automated_mail_opens_tickets": True},
    )

    event = deliver(
        django_capture_on_commit_callbacks,
        account,
        out_of_office(),
        "ooo",
        mail_from="zed@example.org",
    )

    assert event.status == InboundEvent.Status.PROCESSED
    ticket = Ticket.objects.get()
    assert ticket.subject == "Out of office: back on Monday"
    message = ticket.messages.get()
    assert (
        message.direction,
        message.is_automated,
        message.threading_reason,
        message.text,
    ) == (
        Message.Direction.INBOUND,
        True,
        Message.ThreadingReason.NEW_CONVERSATION,
        "I am away until Monday.",
    )
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()
    assert smtp_sink.received == []


def test_with_the_option_an_automated_mail_on_a_ticket_is_recorded_once(
    support_team: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The option only adds a ticket where there was none: an auto-reply that belongs to
    a ticket stays on it, and a repeated delivery adds nothing."""
    account = email_account_row(
        default_team=support_team, options={"automated_mail_opens_tickets": True}
    )
    capture = django_capture_on_commit_callbacks
    deliver(capture, account, mail(), "first")
    ticket = Ticket.objects.get()
    reply = mail(
        message_id="<ooo-ana@example.com>",
        subject="Automatic reply: Order #1001 arrived damaged",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": "<CAF=first01@mail.gmail.com>"},
        body="I am away.",
    )

    event = deliver(capture, account, reply, "ooo")
    reset_inbound_events([event.pk])
    process_inbound_event_task(event.pk)

    assert Ticket.objects.count() == 1
    assert list(ticket.messages.order_by("id").values_list("is_automated", "threading_reason")) == [
        (False, Message.ThreadingReason.NEW_CONVERSATION),
        (True, Message.ThreadingReason.REFERENCES),
    ]
