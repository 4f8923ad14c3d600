"""The Twilio webhooks: who may post, how much, what they store and what they answer, and
inbound SMS and MMS through the real pipeline to a ticket."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.sms.views import MAX_FORM_BYTES
from channels_inbox.tasks import sweep_inbound_events_task
from customers.models import Customer
from tests.channels_inbox.sms.conftest import (
    ACCOUNT_SID,
    ANA,
    EMPTY_TWIML,
    MESSAGE_PATH,
    PUBLIC,
    STATUS_PATH,
    FakeTwilio,
    events,
    inbound_fields,
    message_sid,
    post_form,
    status_fields,
    twilio_signature,
)
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0 photo of the broken mug"


def nothing_stored() -> bool:
    return (
        not InboundEvent.objects.exists()
        and not Message.objects.exists()
        and not Customer.objects.exists()
    )


def attachments_of(message: Message) -> list[tuple[str, str, bytes]]:
    result = []
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            result.append((attachment.name, attachment.content_type, handle.read()))
    return result


# --- Storing and threading -------------------------------------------------------------------


def test_an_sms_is_stored_and_becomes_a_ticket_from_the_e164_number(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    fields = inbound_fields("Is my order on its way?")

    response = post_form(django_capture_on_commit_callbacks, fields)

    assert (response.status_code, response.content) == (200, EMPTY_TWIML)
    assert response["Content-Type"] == "text/xml"
    [event] = events()
    assert (event.external_id, event.headers, event.status) == (
        fields["MessageSid"],
        {"webhook": "message"},
        "processed",
    )
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.channel_account_id) == ("sms", sms_account.pk)
    [message] = ticket.messages.all()
    assert (message.text, message.provider_message_id) == (
        "Is my order on its way?",
        fields["MessageSid"],
    )
    identity = ticket.customer.identities.get()
    assert (identity.kind, identity.address) == ("sms", ANA)


def test_the_same_number_in_another_format_is_the_same_customer(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    post_form(django_capture_on_commit_callbacks, inbound_fields("First"))
    post_form(
        django_capture_on_commit_callbacks, inbound_fields("Second", From="+1 (718) 555-0123")
    )

    ticket = Ticket.objects.get()
    assert [message.text for message in ticket.messages.order_by("pk")] == ["First", "Second"]
    assert Customer.objects.count() == 1


def test_a_redelivered_post_is_acknowledged_and_stores_nothing_new(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    fields = inbound_fields("Hello?")
    post_form(django_capture_on_commit_callbacks, fields)

    again = post_form(django_capture_on_commit_callbacks, fields)

    assert (again.status_code, again.content) == (200, EMPTY_TWIML)
    assert InboundEvent.objects.count() == 1
    assert Message.objects.count() == 1


def test_an_mms_brings_its_media_with_the_account_credentials(
    sms_account: ChannelAccount, twilio: FakeTwilio, django_capture_on_commit_callbacks: Any
) -> None:
    sid = message_sid("MM")
    photo_url = twilio.media_url(sid, "ME77aa", "image/jpeg", JPEG)
    pdf_url = twilio.media_url(sid, "ME88bb", "application/pdf", b"%PDF-1.7 receipt")
    fields = inbound_fields(
        "Photo of the broken mug",
        MessageSid=sid,
        NumMedia="2",
        MediaContentType0="image/jpeg",
        MediaUrl0=photo_url,
        MediaContentType1="application/pdf",
        MediaUrl1=pdf_url,
    )

    response = post_form(django_capture_on_commit_callbacks, fields)

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.text == "Photo of the broken mug"
    assert attachments_of(message) == [
        ("ME77aa.jpg", "image/jpeg", JPEG),
        ("ME88bb.pdf", "application/pdf", b"%PDF-1.7 receipt"),
    ]
    downloads = [call for call in twilio.calls if call.method == "GET"]
    assert [(call.path.rsplit("/", 2)[-2:], call.status) for call in downloads] == [
        (["Media", "ME77aa"], 302),
        (["cdn", "ME77aa"], 200),
        (["Media", "ME88bb"], 302),
        (["cdn", "ME88bb"], 200),
    ]
    assert downloads[0].authorization.startswith("Basic ")
    # The credentials stay with Twilio's API; its CDN never sees them.
    assert [call.authorization for call in downloads[1::2]] == ["", ""]


def test_media_over_the_limit_is_left_out_and_the_message_says_so(
    sms_account: ChannelAccount,
    twilio: FakeTwilio,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 1024
    sid = message_sid("MM")
    url = twilio.media_url(sid, "ME99cc", "video/mp4", b"v" * 3000)
    fields = inbound_fields(
        "Video", MessageSid=sid, NumMedia="1", MediaContentType0="video/mp4", MediaUrl0=url
    )

    post_form(django_capture_on_commit_callbacks, fields)

    message = Message.objects.get()
    assert (
        message.text
        == "Video\n\n[ME99cc.mp4 (3 KB) was not downloaded: larger than the 1 KB limit.]"
    )
    assert attachments_of(message) == []


def test_media_twilio_no_longer_has_is_noted_and_the_message_kept(
    sms_account: ChannelAccount, twilio: FakeTwilio, django_capture_on_commit_callbacks: Any
) -> None:
    sid = message_sid("MM")
    gone = f"{twilio.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media/MEgone"
    fields = inbound_fields(
        "", MessageSid=sid, NumMedia="1", MediaContentType0="image/png", MediaUrl0=gone
    )

    post_form(django_capture_on_commit_callbacks, fields)

    message = Message.objects.get()
    assert message.text == (
        "[MEgone.png could not be downloaded: Twilio refused the media download (404): "
        "Twilio error 20404: The requested resource was not found]"
    )


def test_a_media_download_failing_for_a_while_is_retried(
    sms_account: ChannelAccount, twilio: FakeTwilio, django_capture_on_commit_callbacks: Any
) -> None:
    sid = message_sid("MM")
    url = twilio.media_url(sid, "ME77aa", "image/jpeg", JPEG)
    fields = inbound_fields(
        "Photo", MessageSid=sid, NumMedia="1", MediaContentType0="image/jpeg", MediaUrl0=url
    )
    twilio.close()

    post_form(django_capture_on_commit_callbacks, fields)

    [event] = events()
    assert (event.status, event.attempts) == ("failed", 1)
    assert event.error.startswith("Twilio unreachable (127.0.0.1): ")
    assert event.next_attempt_at is not None
    assert not Message.objects.exists()
    InboundEvent.objects.filter(pk=event.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert sweep_inbound_events_task() == 1
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("failed", 2)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param(
            {"From": "whatsapp:+17185550123"},
            "A whatsapp message reached an SMS account; it is not taken in.",
            id="whatsapp",
        ),
        pytest.param(
            {"From": "12345"},
            "The sender '12345' is not a phone number (a short code or an alphanumeric "
            "sender); it cannot be answered.",
            id="short code",
        ),
        pytest.param({"Body": "   "}, "An empty message.", id="empty"),
    ],
)
def test_posts_we_cannot_answer_are_ignored_with_the_reason(
    sms_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    overrides: dict[str, str],
    reason: str,
) -> None:
    response = post_form(django_capture_on_commit_callbacks, inbound_fields(**overrides))

    assert response.status_code == 200
    [event] = events()
    assert (event.status, event.error) == ("ignored", reason)
    assert not Message.objects.exists()


# --- Who may post ----------------------------------------------------------------------------


def test_the_signature_is_over_the_public_url_not_the_one_the_server_sees(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """Behind a proxy Django sees http://testserver; Twilio signed the public https URL."""
    fields = inbound_fields()

    as_seen = post_form(
        django_capture_on_commit_callbacks, fields, signed_url=f"http://testserver{MESSAGE_PATH}"
    )
    as_public = post_form(django_capture_on_commit_callbacks, fields)

    assert (as_seen.status_code, as_public.status_code) == (403, 200)


def test_the_query_string_is_signed_as_received(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    path = f"{MESSAGE_PATH}?source=it's+the+console"

    response = post_form(django_capture_on_commit_callbacks, inbound_fields(), path=path)

    assert response.status_code == 200


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("RSOYDt4T1cUTdK1PDd93/VVr8B8=", id="another request's"),
        pytest.param("sïgnature", id="not ASCII"),
    ],
)
def test_a_missing_or_wrong_signature_answers_403_and_stores_nothing(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any, signature: str | None
) -> None:
    response = post_form(django_capture_on_commit_callbacks, inbound_fields(), signature=signature)

    assert response.status_code == 403
    assert nothing_stored()


def test_a_signature_by_another_token_answers_403(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    fields = inbound_fields()
    params = {name: [value] for name, value in fields.items()}
    forged = twilio_signature(PUBLIC + MESSAGE_PATH, params, token="not-the-auth-token")

    response = post_form(django_capture_on_commit_callbacks, fields, signature=forged)

    assert response.status_code == 403
    assert nothing_stored()


def test_a_parameter_changed_after_signing_answers_403(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    fields = inbound_fields("Refund me")
    params = {name: [value] for name, value in fields.items()}
    signature = twilio_signature(PUBLIC + MESSAGE_PATH, params)

    response = post_form(
        django_capture_on_commit_callbacks,
        {**fields, "Body": "Refund me twice"},
        signature=signature,
    )

    assert response.status_code == 403
    assert nothing_stored()


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        pytest.param({}, "/webhooks/sms/no-such-account/", id="unknown slug"),
        pytest.param({"is_active": False}, MESSAGE_PATH, id="inactive"),
        pytest.param({"kind": "telegram"}, MESSAGE_PATH, id="not sms"),
        pytest.param(
            {"credentials": {"account_sid": ACCOUNT_SID}}, MESSAGE_PATH, id="no auth token"
        ),
        pytest.param({}, "/webhooks/sms/no-such-account/status/", id="unknown slug, status"),
    ],
)
def test_an_account_that_cannot_receive_answers_404(
    sms_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    overrides: dict[str, Any],
    path: str,
) -> None:
    ChannelAccount.objects.filter(pk=sms_account.pk).update(**overrides)

    response = post_form(django_capture_on_commit_callbacks, inbound_fields(), path=path)

    assert response.status_code == 404
    assert nothing_stored()


# --- What may be posted ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"\xff\xfeBody=hi", "not UTF-8 form data", id="not UTF-8"),
        pytest.param(b"MessageSid", "not UTF-8 form data", id="not a form"),
        pytest.param(b"Body=hi&&From=x", "not UTF-8 form data", id="empty field"),
    ],
)
def test_a_body_that_is_not_a_form_answers_400_and_stores_nothing(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any, body: bytes, reason: str
) -> None:
    response = post_form(django_capture_on_commit_callbacks, body, signature="anything")

    assert response.status_code == 400
    assert response.content.decode() == f"Unreadable payload: {reason}"
    assert nothing_stored()


@pytest.mark.parametrize(
    ("path", "fields", "reason"),
    [
        pytest.param(
            MESSAGE_PATH, {"From": ANA, "Body": "hi"}, "no MessageSid or From", id="no sid"
        ),
        pytest.param(
            MESSAGE_PATH, {"MessageSid": "SM1", "Body": "hi"}, "no MessageSid or From", id="no From"
        ),
        pytest.param(
            STATUS_PATH, {"MessageSid": "SM1"}, "no MessageSid or MessageStatus", id="no status"
        ),
        pytest.param(
            STATUS_PATH,
            {"MessageStatus": "sent"},
            "no MessageSid or MessageStatus",
            id="status, no sid",
        ),
    ],
)
def test_a_signed_form_without_the_needed_fields_answers_400(
    sms_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    path: str,
    fields: dict[str, str],
    reason: str,
) -> None:
    response = post_form(django_capture_on_commit_callbacks, fields, path=path)

    assert response.status_code == 400
    assert response.content.decode() == f"Unreadable payload: {reason}"
    assert nothing_stored()


def test_json_answers_415_and_stores_nothing(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    response = post_form(
        django_capture_on_commit_callbacks,
        b'{"MessageSid": "SM1"}',
        signature="anything",
        content_type="application/json",
    )

    assert response.status_code == 415
    assert nothing_stored()


def test_a_body_over_the_limit_answers_413_and_stores_nothing(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    fields = inbound_fields("x" * MAX_FORM_BYTES)

    response = post_form(django_capture_on_commit_callbacks, fields)

    assert response.status_code == 413
    assert nothing_stored()


def test_get_answers_405(sms_account: ChannelAccount) -> None:
    assert Client().get(MESSAGE_PATH).status_code == 405
    assert Client().get(STATUS_PATH).status_code == 405


# --- Status callbacks ------------------------------------------------------------------------


def test_status_callbacks_are_stored_per_status(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    sid = message_sid()

    for status in ("sent", "delivered", "delivered"):
        response = post_form(capture, status_fields(sid, status), path=STATUS_PATH)
        assert (response.status_code, response.content) == (200, EMPTY_TWIML)

    assert [(event.external_id, event.headers) for event in events()] == [
        (f"{sid}:sent", {"webhook": "status"}),
        (f"{sid}:delivered", {"webhook": "status"}),
    ]


def test_a_status_callback_with_a_wrong_signature_answers_403(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    response = post_form(
        django_capture_on_commit_callbacks,
        status_fields(message_sid(), "delivered"),
        path=STATUS_PATH,
        signed_url=PUBLIC + MESSAGE_PATH,
    )

    assert response.status_code == 403
    assert nothing_stored()
