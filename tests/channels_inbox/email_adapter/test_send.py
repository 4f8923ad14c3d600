"""Sending replies over a real SMTP connection to a local server."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from typing import Any

import pytest
from django.core import mail

from channels_inbox.adapters import get_adapter
from channels_inbox.adapters.base import ChannelError
from channels_inbox.email.adapter import EmailAdapter
from channels_inbox.email.outbound import outbound_message_id
from channels_inbox.email.tokens import read_bounce_address, read_reply_address
from channels_inbox.models import ChannelAccount
from tests.channels_inbox.email_adapter.conftest import Sink, free_port
from tests.channels_inbox.email_adapter.factories import email_account_row, outbound_message


def smtp_account(sink: Sink | None = None, **options: Any) -> ChannelAccount:
    credentials: dict[str, Any] = {"smtp_security": "none"}
    if sink is not None:
        credentials.update(smtp_host=sink.host, smtp_port=sink.port)
    credentials.update(options)
    return email_account_row(credentials=credentials)


def test_registry_gives_the_email_adapter() -> None:
    adapter = get_adapter("email")

    assert isinstance(adapter, EmailAdapter)
    assert adapter.kind == "email"


@pytest.mark.django_db
def test_reply_reaches_the_smtp_server_with_its_headers(smtp_sink: Sink) -> None:
    """The server gets one mail: VERP envelope sender, the customer as recipient, and the
    Message-ID that send() returns for storing."""
    account = smtp_account(smtp_sink)

    result = EmailAdapter().send(account, outbound_message())

    assert result.provider_message_id == outbound_message_id(account, 42)
    assert len(smtp_sink.received) == 1
    received = smtp_sink.received[0]
    assert received.rcpt_tos == ["ana@example.com"]
    assert read_bounce_address(received.mail_from, "support@acme.test") == 42
    email = BytesParser(policy=policy.default).parsebytes(received.content)
    assert email["Message-ID"] == f"<{result.provider_message_id}>"
    assert email["From"] == "Acme Support <support@acme.test>"
    assert email["To"] == "Ana Souza <ana@example.com>"
    assert email["Subject"] == "Re: Order #1001 arrived damaged [#1234]"
    assert email["In-Reply-To"] == "<CAF=xy12+ab@mail.gmail.com>"
    assert email["X-Loop"] == "support@acme.test"
    assert email["Auto-Submitted"] is None
    assert read_reply_address(str(email["Reply-To"]), "support@acme.test") == 1234


@pytest.mark.django_db
def test_retried_send_repeats_the_message_id(smtp_sink: Sink) -> None:
    account = smtp_account(smtp_sink)

    first = EmailAdapter().send(account, outbound_message())
    second = EmailAdapter().send(account, outbound_message())

    assert first == second
    ids = [
        BytesParser(policy=policy.default).parsebytes(item.content)["Message-ID"]
        for item in smtp_sink.received
    ]
    assert ids == [f"<{first.provider_message_id}>"] * 2


@pytest.mark.django_db
def test_verp_can_be_turned_off(smtp_sink: Sink) -> None:
    """Some hosted relays refuse an envelope sender other than the mailbox."""
    account = smtp_account(smtp_sink, verp=False)

    EmailAdapter().send(account, outbound_message())

    assert smtp_sink.received[0].mail_from == "support@acme.test"


@pytest.mark.django_db
def test_login_with_the_account_credentials(smtp_sink: Sink) -> None:
    account = smtp_account(smtp_sink, smtp_user="mailer", smtp_password="s3cret")

    EmailAdapter().send(account, outbound_message())

    assert smtp_sink.handler.logins == [("mailer", "s3cret")]
    assert len(smtp_sink.received) == 1


@pytest.mark.django_db
def test_wrong_password_is_permanent(smtp_sink: Sink) -> None:
    account = smtp_account(smtp_sink, smtp_user="mailer", smtp_password="wrong")

    with pytest.raises(ChannelError) as caught:
        EmailAdapter().send(account, outbound_message())

    assert caught.value.permanent is True
    assert str(caught.value).startswith(f"SMTP 127.0.0.1:{smtp_sink.port} answered 535")
    assert "wrong" not in str(caught.value)
    assert smtp_sink.received == []


@pytest.mark.django_db
def test_refused_recipient_550_is_permanent(smtp_sink: Sink) -> None:
    smtp_sink.handler.rcpt_reply = "550 5.1.1 <ana@example.com>: user unknown"
    account = smtp_account(smtp_sink)

    with pytest.raises(ChannelError) as caught:
        EmailAdapter().send(account, outbound_message())

    assert caught.value.permanent is True
    assert str(caught.value) == (
        f"SMTP 127.0.0.1:{smtp_sink.port} refused the recipient "
        "(ana@example.com: 550 5.1.1 <ana@example.com>: user unknown)."
    )


@pytest.mark.django_db
def test_greylisted_recipient_451_is_transient(smtp_sink: Sink) -> None:
    """Greylisting answers 451 at RCPT: the same mail a little later goes through."""
    smtp_sink.handler.rcpt_reply = "451 4.7.1 Greylisted, try again later"
    account = smtp_account(smtp_sink)

    with pytest.raises(ChannelError) as caught:
        EmailAdapter().send(account, outbound_message())

    assert caught.value.permanent is False
    assert "451 4.7.1 Greylisted" in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("554 5.6.0 Message rejected as spam", True), ("452 4.3.1 Insufficient storage", False)],
)
@pytest.mark.django_db
def test_rejection_after_data(smtp_sink: Sink, reply: str, permanent: bool) -> None:
    smtp_sink.handler.data_reply = reply
    account = smtp_account(smtp_sink)

    with pytest.raises(ChannelError) as caught:
        EmailAdapter().send(account, outbound_message())

    assert caught.value.permanent is permanent
    assert str(caught.value) == f"SMTP 127.0.0.1:{smtp_sink.port} answered {reply}"


@pytest.mark.django_db
def test_server_not_listening_is_transient() -> None:
    account = email_account_row(
        credentials={"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_security": "none"}
    )

    with pytest.raises(ChannelError) as caught:
        EmailAdapter().send(account, outbound_message())

    assert caught.value.permanent is False
    assert "could not be reached" in str(caught.value)


@pytest.mark.django_db
def test_starttls_required_but_not_offered_is_permanent(smtp_sink: Sink) -> None:
    """A configuration mistake: sending in clear instead would leak the password."""
    account = smtp_account(smtp_sink, smtp_security="starttls", smtp_user="mailer")

    with pytest.raises(ChannelError) as caught:
        EmailAdapter().send(account, outbound_message())

    assert caught.value.permanent is True
    assert "STARTTLS" in str(caught.value)
    assert smtp_sink.handler.logins == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"smtp_security": "ssl"}, "smtp_security must be starttls, tls or none"),
        ({"smtp_port": "twenty-five"}, "must be numbers"),
        ({"smtp_port": 70000}, "out of range"),
        ({"smtp_timeout": -1}, "out of range"),
    ],
)
@pytest.mark.django_db
def test_bad_smtp_settings_are_permanent(options: dict[str, Any], message: str) -> None:
    account = email_account_row(credentials={"smtp_host": "127.0.0.1", **options})

    with pytest.raises(ChannelError, match=message) as caught:
        EmailAdapter().send(account, outbound_message())

    assert caught.value.permanent is True


@pytest.mark.django_db
def test_unusable_customer_address_is_permanent(smtp_sink: Sink) -> None:
    account = smtp_account(smtp_sink)

    with pytest.raises(ChannelError, match="Not an email address") as caught:
        EmailAdapter().send(account, outbound_message(to_address="ana at example"))

    assert caught.value.permanent is True
    assert smtp_sink.received == []


@pytest.mark.django_db
def test_without_smtp_settings_the_site_mail_backend_sends(settings: Any) -> None:
    """No smtp_host and no EMAIL_URL: Django's backend (locmem in tests) gets our email."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    account = email_account_row()

    result = EmailAdapter().send(account, outbound_message())

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ana@example.com"]
    assert read_bounce_address(sent.from_email, "support@acme.test") == 42
    assert sent.message()["Message-ID"] == f"<{result.provider_message_id}>"
    assert sent.subject == "Re: Order #1001 arrived damaged [#1234]"


@pytest.mark.django_db
def test_without_account_smtp_settings_the_site_smtp_server_sends(
    settings: Any, smtp_sink: Sink
) -> None:
    """EMAIL_URL=smtp://... is used when the account names no server of its own."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_sink.host
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    account = email_account_row()

    result = EmailAdapter().send(account, outbound_message())

    assert len(smtp_sink.received) == 1
    email = BytesParser(policy=policy.default).parsebytes(smtp_sink.received[0].content)
    assert email["Message-ID"] == f"<{result.provider_message_id}>"
