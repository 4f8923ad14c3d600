"""The small pieces of email parsing: ids, subjects, encoded words, charsets, signals."""

from __future__ import annotations

import pytest

from channels_inbox.email.charsets import decode_bytes, decode_undeclared, lookup_charset
from channels_inbox.email.headers import decode_words, message_ids, parse_addresses
from channels_inbox.email.htmltext import html_to_text
from channels_inbox.email.parsing import (
    normalize_message_id,
    normalize_subject,
    parse_email,
    subject_ticket_number,
)
from channels_inbox.email.quotes import reply_text

BASE = (
    "From: Pat Customer <pat@example.com>\r\n"
    "To: support@shop.example\r\n"
    "Subject: {subject}\r\n"
    "Message-ID: <base@example.com>\r\n"
    "{extra}"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Hello.\r\n"
)


def mail(*, subject: str = "Question", extra: str = "", sender: str = "") -> bytes:
    raw = BASE.format(subject=subject, extra=extra)
    if sender:
        raw = raw.replace("Pat Customer <pat@example.com>", sender)
    return raw.encode("utf-8")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<ABC.123@Mail.Example.COM>", "ABC.123@mail.example.com"),
        ("  <x@Y.org> (added by postmaster)", "x@y.org"),
        ("no-brackets@Example.ORG", "no-brackets@example.org"),
        ("<local-only>", "local-only"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_message_id(value: str, expected: str) -> None:
    assert normalize_message_id(value) == expected


def test_message_ids_keep_order_drop_repeats_and_bound_long_chains() -> None:
    assert message_ids("<a@X.com> <b@x.com>\r\n <a@x.com>") == ("a@x.com", "b@x.com")
    assert message_ids("a@x.com, b@x.com") == ("a@x.com", "b@x.com")
    assert message_ids(None) == ()

    chain = " ".join(f"<id{number}@x.com>" for number in range(250))
    ids = message_ids(chain)

    assert len(ids) == 100
    assert ids[0] == "id0@x.com"
    assert ids[-1] == "id249@x.com"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Order #1001 arrived damaged [#1234]", "order #1001 arrived damaged"),
        ("RE: AW: Fwd: SV: Order", "order"),
        ("Re[2]: Order", "order"),
        ("Re^3: Order", "order"),
        ("WG: VS: Antw: Réf. : Commande", "commande"),
        ("回复：订单", "订单"),
        ("[EXT] RE:  Order   late ", "order late"),
        ("Order late", "order late"),
        ("Rechnung", "rechnung"),
        ("", ""),
    ],
)
def test_normalize_subject(subject: str, expected: str) -> None:
    assert normalize_subject(subject) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Order late [#1234]", 1234),
        ("[#12] forwarded from another desk [#77]", 77),
        ("Order #1234", None),
        ("[#0]", None),
        ("[#abc]", None),
        ("", None),
    ],
)
def test_subject_ticket_number(subject: str, expected: int | None) -> None:
    assert subject_ticket_number(subject) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=?ISO-8859-1?Q?Caf=E9?=", "Café"),
        ("=?utf-8?q?a_b?= =?utf-8?q?_c?=", "a b c"),
        ("=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=", "€"),
        ("plain =?utf-8?B?w6k=?= text", "plain é text"),
        ("=?gb2312?B?tqm1pQ==?=", "订单"),
        ("=?utf-8*en?Q?hello?=", "hello"),
        ("=?no-such-charset?Q?caf=C3=A9?=", "café"),
        ("=?utf-8?B?!!!not base64?=", "=?utf-8?B?!!!not base64?="),
        ("Caf\udcc3\udca9", "Café"),
    ],
)
def test_decode_words(value: str, expected: str) -> None:
    assert decode_words(value) == expected


def test_parse_addresses_decodes_names_and_lowercases_addresses() -> None:
    assert parse_addresses('"=?utf-8?q?Jos=C3=A9?=" <Jose@Example.COM>, b@x.org') == [
        ("José", "jose@example.com"),
        ("", "b@x.org"),
    ]
    assert parse_addresses("undisclosed-recipients:;") == []
    assert parse_addresses(None) == []


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("gb2312", "gb18030"),
        ("KS_C_5601-1987", "cp949"),
        ('"Shift_JIS"', "cp932"),
        ("utf8", "utf-8"),
        ("x-made-up", None),
        ("base64", None),
        ("unicode_escape", None),
        ("", None),
    ],
)
def test_lookup_charset(label: str, codec: str | None) -> None:
    assert lookup_charset(label) == codec


def test_decode_bytes_fixes_the_usual_charset_lies() -> None:
    assert decode_bytes(b"\x93quoted\x94 \x80", "iso-8859-1") == "\u201cquoted\u201d €"
    assert decode_bytes("caf\u00e9".encode("latin-1"), "us-ascii") == "café"
    assert decode_bytes("naïve".encode("cp1252"), "utf-8") == "naïve"
    assert decode_bytes(b"\xff\xfe broken", "shift_jis").endswith(" broken")
    assert decode_bytes(b"", "utf-8") == ""


def test_decode_undeclared_html_uses_its_meta_charset() -> None:
    html = b'<meta charset="koi8-r"><p>' + "Привет".encode("koi8-r")

    assert decode_undeclared(html, html=True) == '<meta charset="koi8-r"><p>Привет'


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-generated", "Auto-Submitted: auto-generated"),
        ("Auto-Submitted: auto-notified", "Auto-Submitted: auto-notified"),
        ("Precedence: junk", "Precedence: junk"),
        ("Precedence: auto_reply", "Precedence: auto_reply"),
        ("X-Precedence: bulk", "X-Precedence: bulk"),
        ("X-Auto-Response-Suppress: DR, RN, NRN", "X-Auto-Response-Suppress: DR, RN, NRN"),
        ("X-Auto-Response-Suppress: OOF", "X-Auto-Response-Suppress: OOF"),
        ("Return-Path: <>", "Return-Path: <>"),
        ("List-Unsubscribe: <mailto:leave@news.example>", ""),
    ],
)
def test_automation_header_signals(header: str, reason: str) -> None:
    parsed = parse_email(mail(extra=header + "\r\n"))

    assert parsed.automated_reason == reason
    assert parsed.automated is bool(reason)


def test_human_mail_is_not_automated_by_harmless_headers() -> None:
    parsed = parse_email(mail(extra="Auto-Submitted: no\r\nPrecedence: first-class\r\n"))

    assert parsed.automated is False
    assert parsed.automated_reason == ""


@pytest.mark.parametrize(
    ("sender", "header", "reason"),
    [
        ("News <noreply@brand.example>", "List-Unsubscribe: <mailto:u@brand.example>",
         "List-Unsubscribe: <mailto:u@brand.example>"),
        ("Digest <digest@lists.example.org>", "List-Post: <mailto:team@lists.example.org>",
         "List-Post: <mailto:team@lists.example.org>"),
        ("Group <team@lists.example.org>", "List-Id: <team.lists.example.org>",
         "List-Id: <team.lists.example.org>"),
        ("Owner <owner-team@lists.example.org>", "", "sender: owner-team@lists.example.org"),
        ("postmaster@mail.example", "", "sender: postmaster@mail.example"),
        ("Lists <announce@lists.example.org>", "Precedence: list", "Precedence: list"),
        ("Team <team@lists.example.org>", "Precedence: list", ""),
        ("Jane <jane@example.com>", "Precedence: list\r\nList-Id: <team.lists.example.org>", ""),
    ],
)  # fmt: skip
def test_list_mail_is_automatic_unless_a_person_sent_it(
    sender: str, header: str, reason: str
) -> None:
    extra = header + "\r\n" if header else ""

    assert parse_email(mail(sender=sender, extra=extra)).automated_reason == reason


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ("Automatic reply: Question", "subject: Automatic reply"),
        ("Auto: Question", "subject: Auto:"),
        ("Out of Office: Question", "subject: Out of Office"),
        ("I am out of the office", "subject: out of the office"),
        ("Automatische Antwort: Frage", "subject: Automatische Antwort"),
        ("Absence : Question", "subject: Absence :"),
        ("Fuera de la oficina", "subject: Fuera de la oficina"),
        ("Risposta automatica: Domanda", "subject: Risposta automatica"),
        ("Automatisch antwoord: Vraag", "subject: Automatisch antwoord"),
        ("Absence of the blue colour in my order", ""),
        ("Autos for sale", ""),
    ],
)
def test_vacation_subjects_in_several_languages(subject: str, reason: str) -> None:
    assert parse_email(mail(subject=subject)).automated_reason == reason


def test_mail_from_mailer_daemon_is_a_bounce_even_without_a_report() -> None:
    parsed = parse_email(mail(sender="MAILER-DAEMON@mx.example"))

    assert parsed.automated_reason == "sender: mailer-daemon@mx.example"
    assert parsed.bounce is not None
    assert parsed.bounce.original_message_id == ""
    assert parsed.bounce.status == ""


def test_null_return_path_with_a_bounce_subject_is_a_bounce() -> None:
    parsed = parse_email(
        mail(
            subject="Mail delivery failed",
            extra="Return-Path: <>\r\nX-Failed-Recipients: a@b.c\r\n",
        )
    )

    assert parsed.automated_reason == "Return-Path: <>"
    assert parsed.bounce is not None
    assert parsed.bounce.recipient == "a@b.c"


def test_several_x_loop_headers_are_joined() -> None:
    parsed = parse_email(mail(extra="X-Loop: a@x.example\r\nX-Loop: helpdesk@shop.example\r\n"))

    assert parsed.loop_marker == "a@x.example, helpdesk@shop.example"


def test_nul_characters_never_reach_the_text() -> None:
    parsed = parse_email(mail().replace(b"Hello.", b"Hel\x00lo."))

    assert parsed.text == "Hello."


def test_html_to_text_line_breaks() -> None:
    html = (
        "<div>one</div><div><br></div><div>two<br>three</div>"
        "<blockquote><p>quoted</p></blockquote><p>after</p>"
        '<p class="MsoNormal">x</p><p class="MsoNormal">y</p><table><tr><td>a</td><td>b</td></tr>'
        "</table><pre>  kept  spaces</pre>"
    )

    assert html_to_text(html) == (
        "one\n\ntwo\nthree\n\n> quoted\n\nafter\n\nx\ny\na b\n\n  kept  spaces"
    )
    assert html_to_text("") == ""
    assert html_to_text("<p>" * 5000 + "deep") == "deep"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks!\n\nOn Mon, Jan 5, 2026 at 9:00 AM Support <\nsupport@shop.example> wrote:\n> x",
         "Thanks!"),
        ("Ok\n\nEm seg., 5 de jan. de 2026 às 10:00, Suporte <s@x.com> escreveu:\n> x", "Ok"),
        ("Va bene\n\nIl giorno lun 5 gen 2026 alle ore 10:00 Supporto <s@x.com> ha scritto:\n> x",
         "Va bene"),
        ("Tack\n\nDen mån 5 jan. 2026 kl 10:00 skrev Support <s@x.com>:\n> x", "Tack"),
        ("Merci\n\nEnvoyé de mon iPhone", "Merci"),
        ("Danke\n\nVon meinem iPhone gesendet", "Danke"),
        ("Bedankt\n\nVerzonden vanaf mijn iPhone", "Bedankt"),
        ("- first item\n- second item", "- first item\n- second item"),
        ("On Monday I ordered shoes.\nMy sister wrote:\nthey are too small",
         "On Monday I ordered shoes.\nMy sister wrote:\nthey are too small"),
        ("> only a quote", "> only a quote"),
    ],
)  # fmt: skip
def test_reply_text_heuristics(text: str, expected: str) -> None:
    assert reply_text(text) == expected
