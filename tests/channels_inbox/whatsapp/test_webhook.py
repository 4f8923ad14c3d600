"""The WhatsApp webhook: Meta's handshake, signed notifications stored once, and every way a
post can be refused without anything being stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from channels_inbox.meta.webhooks import MAX_BODY_BYTES
from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import Team
from tests.channels_inbox.whatsapp.conftest import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    URL,
    VERIFY_TOKEN,
    change_value,
    encode,
    events,
    make_account,
    message,
    new_wamid,
    notification,
    post,
    signature,
    status,
    text,
)
from tests.channels_inbox.whatsapp.fake_graph import FakeGraph
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def handshake(url: str = URL, **overrides: str) -> Any:
    params = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": VERIFY_TOKEN,
    }
    params.update(overrides)
    return Client().get(url, params)


# --- GET: the subscription handshake -------------------------------------------------------


def test_the_handshake_answers_the_bare_challenge(account: ChannelAccount) -> None:
    response = handshake()

    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"hub.verify_token": "not-our-token"}, id="wrong token"),
        pytest.param({"hub.verify_token": ""}, id="empty token"),
        pytest.param({"hub.mode": "unsubscribe"}, id="wrong mode"),
        pytest.param({"hub.verify_token": APP_SECRET}, id="the app secret is not the token"),
    ],
)
def test_a_handshake_without_our_verify_token_is_refused(
    account: ChannelAccount, overrides: dict[str, str]
) -> None:
    response = handshake(**overrides)

    assert response.status_code == 403
    assert b"1158201444" not in response.content


def test_a_handshake_for_an_unknown_account_answers_404(account: ChannelAccount) -> None:
    response = handshake(url="/webhooks/whatsapp/no-such-account/")

    assert response.status_code == 404


# --- POST: stored once ---------------------------------------------------------------------


def test_a_signed_notification_is_stored_raw_and_becomes_a_ticket(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    wamid = new_wamid()
    body = encode(
        notification(change_value(messages=[text("Hi, my box arrived damaged", wamid=wamid)]))
    )

    response = post(django_capture_on_commit_callbacks, body)

    assert response.status_code == 200
    [event] = events()
    assert event.channel_account == account
    assert bytes(event.payload) == body
    assert event.external_id == f"m:{wamid}"
    assert event.headers == {"X-Hub-Signature-256": signature(body)}
    assert event.status == InboundEvent.Status.PROCESSED
    ticket = Ticket.objects.get()
    assert ticket.channel == "whatsapp"
    assert ticket.messages.get().text == "Hi, my box arrived damaged"


def test_a_redelivery_is_acknowledged_and_creates_nothing_new(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    body = encode(notification(change_value(messages=[text("Where is my order?")])))

    first = post(django_capture_on_commit_callbacks, body)
    again = post(django_capture_on_commit_callbacks, body)

    assert (first.status_code, again.status_code) == (200, 200)
    assert len(events()) == 1
    assert Message.objects.count() == 1


def test_the_same_messages_batched_differently_are_one_delivery(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """The key is what the post is about, not its bytes: the same two messages posted again
    in another order, split over two changes, are still a repeat."""
    first, second = text("One"), text("Two")
    original = encode(notification(change_value(messages=[first, second])))
    regrouped = encode(
        notification(change_value(messages=[second]), change_value(messages=[first]))
    )

    post(django_capture_on_commit_callbacks, original)
    response = post(django_capture_on_commit_callbacks, regrouped)

    assert response.status_code == 200
    [event] = events()
    assert event.external_id.startswith("batch:")
    assert list(Message.objects.order_by("pk").values_list("text", flat=True)) == ["One", "Two"]


def test_each_status_of_a_message_is_its_own_delivery(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    wamid = new_wamid()
    for state in ("sent", "delivered", "read", "read"):
        body = encode(notification(change_value(statuses=[status(wamid, state)])))
        assert post(django_capture_on_commit_callbacks, body).status_code == 200

    assert [event.external_id for event in events()] == [
        f"s:{wamid}:sent",
        f"s:{wamid}:delivered",
        f"s:{wamid}:read",
    ]


def test_a_post_for_two_numbers_of_one_app_reaches_both_accounts(
    account: ChannelAccount, support_team: Team, django_capture_on_commit_callbacks: Any
) -> None:
    """Meta has one callback URL per app: a post naming the other number of the same app is
    also stored for that number's account, and each account reads only its own part."""
    other = make_account(
        support_team,
        slug="shop-whatsapp-es",
        address="+34600000001",
        credentials={**account.credentials, "phone_number_id": "200000000000001"},
    )
    stranger = make_account(
        support_team,
        slug="another-app",
        address="+34600000002",
        credentials={
            **account.credentials,
            "phone_number_id": "300000000000001",
            "app_secret": "another-apps-secret",
        },
    )
    body = encode(
        notification(
            change_value(messages=[text("Olá")]),
            change_value(
                messages=[text("Hola", wa_id="34611111111")],
                names={"34611111111": "Lucía"},
                phone_number_id="200000000000001",
            ),
            change_value(
                messages=[text("Hello", wa_id="34622222222")],
                names={"34622222222": "Sam"},
                phone_number_id="300000000000001",
            ),
        )
    )

    response = post(django_capture_on_commit_callbacks, body)

    assert response.status_code == 200
    assert [event.channel_account for event in events()] == [account, other]
    assert sorted(Message.objects.values_list("channel_account__slug", "text")) == [
        ("shop-whatsapp", "Olá"),
        ("shop-whatsapp-es", "Hola"),
    ]
    assert not InboundEvent.objects.filter(channel_account=stranger).exists()


def test_a_notification_about_another_field_is_stored_and_ignored(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    body = encode(
        notification(
            {"event": "APPROVED", "message_template_name": "order_update"},
            field="message_template_status_update",
        )
    )

    response = post(django_capture_on_commit_callbacks, body)

    assert response.status_code == 200
    [event] = events()
    assert event.external_id.startswith("body:")
    assert event.status == InboundEvent.Status.IGNORED
    assert event.error == "Nothing to record: a message_template_status_update notification"


# --- POST: refused, nothing stored ---------------------------------------------------------


def any_body() -> bytes:
    return encode(notification(change_value(messages=[text("Hello")])))


@pytest.mark.parametrize(
    "signed",
    [
        pytest.param(None, id="missing header"),
        pytest.param("sha256=" + "0" * 64, id="wrong digest"),
        pytest.param(signature(b"another body"), id="signature of another body"),
        pytest.param(signature(b"", secret="other-secret"), id="other secret"),
        pytest.param("sha1=" + "0" * 40, id="legacy sha1 only"),
    ],
)
def test_a_post_without_a_valid_signature_is_refused(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any, signed: str | None
) -> None:
    response = post(django_capture_on_commit_callbacks, any_body(), signed=signed)

    assert response.status_code == 403
    assert response.content == b"Forbidden."
    assert events() == []
    assert Ticket.objects.count() == 0


def test_a_body_changed_after_signing_is_refused(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    body = any_body()
    tampered = body.replace(b"Hello", b"Hallo")

    response = post(django_capture_on_commit_callbacks, tampered, signed=signature(body))

    assert response.status_code == 403
    assert events() == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(
            b'{"object": "whatsapp_business_account", "entry": [', "Not JSON", id="cut off"
        ),
        pytest.param(b"\xff\xfe not utf-8", "Not JSON", id="not UTF-8"),
        pytest.param(b"[]", "Not a JSON object", id="a list"),
        pytest.param(
            b'{"object": "page", "entry": []}', "Not a WhatsApp notification", id="Messenger"
        ),
        pytest.param(
            b'{"object": "whatsapp_business_account", "entry": {"id": "1"}}',
            "entry is not a list",
            id="entry not a list",
        ),
        pytest.param(
            encode(
                notification(change_value(messages=[{"from": "5511987654321", "type": "text"}]))
            ),
            "A message has no id",
            id="message without id",
        ),
        pytest.param(
            encode(notification(change_value(statuses=[{"id": "wamid.X"}]))),
            "A status has no id or no status",
            id="status without status",
        ),
    ],
)
def test_a_signed_body_that_is_not_a_notification_answers_400(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any, body: bytes, reason: str
) -> None:
    response = post(django_capture_on_commit_callbacks, body)

    assert response.status_code == 400
    assert reason in response.content.decode()
    assert events() == []


def test_a_body_over_the_limit_answers_413(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    body = (
        b'{"object":"whatsapp_business_account","entry":[],"pad":"' + b"x" * MAX_BODY_BYTES + b'"}'
    )

    response = post(django_capture_on_commit_callbacks, body)

    assert response.status_code == 413
    assert events() == []


def test_a_body_at_the_limit_is_read(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    head = b'{"object":"whatsapp_business_account","entry":[],"pad":"'
    body = head + b"x" * (MAX_BODY_BYTES - len(head) - 2) + b'"}'
    assert len(body) == MAX_BODY_BYTES

    response = post(django_capture_on_commit_callbacks, body)

    assert response.status_code == 200
    assert len(events()) == 1


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"slug": "someone-else"}, id="unknown slug"),
        pytest.param({"is_active": False}, id="inactive"),
        pytest.param({"kind": "telegram", "address": "shopbot"}, id="not WhatsApp"),
        pytest.param(
            {"credentials": {"verify_token": VERIFY_TOKEN, "phone_number_id": PHONE_NUMBER_ID}},
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
    make_account(support_team, **overrides)

    response = post(django_capture_on_commit_callbacks, any_body())
    get = handshake()

    assert (response.status_code, get.status_code) == (404, 404)
    assert response.content == b"Not found."
    assert events() == []


def test_other_methods_answer_405(account: ChannelAccount) -> None:
    response = Client().put(URL, data=any_body(), content_type="application/json")

    assert response.status_code == 405


def test_a_database_outage_answers_503_so_meta_retries(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    def refuse_writes(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("INSERT"):
            raise OperationalError("could not write: disk I/O error")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_writes):
        response = post(django_capture_on_commit_callbacks, any_body())

    assert response.status_code == 503
    assert events() == []


def test_an_unknown_message_type_is_stored_as_a_message_that_says_so(
    account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """A type we do not know is still the customer writing: it is stored as a message that
    tells the agent, rather than refused (Meta would retry it for a week) or dropped."""
    body = encode(
        notification(
            change_value(
                messages=[
                    message("poll", {"question": "Which colour?"}),
                    message(
                        "unsupported",
                        errors=[
                            {
                                "code": 131051,
                                "title": "Message type unknown",
                                "message": "Message type unknown",
                                "error_data": {
                                    "details": "Message type is currently not supported."
                                },
                            }
                        ],
                    ),
                ]
            )
        )
    )

    response = post(django_capture_on_commit_callbacks, body)

    assert response.status_code == 200
    assert list(Message.objects.order_by("pk").values_list("text", flat=True)) == [
        "[The customer sent a WhatsApp message of type 'poll', which cannot be shown here.] "
        "Ask them to send it again as text or a photo if it matters.",
        "[The customer sent a WhatsApp message of type 'unsupported', which cannot be shown "
        "here: Message type unknown: Message type is currently not supported. (code 131051).] "
        "Ask them to send it again as text or a photo if it matters.",
    ]
    assert json.loads(bytes(events()[0].payload))["entry"][0]["id"]
