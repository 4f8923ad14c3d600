"""What every inbound email endpoint shares: who may post, how much, and a reply to our
own mail threading back through a provider."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from channels_inbox.email.outbound import outbound_message_id
from channels_inbox.email.webhooks import max_body_bytes
from channels_inbox.models import ChannelAccount
from helpdesk.models import Team, User
from tests.channels_inbox.email_webhooks.conftest import (
    ADDRESS,
    MAILGUN_KEY,
    POSTMARK_SECRET,
    SENDGRID_SECRET,
    account_for,
    events,
    mailgun_signed,
    mailgun_url,
    multipart,
    post,
    postmark_url,
    sendgrid_url,
)
from tests.channels_inbox.email_webhooks.test_postmark import payload as postmark_payload
from tickets.models import Message, Ticket
from tickets.services import add_reply

JSON = "application/json"


def sendgrid_raw(raw: bytes) -> tuple[bytes, str]:
    return multipart([("email", raw), ("envelope", json.dumps({"to": [ADDRESS]}).encode())])


def any_post(provider: str, url: str) -> tuple[bytes, str]:
    if provider == "postmark":
        return json.dumps(postmark_payload()).encode(), JSON
    if provider == "sendgrid":
        return sendgrid_raw(b"From: a@example.com\r\nSubject: hi\r\n\r\nhi\r\n")
    fields = {"recipient": ADDRESS, "from": "a@example.com", **mailgun_signed()}
    return multipart([(name, value.encode()) for name, value in fields.items()])


URLS = {
    "mailgun": mailgun_url(),
    "postmark": postmark_url(),
    "sendgrid": sendgrid_url(),
}


@pytest.mark.parametrize("provider", ["mailgun", "postmark", "sendgrid"])
def test_get_answers_405(support_team: Team, provider: str) -> None:
    account_for(provider, support_team)

    response = Client().get(URLS[provider])

    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize(
    ("configured", "posted"),
    [
        ("mailgun", "postmark"),
        ("mailgun", "sendgrid"),
        ("postmark", "mailgun"),
        ("postmark", "sendgrid"),
        ("sendgrid", "postmark"),
    ],
)
def test_another_providers_url_answers_404(
    support_team: Team, django_capture_on_commit_callbacks: Any, configured: str, posted: str
) -> None:
    account = account_for(configured, support_team)
    # Even with every provider's secrets in place, only the configured one is listened to.
    account.credentials = {
        **account.credentials,
        "mailgun_signing_key": MAILGUN_KEY,
        "inbound_secret": POSTMARK_SECRET if posted == "postmark" else SENDGRID_SECRET,
    }
    account.save()
    body, content_type = any_post(posted, URLS[posted])

    response = post(django_capture_on_commit_callbacks, URLS[posted], body, content_type)

    assert response.status_code == 404
    assert events() == []


@pytest.mark.parametrize(
    ("provider", "url"),
    [
        ("postmark", postmark_url(secret="wrong-secret")),
        ("postmark", postmark_url(secret=POSTMARK_SECRET[:-1])),
        ("postmark", postmark_url(secret="sécret")),
        ("sendgrid", sendgrid_url(secret=POSTMARK_SECRET)),
        ("sendgrid", sendgrid_url(secret=SENDGRID_SECRET.upper())),
        ("mailgun", mailgun_url(slug="no-such-account")),
        ("postmark", postmark_url(slug="no-such-account")),
    ],
)
def test_wrong_secret_or_account_answers_404(
    support_team: Team, django_capture_on_commit_callbacks: Any, provider: str, url: str
) -> None:
    account_for(provider, support_team)
    body, content_type = any_post(provider, url)

    response = post(django_capture_on_commit_callbacks, url, body, content_type)

    assert response.status_code == 404
    assert response.content == b"Not found."
    assert events() == []


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"is_active": False}, id="inactive"),
        pytest.param({"kind": "telegram", "address": "shopbot"}, id="not email"),
        pytest.param({"credentials": {"inbound_provider": "sendgrid"}}, id="no secret"),
        pytest.param({"credentials": {"inbound_secret": SENDGRID_SECRET}}, id="no provider"),
    ],
)
def test_account_that_cannot_receive_answers_404(
    support_team: Team, django_capture_on_commit_callbacks: Any, overrides: dict[str, Any]
) -> None:
    account_for("sendgrid", support_team, **overrides)
    body, content_type = any_post("sendgrid", sendgrid_url())

    response = post(django_capture_on_commit_callbacks, sendgrid_url(), body, content_type)

    assert response.status_code == 404
    assert events() == []


def test_mailgun_account_without_signing_key_answers_404(
    support_team: Team, django_capture_on_commit_callbacks: Any
) -> None:
    account_for("mailgun", support_team, credentials={"inbound_provider": "mailgun"})
    body, content_type = any_post("mailgun", mailgun_url())

    response = post(django_capture_on_commit_callbacks, mailgun_url(), body, content_type)

    assert response.status_code == 404


@pytest.mark.parametrize("provider", ["mailgun", "postmark", "sendgrid"])
def test_body_over_the_limit_answers_413(
    support_team: Team, settings: Any, django_capture_on_commit_callbacks: Any, provider: str
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    account_for(provider, support_team)
    body = b"x" * (max_body_bytes() + 1)
    content_type = JSON if provider == "postmark" else "application/x-www-form-urlencoded"

    response = post(django_capture_on_commit_callbacks, URLS[provider], body, content_type)

    assert response.status_code == 413
    assert events() == []


def test_mail_larger_than_the_sites_form_limit_is_taken(
    sendgrid_account: ChannelAccount, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Django's limit for form fields is for forms; a mail's attachments need more."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    big = b"A" * 76 + b"\r\n"
    raw = (
        b"From: ana@example.com\r\nTo: support@shop.test\r\nSubject: Big\r\n"
        b"Message-ID: <big@example.com>\r\n\r\n" + big * 20_000
    )
    body, content_type = sendgrid_raw(raw)
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < len(body) < max_body_bytes()

    response = post(django_capture_on_commit_callbacks, sendgrid_url(), body, content_type)

    assert response.status_code == 200
    [event] = events()
    assert bytes(event.payload) == raw


def test_reply_and_auto_reply_through_a_provider_thread_to_our_mail(
    postmark_account: ChannelAccount, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    """Customer mail in through Postmark, agent reply out, then the customer's answer and
    their out-of-office both come back through Postmark: all on one ticket, the auto-reply
    recorded as automated."""
    capture = django_capture_on_commit_callbacks
    assert send_postmark(capture, postmark_payload()) == 200
    ticket = Ticket.objects.get()
    with capture(execute=True):
        add_reply(ticket, author=agent, text="We will send the bigger size today.")
    outbound = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert outbound.delivery_status == Message.DeliveryStatus.SENT
    our_id = outbound_message_id(postmark_account, outbound.pk)
    answer_headers = [
        {"Name": "Message-ID", "Value": "<pm-answer@mail.example.com>"},
        {"Name": "In-Reply-To", "Value": f"<{our_id}>"},
        {"Name": "References", "Value": f"<pm-2002@mail.example.com> <{our_id}>"},
    ]
    vacation_headers = [
        {"Name": "Message-ID", "Value": "<pm-ooo@mail.example.com>"},
        {"Name": "In-Reply-To", "Value": f"<{our_id}>"},
        {"Name": "Auto-Submitted", "Value": "auto-replied"},
    ]

    answered = send_postmark(
        capture,
        postmark_payload(
            Subject="Re: something else entirely",
            TextBody="Thank you!",
            HtmlBody="",
            Attachments=[],
            Headers=answer_headers,
        ),
    )
    vacation = send_postmark(
        capture,
        postmark_payload(
            Subject="Out of office",
            TextBody="I am away until Monday.",
            HtmlBody="",
            Attachments=[],
            Headers=vacation_headers,
        ),
    )

    assert (answered, vacation) == (200, 200)
    assert Ticket.objects.count() == 1
    reply = Message.objects.get(provider_message_id="pm-answer@mail.example.com")
    assert reply.ticket_id == ticket.pk
    assert reply.threading_reason == Message.ThreadingReason.REFERENCES
    assert reply.text == "Thank you!"
    assert reply.is_automated is False
    auto = Message.objects.get(provider_message_id="pm-ooo@mail.example.com")
    assert auto.ticket_id == ticket.pk
    assert auto.is_automated is True


def send_postmark(capture: Any, data: dict[str, Any]) -> int:
    response = post(capture, postmark_url(), json.dumps(data).encode(), JSON)
    return int(response.status_code)
