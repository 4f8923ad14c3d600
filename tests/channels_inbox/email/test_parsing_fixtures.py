"""parse_email on hand-written mails from real clients: each test names what it proves."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from channels_inbox.email.parsing import BounceReport, ParsedEmail, parse_email

FIXTURES = Path(__file__).parent / "fixtures"


def parse(name: str) -> ParsedEmail:
    return parse_email((FIXTURES / name).read_bytes())


def attachment_summary(parsed: ParsedEmail) -> list[tuple[str, str, int, str, bool]]:
    return [
        (item.name, item.content_type, len(item.content), item.content_id, item.inline)
        for item in parsed.attachments
    ]


def test_there_are_at_least_forty_fixture_mails() -> None:
    assert len(list(FIXTURES.glob("*.eml"))) >= 40


# Reply styles of the common mail clients.


def test_gmail_reply_threads_and_strips_the_gmail_quote() -> None:
    parsed = parse("gmail_reply.eml")

    assert parsed.message_id == "CAF=xy12+ab@mail.gmail.com"
    assert parsed.in_reply_to == ("hd.5d1e@shop.example",)
    assert parsed.references == ("CAF=aa01@mail.gmail.com", "hd.5d1e@shop.example")
    assert parsed.subject == "Re: Order #1001 arrived damaged [#1234]"
    assert (parsed.from_address, parsed.from_name) == ("ana.souza@gmail.com", "Ana Souza")
    assert parsed.to == ("support@shop.example",)
    assert parsed.date == datetime(2026, 1, 6, 12, 15, 2, tzinfo=UTC)
    assert parsed.text.startswith("Hi, the photos are attached now.")
    assert "> Could you send us a photo of the parcel?" in parsed.text
    assert parsed.reply_text == (
        "Hi, the photos are attached now. The box was crushed on one side.\n\nAna"
    )
    assert parsed.html.startswith("<div><div>Hi, the photos are attached now.")
    assert 'class="gmail_quote"' not in parsed.html  # sanitized: no class attributes kept
    assert parsed.headers["delivered-to"] == "support@shop.example"
    assert parsed.automated is False
    assert parsed.parse_error == ""


def test_outlook_reply_cuts_at_the_header_block_and_keeps_thread_index() -> None:
    parsed = parse("outlook_reply.eml")

    assert parsed.message_id == "AM6PR02MB1234ABCD5678@am6pr02mb1234.eurprd02.prod.outlook.com"
    assert parsed.from_name == "Meier, Jonas"
    assert parsed.from_address == "jonas.meier@contoso.example"
    assert parsed.reply_text == (
        "Hello,\n\nI printed the label, thank you. Which carrier should I use?\n\nJonas"
    )
    assert "Please find the return label attached." in parsed.text
    assert parsed.headers["thread-index"] == "AQHcXyZ0abcdefghijklmnopqrstuvw=="
    assert parsed.headers["thread-topic"] == "Return label for order 2002"


def test_outlook_original_message_separator_is_cut() -> None:
    parsed = parse("outlook_original_message.eml")

    assert parsed.message_id == "000001dc8a2b$1a2b3c40$4e5f6070$@example.net"
    assert parsed.reply_text == "Yes, please send it to the billing address.\n\nRegards\nPeter"
    assert parsed.headers["x-mailer"] == "Microsoft Outlook 16.0"


def test_apple_mail_reply_drops_the_cite_blockquote_and_sent_from_my_iphone() -> None:
    parsed = parse("apple_mail_reply.eml")

    assert parsed.message_id == "7A1B2C3D-0000-1111-2222-333344445555@icloud.example"
    assert parsed.reply_text == "Size L would be perfect, thanks!"
    assert "Sent from my iPhone" in parsed.text


def test_thunderbird_flowed_reply_is_unwrapped_and_its_signature_dropped() -> None:
    parsed = parse("thunderbird_flowed_reply.eml")

    assert parsed.reply_text == (
        "Hello,\n\nfour of the M6 screws were missing. The rest of the kit is complete and "
        "the shelf looks great otherwise."
    )
    assert "-- \nLukas Weber\nBerlin" in parsed.text
    assert parsed.headers["user-agent"] == "Mozilla Thunderbird"


def test_yahoo_html_only_reply_drops_the_yahoo_quoted_block() -> None:
    parsed = parse("yahoo_reply.eml")

    assert parsed.reply_to == "maria.rossi@yahoo.example"
    assert parsed.reply_text == "Got it, the refund arrived today.\nThank you!"
    assert parsed.text.startswith("Got it, the refund arrived today.\nThank you!\nOn Sunday")


def test_outlook_desktop_html_reply_cuts_at_the_bordered_header_block() -> None:
    parsed = parse("outlook_desktop_html_reply.eml")

    assert parsed.subject == "SV: Leverans"
    assert parsed.reply_text == "Hej,\n\nPaketet kom fram idag. Tack!"
    assert parsed.text == (
        "Hej,\n\nPaketet kom fram idag. Tack!\n\nFrån: Acme Support <support@shop.example>"
        "\nSkickat: den 16 januari 2026 10:00\nTill: Sofia Lind\nÄmne: Leverans"
        "\nDitt paket är på väg."
    )


def test_thunderbird_html_reply_drops_cite_prefix_quote_and_signature() -> None:
    parsed = parse("thunderbird_html_reply.eml")

    assert parsed.reply_text == "The serial number is SN-4411."
    assert "> Could you send the serial number?" in parsed.text


def test_our_marker_line_cuts_the_reply_first() -> None:
    parsed = parse("marker_reply.eml")

    assert parsed.to == ("support+t1234-abc@shop.example",)
    assert parsed.reply_text == "Perfect, see you Tuesday."


def test_bottom_posted_reply_keeps_the_text_below_the_quote() -> None:
    assert parse("bottom_post_reply.eml").reply_text == (
        "Yes, please use the new address in Hamburg."
    )


def test_dash_dash_space_signature_is_dropped() -> None:
    parsed = parse("signature_dashes.eml")

    assert parsed.reply_text == "Can you gift wrap order 3003?"
    assert parsed.text.endswith("-- \nJane Doe\nDoe & Co, 12 Main Street")


@pytest.mark.parametrize(
    ("fixture", "subject", "from_name", "reply"),
    [
        (
            "german_reply.eml",
            "AW: Lieferung verspätet",
            "Jürgen Müller",
            "Hallo,\n\ndas Paket ist heute angekommen. Vielen Dank für die schnelle Hilfe!"
            "\n\nGrüße\nJürgen",
        ),
        (
            "french_reply.eml",
            "Réf. : Commande 4004",
            "Léa Dubois",
            "Bonjour,\n\nMerci, j'ai bien reçu le colis. Très satisfaite !",
        ),
        ("spanish_reply.eml", "RE: Pedido 5005", "Carlos Ruiz", "Hola, ¿cuándo llega el pedido?"),
        (
            "dutch_reply.eml",
            "Antw: Retour 6006",
            "Daan de Vries",
            "Dank je, de retour is verstuurd.",
        ),
        (
            "outlook_french_header.eml",
            "RE : Facture",
            "Hugo Bernard",
            "Voici la facture en question.",
        ),
        (
            "reply_outlook_header_de.eml",
            "AW: Rechnung 7007",
            "Anna Schmidt",
            "Die Rechnung ist bezahlt.",
        ),
    ],
)
def test_attribution_lines_and_header_blocks_in_several_languages(
    fixture: str, subject: str, from_name: str, reply: str
) -> None:
    parsed = parse(fixture)

    assert parsed.subject == subject
    assert parsed.from_name == from_name
    assert parsed.reply_text == reply
    assert parsed.text.startswith(reply.split("\n")[0])
    assert len(parsed.text) > len(reply)


def test_forwarded_mail_keeps_the_forwarded_message_in_the_reply_text() -> None:
    parsed = parse("forwarded_inline.eml")

    assert parsed.subject == "Fwd: Complaint about delivery"
    assert parsed.reply_text == parsed.text
    assert parsed.reply_text.endswith("The courier left my parcel in the rain.")


# Bodies and transfer encodings.


def test_html_only_mail_gets_a_plain_text_with_line_breaks_and_sanitized_html() -> None:
    parsed = parse("html_only.eml")

    assert parsed.text == (
        "Hello team,\n\nthe zipper of my jacket broke after a week.\nOrder number: 8008"
        "\n\n- Size M\n- Colour blue\n\nPhoto"
    )
    assert parsed.reply_text == parsed.text
    assert "<script" not in parsed.html
    assert "alert(1)" not in parsed.html
    assert "onclick" not in parsed.html
    assert '<a href="https://example.com/photo" rel="noopener noreferrer nofollow">Photo</a>' in (
        parsed.html
    )


def test_text_only_mail_reads_addresses_cc_and_reply_to() -> None:
    parsed = parse("text_only.eml")

    assert parsed.message_id == "text-only-1@example.com"
    assert (parsed.from_address, parsed.from_name) == ("bob.brown@example.com", "Brown, Bob")
    assert parsed.reply_to == "bob.private@example.net"
    assert parsed.cc == ("alice@example.com", "carol@example.com")
    assert parsed.date == datetime(2026, 1, 14, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert parsed.text == (
        "Hi, I ordered a lamp two weeks ago (order 9009) and nothing has arrived yet."
    )
    assert parsed.html == ""
    assert parsed.attachments == ()


def test_format_flowed_with_delsp_joins_soft_breaks_and_unstuffs_spaces() -> None:
    assert parse("format_flowed_delsp.eml").text == (
        "This paragraph was wrapped by the mail client so that no line gets too long for old "
        "terminals.\n>not a quote, space-stuffed"
    )


def test_quoted_printable_soft_breaks_and_utf8_escapes() -> None:
    assert parse("quoted_printable.eml").text == (
        "The price shown was 49,90 € but I was charged 59,90 €. This line is joined by a soft "
        "break."
    )


def test_base64_body_and_b_encoded_subject() -> None:
    parsed = parse("base64_body.eml")

    assert parsed.subject == "Échange"
    assert parsed.text == "Bonjour, je voudrais échanger mes chaussures (pointure 42 → 43)."


# Charsets: declared, undeclared, wrong.


@pytest.mark.parametrize(
    ("fixture", "subject", "text"),
    [
        ("charset_iso_8859_1.eml", "Latin-1", "Grüße aus Köln, das Café ist geschlossen."),
        (
            "charset_windows1252_mislabelled.eml",
            "Mislabelled",
            "The \u201cdeluxe\u201d set costs 80 € – too much.",
        ),
        ("charset_shift_jis.eml", "こんにちは", "注文番号１２３の配送状況を教えてください。"),
        ("charset_koi8_r.eml", "Заказ", "Здравствуйте! Где мой заказ?"),
        ("charset_gb2312.eml", "订单", "你好，王喆的订单还没到。"),
        ("charset_ks_c_5601.eml", "주문", "안녕하세요, 주문이 아직 도착하지 않았습니다."),
        (
            "charset_utf8_undeclared.eml",
            "Undeclared",
            "Olá, não recebi a encomenda. Ação necessária!",
        ),
        (
            "charset_cp1252_undeclared.eml",
            "Undeclared Latin",
            "Bonjour, où est ma commande ? Merci – Hélène",
        ),
        ("charset_unknown_name.eml", "Unknown charset", "Ünïcödé text in a charset nobody knows."),
        (
            "charset_koi8_r_undeclared.eml",
            "Undeclared Cyrillic",
            "Здравствуйте! Я заказал книгу две недели назад, но посылка так и не пришла. "
            "Пожалуйста, проверьте статус доставки.",
        ),
    ],
)
def test_body_charsets(fixture: str, subject: str, text: str) -> None:
    parsed = parse(fixture)

    assert parsed.subject == subject
    assert parsed.text == text
    assert parsed.parse_error == ""


def test_raw_utf8_headers_rfc6532() -> None:
    parsed = parse("raw_utf8_headers.eml")

    assert parsed.subject == "Größe – ändern? 😀"
    assert (parsed.from_address, parsed.from_name) == ("zoe@exämple.example", "Zoë Ångström")
    assert parsed.text == "Kann ich die Größe ändern?"


def test_encoded_words_split_inside_a_character_and_inside_quotes() -> None:
    parsed = parse("encoded_words_split.eml")

    assert parsed.subject == "こんにちは、注文€ — split"
    assert parsed.from_name == "Stéphane Dupont"
    assert parsed.from_address == "stephane@example.fr"


# Attachments.


def test_rfc2231_continued_filename() -> None:
    parsed = parse("attachment_rfc2231.eml")

    assert attachment_summary(parsed) == [
        ("€ rates 2026 übersicht.pdf", "application/pdf", 45, "", False)
    ]
    assert parsed.attachments[0].content.startswith(b"%PDF-1.4")


def test_rfc2047_filename_and_path_parts_removed_from_names() -> None:
    parsed = parse("attachment_rfc2047_filename.eml")

    assert attachment_summary(parsed) == [
        (
            "Übersicht März.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            100,
            "",
            False,
        ),
        ("report.txt", "application/octet-stream", 12, "", False),
    ]
    assert parsed.attachments[1].content == b"plain report"


def test_inline_image_keeps_its_content_id_and_the_html_its_cid_reference() -> None:
    parsed = parse("inline_image.eml")

    assert attachment_summary(parsed) == [
        ("damage.png", "image/png", 66, "ii_damage01@Example.com", True),
        ("image-2.png", "image/png", 66, "unreferenced@example.com", False),
    ]
    assert '<img src="cid:ii_damage01@Example.com" alt="damage">' in parsed.html
    assert parsed.text == "See the photo: [image: damage.png]"


def test_attached_mail_is_kept_as_an_eml_named_after_its_subject() -> None:
    parsed = parse("attached_eml.eml")

    assert parsed.text == "Please look at the attached confirmation."
    assert [(item.name, item.content_type) for item in parsed.attachments] == [
        ("Your order confirmation_ #1001.eml", "message/rfc822")
    ]
    inner = parse_email(parsed.attachments[0].content)
    assert inner.message_id == "order-1001@shop.example"
    assert inner.text == "Thank you for your order."


def test_winmail_dat_is_kept_as_an_attachment() -> None:
    assert attachment_summary(parse("winmail_dat.eml")) == [
        ("winmail.dat", "application/ms-tnef", 64, "", False)
    ]


def test_calendar_invite_in_an_alternative_is_kept_as_an_ics_attachment() -> None:
    parsed = parse("calendar_invite.eml")

    assert parsed.text == "Let us talk on Tuesday."
    assert parsed.html == "<p>Let us talk on Tuesday.</p>"
    assert attachment_summary(parsed) == [("invite.ics", "text/calendar", 254, "", False)]
    assert b"SUMMARY:Call about the wholesale order" in parsed.attachments[0].content


def test_apple_mail_text_parts_around_an_image_are_joined() -> None:
    parsed = parse("apple_mixed_text_parts.eml")

    assert parsed.text == "Here is the first photo:\n\nAnd that is all."
    assert attachment_summary(parsed) == [("IMG_0001.png", "image/png", 66, "", False)]


# Auto-replies, lists and loops.


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("auto_submitted.eml", "Auto-Submitted: auto-replied"),
        ("x_autoreply.eml", "X-Autoreply: yes"),
        ("x_autorespond.eml", "X-Autorespond: vacation"),
        ("x_autogenerated.eml", "X-Autogenerated: Reply"),
        ("precedence_bulk.eml", "Precedence: bulk"),
        ("exchange_oof.eml", "X-Auto-Response-Suppress: All"),
        ("exchange_rules_loop.eml", "X-MS-Exchange-Inbox-Rules-Loop: pat@example.com"),
        ("vacation_subject_de.eml", "subject: Abwesenheitsnotiz"),
        ("vacation_subject_fr.eml", "subject: Réponse automatique"),
        ("vacation_subject_es.eml", "subject: Respuesta automática"),
        ("list_request_sender.eml", "sender: shop-users-request@lists.example.org"),
        ("mailing_list.eml", "List-Id: Shop users <shop-users.lists.example.org>"),
        ("read_receipt.eml", "report: disposition-notification"),
    ],
)
def test_automatic_mail_names_its_signal(fixture: str, reason: str) -> None:
    parsed = parse(fixture)

    assert parsed.automated is True
    assert parsed.automated_reason == reason
    assert parsed.bounce is None


def test_person_writing_through_a_group_alias_is_not_automatic() -> None:
    parsed = parse("group_relay_human.eml")

    assert parsed.automated is False
    assert parsed.automated_reason == ""
    assert parsed.from_name == "'Nina Patel' via Support"
    assert parsed.reply_to == "nina.patel@example.com"
    assert parsed.headers["x-original-from"] == "Nina Patel <nina.patel@example.com>"


def test_x_loop_is_reported_as_the_loop_marker() -> None:
    parsed = parse("x_loop.eml")

    assert parsed.loop_marker == "helpdesk@shop.example"
    assert parsed.headers["x-loop"] == "helpdesk@shop.example"


# Bounces.


def test_postfix_bounce() -> None:
    parsed = parse("bounce_postfix.eml")

    assert parsed.automated is True
    assert parsed.automated_reason == "report: delivery-status"
    assert parsed.bounce == BounceReport(
        original_message_id="hd.0b6f1c2e@shop.example",
        recipient="ana@gone.example",
        action="failed",
        status="5.1.1",
        diagnostic=(
            "550 5.1.1 <ana@gone.example>: Recipient address rejected: User unknown in local "
            "recipient table"
        ),
    )
    assert [item.name for item in parsed.attachments] == [
        "delivery-status.txt",
        "Re_ Order #1001 arrived damaged [#1234].eml",
    ]


def test_exchange_bounce_reads_the_original_from_rfc822_headers() -> None:
    parsed = parse("bounce_exchange.eml")

    assert parsed.automated_reason == "report: delivery-status"
    assert parsed.bounce == BounceReport(
        original_message_id="hd.200@shop.example",
        recipient="jonas.meier@contoso.example",
        action="failed",
        status="5.1.10",
        diagnostic=(
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
        ),
    )
    assert parsed.text.startswith("Delivery has failed to these recipients or groups:")


def test_gmail_bounce() -> None:
    parsed = parse("bounce_gmail.eml")

    assert parsed.bounce == BounceReport(
        original_message_id="hd.300@shop.example",
        recipient="nobody.here@gmail.com",
        action="failed",
        status="5.1.1",
        diagnostic=(
            "550-5.1.1 The email account that you tried to reach does not exist. "
            "550 5.1.1 https://support.google.com/mail/?p=NoSuchUser"
        ),
    )
    assert parsed.headers["x-failed-recipients"] == "nobody.here@gmail.com"


def test_plain_text_bounce_without_a_report_is_read_from_its_text() -> None:
    parsed = parse("bounce_plain_text.eml")

    assert parsed.automated_reason == "sender: mailer-daemon@old.example.net"
    assert parsed.bounce == BounceReport(
        original_message_id="hd.400@shop.example",
        recipient="olduser@old.example.net",
        action="failed",
        status="5.1.1",
        diagnostic="Sorry, no mailbox here by that name. (#5.1.1)",
    )


def test_delayed_delivery_report_is_a_bounce_with_action_delayed() -> None:
    parsed = parse("bounce_delayed.eml")

    assert parsed.bounce == BounceReport(
        original_message_id="hd.500@shop.example",
        recipient="slow@busy.example",
        action="delayed",
        status="4.4.1",
        diagnostic="connect to mx.busy.example[192.0.2.20]:25: Connection timed out",
    )


# Malformed mail: never an exception, never lost.


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("malformed_no_headers.eml", "no email headers were found"),
        ("malformed_binary_garbage.eml", "no email headers were found"),
        (
            "malformed_no_boundary.eml",
            "its multipart body has no readable parts (boundary not found)",
        ),
    ],
)
def test_unreadable_mail_says_so_and_carries_the_original(fixture: str, reason: str) -> None:
    raw = (FIXTURES / fixture).read_bytes()

    parsed = parse_email(raw)

    assert parsed.parse_error == reason
    assert parsed.text == f"This email could not be read: {reason}. The original is attached."
    assert parsed.reply_text == parsed.text
    assert [(item.name, item.content_type) for item in parsed.attachments] == [
        ("original.eml", "message/rfc822")
    ]
    assert hashlib.sha256(parsed.attachments[0].content).digest() == hashlib.sha256(raw).digest()


def test_unreadable_mail_keeps_the_headers_it_could_read() -> None:
    parsed = parse("malformed_no_boundary.eml")

    assert parsed.message_id == "no-boundary-1@example.com"
    assert parsed.subject == "Where are my parts"
    assert parsed.from_address == "broken@example.com"


def test_truncated_multipart_keeps_what_arrived() -> None:
    parsed = parse("malformed_truncated_multipart.eml")

    assert parsed.parse_error == ""
    assert parsed.text == "The first part arrived complete."
    assert attachment_summary(parsed) == [("report.pdf", "application/pdf", 15, "", False)]


def test_broken_headers_are_read_as_far_as_they_go() -> None:
    parsed = parse("malformed_bad_headers.eml")

    assert parsed.parse_error == ""
    assert parsed.message_id == "no-brackets-here@example.org"
    assert parsed.in_reply_to == ("parent-without-brackets@example.org",)
    assert parsed.references == ("good@example.org",)
    assert parsed.subject == "Hallöbroken=ZZ"
    assert parsed.date is None
    assert parsed.to == ()
    assert parsed.text == "Body survives."
