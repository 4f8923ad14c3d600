"""Properties: parse_email never raises, whatever arrives; normalize_subject is idempotent."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_inbox.email.parsing import ParsedEmail, normalize_subject, parse_email

FIXTURES = Path(__file__).parent / "fixtures"
VALID = (FIXTURES / "gmail_reply.eml").read_bytes()
HEADER_NAMES = [
    "From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
    "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Return-Path",
    "Auto-Submitted", "Precedence", "List-Id", "X-Loop", "X-Auto-Response-Suppress",
]  # fmt: skip
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_well_formed(parsed: ParsedEmail) -> None:
    assert isinstance(parsed, ParsedEmail)
    assert isinstance(parsed.text, str)
    assert "\x00" not in parsed.text + parsed.subject + parsed.html + parsed.reply_text
    if parsed.parse_error:
        assert parsed.text.startswith("This email could not be read: ")
        assert parsed.attachments[-1].name == "original.eml"


@FAST
@given(st.binary(max_size=4000))
def test_parse_email_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    assert_well_formed(parse_email(raw))


@FAST
@given(st.binary(max_size=2000))
def test_parse_email_never_raises_on_arbitrary_bytes_after_valid_headers(body: bytes) -> None:
    headers = VALID.split(b"\r\n\r\n", 1)[0]

    assert_well_formed(parse_email(headers + b"\r\n\r\n" + body))


@FAST
@given(
    st.sampled_from(HEADER_NAMES),
    st.one_of(
        st.text(max_size=300),
        st.binary(max_size=300).map(lambda value: value.decode("latin-1")),
    ),
)
def test_parse_email_never_raises_on_arbitrary_header_values(name: str, value: str) -> None:
    line = f"{name}: {value}".encode("utf-8", errors="surrogateescape")

    assert_well_formed(parse_email(line + b"\r\n" + VALID))
    assert_well_formed(parse_email(VALID.replace(b"\r\n\r\n", b"\r\n" + line + b"\r\n\r\n", 1)))


@FAST
@given(st.text(max_size=300))
def test_parse_email_never_raises_on_arbitrary_unicode_subjects(subject: str) -> None:
    raw = VALID.replace(
        b"Subject: Re: Order #1001 arrived damaged [#1234]",
        b"Subject: " + subject.encode("utf-8", errors="surrogateescape"),
    )

    parsed = parse_email(raw)

    assert_well_formed(parsed)
    assert parsed.parse_error == "" or "\n" in subject or "\r" in subject


@FAST
@given(st.text(max_size=200))
def test_normalize_subject_is_idempotent(subject: str) -> None:
    once = normalize_subject(subject)

    assert normalize_subject(once) == once


@FAST
@given(st.lists(st.sampled_from(["Re:", "AW:", "Fwd:", " ", "[#12]", "a", "ß", "：", "ﬁ"])))
def test_normalize_subject_is_idempotent_on_prefix_soup(pieces: list[str]) -> None:
    subject = "".join(pieces)
    once = normalize_subject(subject)

    assert normalize_subject(once) == once
