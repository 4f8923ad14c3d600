"""The Messenger webhook: Meta's handshake, signed notifications stored once per what they
carry, and every way a post can be refused without anything being stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from channels_inbox.meta.webhooks import MAX_BODY_BYTES
from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import Team
from tests.channels_inbox.meta_messaging.fake_graph import FakeGraph
from tests.channels_inbox.meta_messaging.notifications import (
    INSTAGRAM,
    T0,
    encode,
    events,
    signature,
)
from tests.channels_inbox.meta_messaging.notifications import MESSENGER as FB
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


# --- GET: the subscription handshake -------------------------------------------------------


def test_the_handshake_answers_the_bare_challenge(account: ChannelAccount) -> None:
    response = FB.handshake()

    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"hub.verify_token": "not-our-token"}, id="wrong token"),
        pytest.param({"hub.verify_token": ""}, id="empty token"),
        pytest.param({"hub.mode": "unsubscribe"}, id="wrong mode"),
        pytest.param({"hub.verify_token": FB.app_secret}, id="the app secret is not the token"),
    ],
)
def test_a_handshake_without_our_verify_token_is_refused(
    account: ChannelAccount, overrides: dict[str, str]
) -> None:
    response = FB.handshake(**overrides)

    assert response.status_code == 403
    assert b"1158201444" not in response.content


def test_a_handshake_for_an_unknown_account_answers_404(account: ChannelAccount) -> None:
    assert FB.handshake(url="/webhooks/messenger/no-such-page/").status_code == 404


# --- POST: stored once ---------------------------------------------------------------------


def test_a_signed_notification_is_stored_raw_and_becomes_a_ticket(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    event = FB.message("Where is order #1001?")
    body = encode(FB.notification(event))

    response = FB.post(django_capture_on_commit_callbacks, body)

    assert response.status_code == 200
    assert response.content == b"OK"
    [stored] = events()
    assert stored.channel_account == account
    assert bytes(stored.payload) == body
    assert stored.external_id == f"m:{event['message']['mid']}"
    assert stored.headers == {"X-Hub-Signature-256": FB.sign(body)}
    assert stored.status == InboundEvent.Status.PROCESSED
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.channel_account) == ("messenger", account)
    assert ticket.messages.get().text == "Where is order #1001?"


def test_a_redelivery_is_acknowledged_and_creates_nothing_new(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    body = encode(FB.notification(FB.message("Where is my order?")))

    first = FB.post(django_capture_on_commit_callbacks, body)
    again = FB.post(django_capture_on_commit_callbacks, body)

    assert (first.status_code, again.status_code) == (200, 200)
    assert len(events()) == 1
    assert Message.objects.count() == 1


def test_the_same_events_posted_in_another_order_are_one_delivery(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """The key is what the post carries, not its bytes: the same two messages posted again
    in the other order, with another entry time, are still a repeat."""
    first, second = FB.message("One"), FB.message("Two", timestamp=T0 + 1000)
    original = FB.notification(first, second)
    regrouped = FB.notification(second, first)
    regrouped["entry"][0]["time"] += 60_000

    FB.post(django_capture_on_commit_callbacks, encode(original))
    response = FB.post(django_capture_on_commit_callbacks, encode(regrouped))

    assert response.status_code == 200
    [stored] = events()
    assert stored.external_id.startswith("batch:")
    assert list(Message.objects.order_by("pk").values_list("text", flat=True)) == ["One", "Two"]


def test_receipts_are_keyed_by_their_watermark(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    for receipt in (
        FB.delivery(T0 + 1000),
        FB.read(T0 + 1000),
        FB.read(T0 + 2000),
        FB.read(T0 + 2000),
    ):
        FB.deliver(django_capture_on_commit_callbacks, receipt)

    assert [stored.external_id for stored in events()] == [
        f"delivery:{FB.customer}:{T0 + 1000}",
        f"read:{FB.customer}:{T0 + 1000}",
        f"read:{FB.customer}:{T0 + 2000}",
    ]


def test_a_post_for_two_pages_of_one_app_reaches_both_accounts(
    account: ChannelAccount, support_team: Team, django_capture_on_commit_callbacks: Any
) -> None:
    """Meta has one callback URL per app: a post naming the app's other Page is also
    stored for that Page's account, and each account reads only its own entries."""
    other = FB.make_account(
        support_team,
        slug="shop-messenger-es",
        credentials=FB.credentials(page_id="220000000000002"),
    )
    stranger = FB.make_account(
        support_team,
        slug="another-app",
        credentials=FB.credentials(page_id="330000000000003", app_secret="another-apps-secret"),
    )
    data = FB.notification(FB.message("Olá"))
    for page_id, sender, text in (
        ("220000000000002", "4400000000000001", "Hola"),
        ("330000000000003", "5500000000000001", "Hello"),
    ):
        entry = FB.notification(FB.message(text, sender=sender), page_id=page_id)["entry"][0]
        entry["messaging"][0]["recipient"]["id"] = page_id
        data["entry"].append(entry)

    response = FB.post(django_capture_on_commit_callbacks, encode(data))

    assert response.status_code == 200
    assert [stored.channel_account for stored in events()] == [account, other]
    assert sorted(Message.objects.values_list("channel_account__slug", "text")) == [
        ("shop-messenger", "Olá"),
        ("shop-messenger-es", "Hola"),
    ]
    assert not InboundEvent.objects.filter(channel_account=stranger).exists()


def test_a_notification_with_nothing_to_record_is_stored_and_ignored_with_the_reasons(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    data = FB.notification(
        FB.event({"referral": {"ref": "summer-sale", "source": "SHORTLINK", "type": "OPEN_THREAD"}})
    )
    data["entry"][0]["changes"] = [{"field": "feed", "value": {"item": "status"}}]

    response = FB.post(django_capture_on_commit_callbacks, encode(data))

    assert response.status_code == 200
    [stored] = events()
    assert stored.external_id.startswith("body:")
    assert stored.status == InboundEvent.Status.IGNORED
    assert stored.error == "Nothing to record: a feed notification; a referral event"
    assert Ticket.objects.count() == 0


# --- POST: refused, nothing stored ---------------------------------------------------------


def any_body() -> bytes:
    return encode(FB.notification(FB.message("Hello")))


@pytest.mark.parametrize(
    "signed",
    [
        pytest.param(None, id="missing header"),
        pytest.param("sha256=" + "0" * 64, id="wrong digest"),
        pytest.param(signature(b"another body", FB.app_secret), id="signature of another body"),
        pytest.param("other secret", id="other secret"),
        pytest.param("sha1=" + "0" * 40, id="legacy sha1 only"),
    ],
)
def test_a_post_without_a_valid_signature_is_refused(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any, signed: str | None
) -> None:
    body = any_body()
    if signed == "other secret":
        signed = signature(body, "not-the-app-secret")

    response = FB.post(django_capture_on_commit_callbacks, body, signed=signed)

    assert response.status_code == 403
    assert response.content == b"Forbidden."
    assert events() == []
    assert Ticket.objects.count() == 0


def test_a_body_changed_after_signing_is_refused(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    body = any_body()

    response = FB.post(
        django_capture_on_commit_callbacks, body.replace(b"Hello", b"Hallo"), signed=FB.sign(body)
    )

    assert response.status_code == 403
    assert events() == []


def without(event: dict[str, Any], *path: str) -> dict[str, Any]:
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return event


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b'{"object": "page", "entry": [', "Not JSON", id="cut off"),
        pytest.param(b"\xff\xfe not utf-8", "Not JSON", id="not UTF-8"),
        pytest.param(b"[]", "Not a JSON object", id="a list"),
        pytest.param(
            encode(INSTAGRAM.notification(INSTAGRAM.message("Oi"))),
            "Not a notification with object 'page' (object 'instagram')",
            id="an Instagram notification",
        ),
        pytest.param(
            b'{"object": "whatsapp_business_account", "entry": []}',
            "Not a notification with object 'page'",
            id="a WhatsApp notification",
        ),
        pytest.param(
            b'{"object": "page", "entry": {"id": "1"}}', "entry is not a list", id="entry object"
        ),
        pytest.param(
            encode(FB.notification(without(FB.message("Hi"), "message", "mid"))),
            "A message has no mid",
            id="message without mid",
        ),
        pytest.param(
            encode(FB.notification(without(FB.message("Hi"), "sender"))),
            "A message event has no sender id",
            id="event without sender",
        ),
        pytest.param(
            encode(FB.notification(FB.event({"message": "Hi"}))),
            "A message event's message is not an object",
            id="message not an object",
        ),
    ],
)
def test_a_signed_body_that_is_not_a_notification_answers_400(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any, body: bytes, reason: str
) -> None:
    response = FB.post(django_capture_on_commit_callbacks, body)

    assert response.status_code == 400
    assert reason in response.content.decode()
    assert events() == []


def test_a_body_over_the_limit_answers_413(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    body = b'{"object":"page","entry":[],"pad":"' + b"x" * MAX_BODY_BYTES + b'"}'

    response = FB.post(django_capture_on_commit_callbacks, body)

    assert response.status_code == 413
    assert events() == []


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"slug": "someone-else"}, id="unknown slug"),
        pytest.param({"is_active": False}, id="inactive"),
        pytest.param({"kind": "instagram"}, id="an Instagram account"),
        pytest.param(
            {"credentials": {"verify_token": FB.verify_token, "page_id": FB.page_id}},
            id="no app secret",
        ),
    ],
)
def test_an_account_that_cannot_receive_answers_404(
    support_team: Team,
    graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
    overrides: dict[str, Any],
) -> None:
    FB.make_account(support_team, **overrides)

    response = FB.post(django_capture_on_commit_callbacks, any_body())
    get = FB.handshake()

    assert (response.status_code, get.status_code) == (404, 404)
    assert response.content == b"Not found."
    assert events() == []


def test_other_methods_answer_405(account: ChannelAccount) -> None:
    response = Client().put(FB.url, data=any_body(), content_type="application/json")

    assert response.status_code == 405
    assert events() == []


def test_a_database_outage_answers_503_so_meta_retries(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    def refuse_writes(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("INSERT"):
            raise OperationalError("could not write: disk I/O error")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_writes):
        response = FB.post(django_capture_on_commit_callbacks, any_body())

    assert response.status_code == 503
    assert events() == []


def test_unknown_content_is_stored_as_a_message_that_says_so(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """Content we do not know is still the customer writing: stored as a message that tells
    the agent, rather than refused (Meta would retry it) or dropped."""
    event = FB.message(attachments=[{"type": "poll", "payload": {"question": "Which colour?"}}])

    FB.deliver(django_capture_on_commit_callbacks, event)

    assert Message.objects.get().text == (
        "[The customer sent Messenger content of type 'poll', which cannot be shown here.] "
        "Ask them to send it again as text or a photo if it matters."
    )
