"""Whatever a provider (or anyone who knows the secret URL) posts, turning it into a mail
either refuses it as unreadable (400) or gives bytes the mail parser reads: never an
exception, which would answer 500 and have the provider post it again and again."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_inbox.email.parsing import parse_email
from channels_inbox.email.webhook_payloads import (
    FormValue,
    PayloadError,
    mailgun_delivery,
    postmark_delivery,
    read_form,
    sendgrid_delivery,
)

TEXT = st.text(max_size=30)
CONTENT_TYPES = st.one_of(
    TEXT, st.sampled_from(["text/plain", "message/rfc822", "image/png; name=a", "multipart/x"])
)
POSTMARK_ATTACHMENT = st.fixed_dictionaries(
    {
        "Name": TEXT,
        "Content": st.binary(max_size=30).map(lambda data: base64.b64encode(data).decode()),
        "ContentType": CONTENT_TYPES,
        "ContentID": TEXT,
    }
)
POSTMARK = st.fixed_dictionaries(
    {
        "From": TEXT,
        "FromName": TEXT,
        "To": TEXT,
        "Cc": TEXT,
        "Subject": TEXT,
        "Date": TEXT,
        "ReplyTo": TEXT,
        "TextBody": TEXT,
        "HtmlBody": TEXT,
        "OriginalRecipient": TEXT,
        "Headers": st.lists(st.fixed_dictionaries({"Name": TEXT, "Value": TEXT}), max_size=4),
        "Attachments": st.lists(POSTMARK_ATTACHMENT, max_size=3),
    }
)
FIELD_NAMES = [
    "recipient",
    "sender",
    "from",
    "To",
    "subject",
    "body-plain",
    "body-html",
    "message-headers",
    "content-id-map",
    "attachment-1",
    "headers",
    "text",
    "html",
    "envelope",
    "charsets",
    "attachment-info",
    "content-ids",
    "attachment1",
    "email",
]
FORMS = st.dictionaries(st.sampled_from(FIELD_NAMES), st.binary(max_size=40), max_size=10)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=list(HealthCheck)
)


def readable_or_refused(build: Any, payload: Any) -> None:
    try:
        delivery = build(payload)
    except PayloadError:
        return
    assert isinstance(delivery.raw, bytes)
    parse_email(delivery.raw)


@PROPERTY_SETTINGS
@given(POSTMARK)
def test_any_postmark_json_is_read_or_refused(data: dict[str, Any]) -> None:
    readable_or_refused(postmark_delivery, json.dumps(data).encode())


@PROPERTY_SETTINGS
@given(st.binary(max_size=200))
def test_any_postmark_body_is_read_or_refused(body: bytes) -> None:
    readable_or_refused(postmark_delivery, body)


@PROPERTY_SETTINGS
@given(FORMS, st.one_of(st.none(), TEXT), CONTENT_TYPES)
def test_any_form_is_read_or_refused(
    fields: dict[str, bytes], filename: str | None, content_type: str
) -> None:
    form = {
        name: FormValue(
            value,
            filename=filename if name.startswith("attachment") else None,
            content_type=content_type,
        )
        for name, value in fields.items()
    }
    form.setdefault("recipient", FormValue(b"support@shop.test"))
    form.setdefault("from", FormValue(b"\xff\xfe <ana@example.com>"))
    readable_or_refused(mailgun_delivery, form)
    readable_or_refused(sendgrid_delivery, form)


@PROPERTY_SETTINGS
@given(
    st.binary(max_size=300),
    st.sampled_from(
        [
            "multipart/form-data; boundary=b",
            "multipart/form-data",
            "application/x-www-form-urlencoded",
            "text/plain",
            'multipart/form-data; boundary="é"',
        ]
    ),
)
def test_any_body_is_a_form_or_refused(body: bytes, content_type: str) -> None:
    prefix = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n'
    for candidate in (body, prefix + body):
        try:
            fields = read_form(candidate, content_type)
        except PayloadError:
            continue
        assert all(isinstance(value, FormValue) for value in fields.values())
