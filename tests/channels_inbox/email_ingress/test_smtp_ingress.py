"""The SMTP/LMTP ingress, started on a free port and spoken to with smtplib over real sockets."""

from __future__ import annotations

import hashlib
import smtplib
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from channels_inbox.email.ingress import (
    IngressController,
    email_external_id,
    normalize_message_id,
    recipient_candidates,
)
from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import Team

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGE = (
    b"From: Ana Souza <ana@example.com>\r\n"
    b"To: support@shop.test\r\n"
    b"Subject: Where is my order?\r\n"
    b"Message-ID: <order-42@Example.COM>\r\n"
    b"\r\n"
    b"Hello, my order 42 has not arrived.\r\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def start_ingress() -> Iterator[Callable[..., IngressController]]:
    controllers: list[IngressController] = []

    def start(**options: Any) -> IngressController:
        controller = IngressController(
            host="127.0.0.1", port=free_port(), server_name="mx.shop.test", **options
        )
        controller.start()
        controllers.append(controller)
        return controller

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def ingress(start_ingress: Callable[..., IngressController]) -> IngressController:
    return start_ingress()


@pytest.fixture
def sales_account(support_team: Team) -> ChannelAccount:
    return ChannelAccount.objects.create(
        kind="email", name="Sales", slug="sales-mail", address="sales@shop.test"
    )


def connect(controller: IngressController) -> smtplib.SMTP:
    if controller.lmtp:
        return smtplib.LMTP(controller.hostname, controller.port)
    return smtplib.SMTP(controller.hostname, controller.port, timeout=10)


def digest_key(raw: bytes, recipient: str) -> str:
    """The key of a message without Message-ID: its digest with CRLF read as LF."""
    digest = hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()
    return f"sha256:{digest}:{recipient}"


def message(message_id: str | None, body: bytes = b"Hello.\r\n") -> bytes:
    header = f"Message-ID: <{message_id}>\r\n".encode() if message_id else b""
    return (
        b"From: ana@example.com\r\nTo: support@shop.test\r\nSubject: Hi\r\n"
        + header
        + (b"\r\n" + body)
    )


def test_mail_for_an_account_is_stored_with_its_envelope(
    ingress: IngressController, email_account: ChannelAccount
) -> None:
    """A message for the account's address is stored raw, keyed by Message-ID and recipient."""
    with connect(ingress) as client:
        refused = client.sendmail("ana@example.com", ["support@shop.test"], MESSAGE)

    assert refused == {}
    event = InboundEvent.objects.get()
    assert event.channel_account == email_account
    assert event.external_id == "order-42@example.com:support@shop.test"
    assert bytes(event.payload) == MESSAGE
    assert event.headers["transport"] == "smtp"
    assert event.headers["mail_from"] == "ana@example.com"
    assert event.headers["rcpt_tos"] == "support@shop.test"
    assert event.headers["peer"].startswith("127.0.0.1:")
    assert event.headers["helo"] != ""


def test_recipient_matching_ignores_case(
    ingress: IngressController, email_account: ChannelAccount
) -> None:
    with connect(ingress) as client:
        client.sendmail("ana@example.com", ["Support@SHOP.test"], MESSAGE)

    event = InboundEvent.objects.get()
    assert event.external_id == "order-42@example.com:support@shop.test"
    assert event.headers["rcpt_tos"] == "Support@SHOP.test"


def test_unknown_recipient_is_refused_at_rcpt(
    ingress: IngressController, email_account: ChannelAccount
) -> None:
    with connect(ingress) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail("ana@example.com", ["sales@shop.test"], MESSAGE)

    assert refused.value.recipients == {"sales@shop.test": (550, b"5.1.1 No such mailbox here")}
    assert InboundEvent.objects.count() == 0


@pytest.mark.parametrize(
    "recipient", ["support@other.test", "not-an-address", "support@", "@shop.test"]
)
def test_addresses_that_are_not_an_account_are_refused(
    ingress: IngressController, email_account: ChannelAccount, recipient: str
) -> None:
    with connect(ingress) as client:
        client.ehlo()
        client.mail("ana@example.com")
        code, _reply = client.rcpt(recipient)

    assert code in (550, 553)
    assert InboundEvent.objects.count() == 0


def test_an_address_the_parser_chokes_on_is_refused_and_the_session_goes_on(
    ingress: IngressController, email_account: ChannelAccount
) -> None:
    with connect(ingress) as client:
        client.ehlo()
        refused = client.docmd("MAIL", "FROM:0@")
        client.mail("ana@example.com")
        rcpt = client.docmd("RCPT", "TO:0@")
        accepted = client.rcpt("support@shop.test")

    assert refused[0] == 553
    assert b"malformed" in refused[1].lower()
    assert rcpt[0] == 553
    assert accepted[0] == 250
    assert InboundEvent.objects.count() == 0


def test_deactivated_and_other_channel_accounts_receive_nothing(
    ingress: IngressController, email_account: ChannelAccount, support_team: Team
) -> None:
    email_account.is_active = False
    email_account.save()
    ChannelAccount.objects.create(
        kind="sms", name="SMS", slug="sms", address="sales@shop.test", default_team=support_team
    )
    with connect(ingress) as client:
        client.ehlo()
        client.mail("ana@example.com")
        replies = [client.rcpt("support@shop.test"), client.rcpt("sales@shop.test")]

    assert [code for code, _reply in replies] == [550, 550]


def test_plus_addresses_route_to_the_account(
    ingress: IngressController, email_account: ChannelAccount
) -> None:
    """support+anything@ is the support account; the envelope recipient keeps the tag."""
    with connect(ingress) as client:
        refused = client.sendmail("ana@example.com", ["support+t1234-abcdef@shop.test"], MESSAGE)

    assert refused == {}
    event = InboundEvent.objects.get()
    assert event.channel_account == email_account
    assert event.external_id == "order-42@example.com:support@shop.test"
    assert event.headers["rcpt_tos"] == "support+t1234-abcdef@shop.test"


def test_one_event_per_account_whatever_addresses_of_it_were_used(
    ingress: IngressController, email_account: ChannelAccount, sales_account: ChannelAccount
) -> None:
    recipients = ["support@shop.test", "support+t7-x@shop.test", "sales@shop.test"]
    with connect(ingress) as client:
        refused = client.sendmail("ana@example.com", recipients, MESSAGE)

    assert refused == {}
    events = {event.channel_account.slug: event for event in InboundEvent.objects.all()}
    assert sorted(events) == ["sales-mail", "support-mail"]
    assert events["support-mail"].headers["rcpt_tos"] == "support@shop.test, support+t7-x@shop.test"
    assert events["sales-mail"].external_id == "order-42@example.com:sales@shop.test"


def test_a_second_delivery_of_the_same_message_is_accepted_and_dropped(
    ingress: IngressController, email_account: ChannelAccount
) -> None:
    """The mail server retries after a lost answer: the copy gets 250 and stores nothing."""
    for _attempt in range(2):
        with connect(ingress) as client:
            assert client.sendmail("ana@example.com", ["support@shop.test"], MESSAGE) == {}

    assert InboundEvent.objects.count() == 1


def test_without_message_id_the_key_is_a_digest_of_the_message(
    ingress: IngressController, email_account: ChannelAccount
) -> None:
    raw = message(None)
    with connect(ingress) as client:
        client.sendmail("ana@example.com", ["support@shop.test"], raw)
        client.sendmail("ana@example.com", ["support@shop.test"], raw)

    event = InboundEvent.objects.get()
    assert event.external_id == digest_key(raw, "support@shop.test")


def test_a_malformed_message_does_not_break_the_connection(
    ingress: IngressController, email_account: ChannelAccount
) -> None:
    """Three messages on one connection, the middle one garbage bytes: all three stored."""
    garbage = bytes(range(256)).replace(b"\r", b"").replace(b"\n", b"") * 4 + b"\r\n"
    replies = []
    with connect(ingress) as client:
        client.ehlo()
        for raw in (message("first@example.com"), garbage, message("third@example.com")):
            client.mail("ana@example.com")
            client.rcpt("support@shop.test")
            replies.append(client.data(raw))

    assert replies == [(250, b"2.0.0 OK: stored")] * 3
    payloads = {event.external_id: bytes(event.payload) for event in InboundEvent.objects.all()}
    garbage_key = digest_key(garbage, "support@shop.test")
    assert sorted(payloads) == sorted(
        ["first@example.com:support@shop.test", garbage_key, "third@example.com:support@shop.test"]
    )
    assert payloads[garbage_key] == garbage


def test_oversized_messages_are_refused_with_552(
    start_ingress: Callable[..., IngressController], email_account: ChannelAccount
) -> None:
    ingress = start_ingress(max_bytes=4096)
    big = message("big@example.com", body=b"x" * 70 + b"\r\n") * 100
    with connect(ingress) as client:
        # smtplib announces the size (SIZE=...) and the ingress refuses it at MAIL.
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("ana@example.com", ["support@shop.test"], big)
        assert refused.value.smtp_code == 552
        # A client that does not announce the size is refused after the data.
        client.rset()
        client.mail("ana@example.com")
        client.rcpt("support@shop.test")
        code, _reply = client.data(big)
        assert code == 552
        # The connection goes on.
        assert client.sendmail("ana@example.com", ["support@shop.test"], MESSAGE) == {}

    assert list(InboundEvent.objects.values_list("external_id", flat=True)) == [
        "order-42@example.com:support@shop.test"
    ]


def test_ehlo_offers_8bitmime_smtputf8_and_the_size_limit(
    start_ingress: Callable[..., IngressController], email_account: ChannelAccount
) -> None:
    ingress = start_ingress(max_bytes=10_000)
    with connect(ingress) as client:
        client.ehlo()

        assert client.has_extn("8bitmime")
        assert client.has_extn("smtputf8")
        assert client.esmtp_features["size"] == "10000"


def test_eight_bit_and_utf8_mail_is_stored_byte_for_byte(
    ingress: IngressController, email_account: ChannelAccount
) -> None:
    raw = (
        "From: José Müller <josé@exämple.com>\r\n"
        "To: support@shop.test\r\n"
        "Subject: Größe ändern – 注文\r\n"
        "Message-ID: <utf8@exämple.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Können Sie die Größe ändern? ありがとう\r\n"
    ).encode()
    latin1 = message("latin1@example.com", body="Grüße aus Köln\r\n".encode("latin-1"))
    with connect(ingress) as client:
        refused = client.sendmail(
            "josé@exämple.com",
            ["support@shop.test"],
            raw,
            mail_options=["SMTPUTF8", "BODY=8BITMIME"],
        )
        client.sendmail("ana@example.com", ["support@shop.test"], latin1, ["BODY=8BITMIME"])

    assert refused == {}
    events = {event.external_id: event for event in InboundEvent.objects.all()}
    # A non-ASCII Message-ID is no usable key: the message digest stands in for it.
    utf8_event = events[digest_key(raw, "support@shop.test")]
    assert bytes(utf8_event.payload) == raw
    assert utf8_event.headers["mail_from"] == "josé@exämple.com"
    assert bytes(events["latin1@example.com:support@shop.test"].payload) == latin1


def test_bare_lf_line_ends_are_accepted(
    ingress: IngressController, email_account: ChannelAccount
) -> None:
    """Lines ended by LF alone, longer in all than the 1000-byte SMTP line; only CRLF.CRLF
    ends the data, so a lone "\\n.\\n" inside stays part of the message."""
    raw = (
        b"From: ana@example.com\nTo: support@shop.test\nSubject: bare\n"
        b"Message-ID: <bare-lf@example.com>\n\n" + b"a line of text ended by LF alone\n" * 100
    )
    with connect(ingress) as client:
        assert client.sendmail("ana@example.com", ["support@shop.test"], raw) == {}

    event = InboundEvent.objects.get()
    assert event.external_id == "bare-lf@example.com:support@shop.test"
    assert bytes(event.payload) == raw + b"\r\n"


def test_accounts_changed_while_the_ingress_runs_take_effect_at_once(
    ingress: IngressController, email_account: ChannelAccount, support_team: Team
) -> None:
    """The ingress keeps the accounts between mails; saving one makes it read them again."""
    assert ingress_accepts(ingress, "support@shop.test")
    assert not ingress_accepts(ingress, "returns@shop.test")

    ChannelAccount.objects.create(
        kind="email", name="Returns", slug="returns", address="returns@shop.test"
    )
    email_account.is_active = False
    email_account.save()

    assert ingress_accepts(ingress, "returns@shop.test")
    assert not ingress_accepts(ingress, "support@shop.test")


def ingress_accepts(ingress: IngressController, recipient: str) -> bool:
    with connect(ingress) as client:
        client.ehlo()
        client.mail("ana@example.com")
        code, _reply = client.rcpt(recipient)
    return code == 250


def test_a_database_error_answers_451_and_the_connection_goes_on(
    ingress: IngressController, email_account: ChannelAccount, sales_account: ChannelAccount
) -> None:
    """The account disappears between RCPT and DATA: storing fails in the database, the
    mail server is told to try again later, and the next message is stored."""
    with connect(ingress) as client:
        client.ehlo()
        client.mail("ana@example.com")
        client.rcpt("sales@shop.test")
        ChannelAccount.objects.filter(pk=sales_account.pk).delete()
        first = client.data(MESSAGE)
        second = client.sendmail("ana@example.com", ["support@shop.test"], MESSAGE)

    assert first == (451, b"4.3.0 Temporary local problem, try again later")
    assert second == {}
    assert [event.channel_account_id for event in InboundEvent.objects.all()] == [email_account.pk]


def test_lmtp_answers_each_recipient_after_the_data(
    start_ingress: Callable[..., IngressController],
    email_account: ChannelAccount,
    sales_account: ChannelAccount,
) -> None:
    ingress = start_ingress(lmtp=True)
    with connect(ingress) as client:
        assert client.ehlo()[0] == 250
        client.mail("ana@example.com")
        rcpt_replies = [
            client.rcpt("support@shop.test"),
            client.rcpt("nobody@shop.test"),
            client.rcpt("sales@shop.test"),
        ]
        data_replies = [client.data(MESSAGE), client.getreply()]

    assert [code for code, _reply in rcpt_replies] == [250, 550, 250]
    assert data_replies == [(250, b"2.0.0 OK: stored"), (250, b"2.0.0 OK: stored")]
    assert sorted(InboundEvent.objects.values_list("external_id", flat=True)) == [
        "order-42@example.com:sales@shop.test",
        "order-42@example.com:support@shop.test",
    ]
    assert {event.headers["transport"] for event in InboundEvent.objects.all()} == {"lmtp"}


def test_lmtp_refuses_helo_and_ehlo(
    start_ingress: Callable[..., IngressController], email_account: ChannelAccount
) -> None:
    ingress = start_ingress(lmtp=True)
    with connect(ingress) as client:
        assert client.docmd("EHLO", "client.test")[0] == 500
        assert client.docmd("HELO", "client.test")[0] == 500


# --- Keys and recipients, without a server ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<Abc.123@Mail.Example.COM>", "Abc.123@mail.example.com"),
        ("  <a@b.test>  (comment)", "a@b.test"),
        ("no-brackets@Example.com", "no-brackets@example.com"),
        ("<>", ""),
        ("", ""),
        ("<with space@example.com>", ""),
        ("<ünïcode@example.com>", ""),
        ("<local-only>", "local-only"),
    ],
)
def test_normalize_message_id(value: str, expected: str) -> None:
    assert normalize_message_id(value) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("Support@Shop.Test", ["support@shop.test"]),
        ("support+t1-ab@shop.test", ["support+t1-ab@shop.test", "support@shop.test"]),
        ("support+@shop.test", ["support+@shop.test", "support@shop.test"]),
        ("+tag@shop.test", ["+tag@shop.test"]),
        ("no-at-sign", []),
        ("@shop.test", []),
        ("support@", []),
    ],
)
def test_recipient_candidates(address: str, expected: list[str]) -> None:
    assert recipient_candidates(address) == expected


def test_external_id_of_headers_no_parser_can_read() -> None:
    raw = b"Message-ID: <\xff\xfe@example.com>\r\nSubject: \x00\x01\r\n\r\nbody"
    digest = hashlib.sha256(b"Message-ID: <\xff\xfe@example.com>\nSubject: \x00\x01\n\nbody")

    assert email_external_id(raw, "Support@Shop.Test") == (
        f"sha256:{digest.hexdigest()}:support@shop.test"
    )


def test_lmtp_refuses_oversized_data_once_per_recipient(
    start_ingress: Callable[..., IngressController],
    email_account: ChannelAccount,
    sales_account: ChannelAccount,
) -> None:
    ingress = start_ingress(lmtp=True, max_bytes=2048)
    big = message("big@example.com", body=b"x" * 70 + b"\r\n") * 50
    with connect(ingress) as client:
        client.ehlo()
        client.mail("ana@example.com")
        client.rcpt("support@shop.test")
        client.rcpt("sales@shop.test")
        replies = [client.data(big), client.getreply()]
        # The connection goes on.
        assert client.sendmail("ana@example.com", ["support@shop.test"], MESSAGE) == {}

    assert replies == [(552, b"5.3.4 Message too big")] * 2
    assert InboundEvent.objects.count() == 1


def test_more_recipients_than_the_limit_are_deferred(
    ingress: IngressController, email_account: ChannelAccount
) -> None:
    with connect(ingress) as client:
        client.ehlo()
        client.mail("ana@example.com")
        codes = [client.rcpt(f"support+{number}@shop.test")[0] for number in range(101)]
        data_reply = client.data(MESSAGE)

    assert codes == [250] * 100 + [452]
    assert data_reply == (250, b"2.0.0 OK: stored")
    event = InboundEvent.objects.get()
    assert len(event.headers["rcpt_tos"].split(", ")) == 100


def test_the_null_sender_of_bounces_is_accepted_and_recorded_empty(
    ingress: IngressController, email_account: ChannelAccount
) -> None:
    with connect(ingress) as client:
        assert client.sendmail("<>", ["support@shop.test"], MESSAGE) == {}

    assert InboundEvent.objects.get().headers["mail_from"] == ""
