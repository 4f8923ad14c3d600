"""The Instagram webhook: the same Meta handshake and signature as Messenger, its own object
and URL, and every way a post can be refused without anything being stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from channels_inbox.meta.webhooks import MAX_BODY_BYTES
from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import Team
from tests.channels_inbox.meta_messaging.fake_graph import FakeGraph
from tests.channels_inbox.meta_messaging.notifications import INSTAGRAM as IG
from tests.channels_inbox.meta_messaging.notifications import MESSENGER, encode, events, signature
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

# providers.md section 2's Instagram example, byte for byte as Meta would post it (its
# timestamps in seconds).
PROVIDERS_EXAMPLE = (
    b'{"object":"instagram","entry":[{"id":"17841400000000001","time":1767268801,'
    b'"messaging":[{"sender":{"id":"1122334455667788"},"recipient":{"id":"17841400000000001"},'
    b'"timestamp":1767268800,"message":{"mid":"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE",'
    b'"text":"Do you ship to Portugal?"}}]}]}'
)


def test_the_handshake_answers_the_bare_challenge(account: ChannelAccount) -> None:
    response = IG.handshake()

    assert (response.status_code, response.content) == (200, b"1158201444")


def test_a_handshake_with_another_token_is_refused(account: ChannelAccount) -> None:
    assert IG.handshake(**{"hub.verify_token": MESSENGER.verify_token}).status_code == 403


def test_the_documented_example_is_stored_and_becomes_a_ticket(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    response = IG.post(django_capture_on_commit_callbacks, PROVIDERS_EXAMPLE)

    assert response.status_code == 200
    [event] = events()
    assert event.external_id == "m:aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE"
    assert event.status == InboundEvent.Status.PROCESSED
    message = Message.objects.get()
    assert (message.text, message.ticket.channel) == ("Do you ship to Portugal?", "instagram")
    assert message.ticket.last_customer_message_at == datetime.fromtimestamp(1767268800, tz=UTC)


def test_a_redelivery_is_acknowledged_and_creates_nothing_new(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    first = IG.post(django_capture_on_commit_callbacks, PROVIDERS_EXAMPLE)
    again = IG.post(django_capture_on_commit_callbacks, PROVIDERS_EXAMPLE)

    assert (first.status_code, again.status_code) == (200, 200)
    assert len(events()) == 1
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    "signed",
    [
        pytest.param(None, id="missing header"),
        pytest.param("sha256=" + "0" * 64, id="wrong digest"),
        pytest.param(signature(PROVIDERS_EXAMPLE, MESSENGER.app_secret), id="another app"),
    ],
)
def test_a_post_without_a_valid_signature_is_refused(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any, signed: str | None
) -> None:
    response = IG.post(django_capture_on_commit_callbacks, PROVIDERS_EXAMPLE, signed=signed)

    assert response.status_code == 403
    assert events() == []
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(PROVIDERS_EXAMPLE[:-3], "Not JSON", id="cut off"),
        pytest.param(
            encode(MESSENGER.notification(MESSENGER.message("Hi"))),
            "Not a notification with object 'instagram' (object 'page')",
            id="a Messenger notification",
        ),
        pytest.param(
            PROVIDERS_EXAMPLE.replace(b'"mid":"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE",', b""),
            "A message has no mid",
            id="message without mid",
        ),
    ],
)
def test_a_signed_body_that_is_not_an_instagram_notification_answers_400(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any, body: bytes, reason: str
) -> None:
    response = IG.post(django_capture_on_commit_callbacks, body)

    assert response.status_code == 400
    assert reason in response.content.decode()
    assert events() == []


def test_a_body_over_the_limit_answers_413(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    body = b'{"object":"instagram","entry":[],"pad":"' + b"x" * MAX_BODY_BYTES + b'"}'

    assert IG.post(django_capture_on_commit_callbacks, body).status_code == 413
    assert events() == []


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"slug": "someone-else"}, id="unknown slug"),
        pytest.param({"is_active": False}, id="inactive"),
        pytest.param({"kind": "messenger"}, id="a Messenger account"),
    ],
)
def test_an_account_that_cannot_receive_answers_404(
    support_team: Team,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
    overrides: dict[str, Any],
) -> None:
    IG.make_account(support_team, **overrides)

    response = IG.post(django_capture_on_commit_callbacks, PROVIDERS_EXAMPLE)

    assert response.status_code == 404
    assert events() == []


def test_other_methods_answer_405(account: ChannelAccount) -> None:
    response = Client().put(IG.url, data=PROVIDERS_EXAMPLE, content_type="application/json")

    assert response.status_code == 405
