"""Outbound delivery end to end: a reply queued by the tickets service, the real delivery
task, the JSON test adapter and a fake provider that answers 200, 429, 500 or 400."""

# The fixtures come from adapters_for_tests, imported by name, which pytest then injects.
# ruff: noqa: F811

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.utils import timezone
from rest_framework.test import APIClient

from channels_inbox.models import ChannelAccount
from channels_inbox.services import store_inbound_event
from channels_inbox.tasks import (
    deliver_message_task,
    handle_events_task,
    sweep_queued_messages_task,
)
from customers.models import Customer
from helpdesk.celery import app as celery_app
from helpdesk.models import User
from tests.channels_inbox.adapters_for_tests import (  # noqa: F401 - fixtures
    FakeProvider,
    eager_celery,
    provider,
    sms_account,
)
from tests.tickets.api_support import url
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import (
    InboundMessage,
    OutboundAttachment,
    add_note,
    add_reply,
    claim_message_delivery,
    open_ticket,
    receive_message,
)

pytestmark = pytest.mark.django_db

ANA = "+4915112345678"


@pytest.fixture
def sms_ticket(sms_account: ChannelAccount) -> Ticket:
    message = receive_message(
        InboundMessage(
            channel="sms",
            sender_address=ANA,
            sender_name="Ana",
            text="Is my parcel on its way?",
            provider_message_id="sms-in-1",
        ),
        channel_account=sms_account,
    )
    return message.ticket


def reply(ticket: Ticket, agent: User, capture: Any, **options: Any) -> Message:
    """Queue a reply and run what its commit triggers (the delivery, in eager Celery)."""
    with capture(execute=True):
        message = add_reply(ticket, author=agent, text="It left our warehouse today.", **options)
    message.refresh_from_db()
    return message


def make_due(message: Message) -> None:
    Message.objects.filter(pk=message.pk).update(
        next_delivery_at=timezone.now() - timedelta(seconds=1)
    )


def failures(ticket: Ticket) -> list[dict[str, Any]]:
    return list(
        TicketActivity.objects.filter(
            ticket=ticket, verb=TicketActivity.Verb.DELIVERY_FAILED
        ).values_list("data", flat=True)
    )


def test_a_reply_is_sent_after_commit_and_stores_the_provider_id(
    sms_ticket: Ticket,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    message = reply(sms_ticket, agent, django_capture_on_commit_callbacks)

    assert (message.delivery_status, message.provider_message_id) == ("sent", "prov-1")
    assert (message.delivery_attempts, message.next_delivery_at, message.delivery_error) == (
        1,
        None,
        "",
    )
    assert provider.sent == [
        {
            "to": ANA,
            "to_name": "Ana",
            "ticket": sms_ticket.number,
            "subject": "Is my parcel on its way?",
            "text": "It left our warehouse today.",
            "thread": ["sms-in-1"],
            "attachments": [],
            "automatic": False,
        }
    ]


def test_a_reply_through_the_api_calls_the_provider_exactly_once(
    sms_ticket: Ticket,
    agent_client: APIClient,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            url("ticket-reply", sms_ticket.pk), {"text": "On its way."}, format="json"
        )

    assert response.status_code == 201
    assert [body["text"] for body in provider.sent] == ["On its way."]
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.delivery_status, message.provider_message_id) == ("sent", "prov-1")


def test_attachments_and_earlier_provider_ids_reach_the_adapter(
    sms_ticket: Ticket,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    reply(sms_ticket, agent, django_capture_on_commit_callbacks)

    reply(
        sms_ticket,
        agent,
        django_capture_on_commit_callbacks,
        attachments=[OutboundAttachment("label.pdf", "application/pdf", b"%PDF-1.7 label")],
    )

    second = provider.sent[1]
    assert second["thread"] == ["sms-in-1", "prov-1"]
    assert second["attachments"] == [{"name": "label.pdf", "type": "application/pdf", "size": 14}]


def test_a_server_error_schedules_a_retry_and_keeps_the_message_queued(
    sms_ticket: Ticket,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    provider.answer(500, b"internal error")
    before = timezone.now()

    message = reply(sms_ticket, agent, django_capture_on_commit_callbacks)

    assert (message.delivery_status, message.delivery_attempts) == ("queued", 1)
    assert message.delivery_error == "Provider error 500: internal error"
    assert message.next_delivery_at is not None
    assert before + timedelta(seconds=15) <= message.next_delivery_at
    assert message.next_delivery_at <= timezone.now() + timedelta(seconds=30)
    assert failures(sms_ticket) == []
    assert sweep_queued_messages_task() == 0  # the backoff has not passed

    make_due(message)
    assert sweep_queued_messages_task() == 1

    message.refresh_from_db()
    assert (message.delivery_status, message.delivery_attempts) == ("sent", 2)
    assert (message.provider_message_id, message.delivery_error) == ("prov-2", "")
    assert len(provider.sent) == 2


def test_a_rate_limit_is_retried_no_sooner_than_the_provider_asks(
    sms_ticket: Ticket,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    provider.answer(429, {"error": "too many"}, **{"Retry-After": "120"})
    before = timezone.now()

    message = reply(sms_ticket, agent, django_capture_on_commit_callbacks)

    assert message.delivery_status == "queued"
    assert message.delivery_error == 'Rate limited: {"error": "too many"}'
    assert message.next_delivery_at is not None
    assert before + timedelta(seconds=120) <= message.next_delivery_at
    assert message.next_delivery_at <= timezone.now() + timedelta(seconds=120)


def test_a_refusal_fails_the_message_with_the_reason_on_the_ticket(
    sms_ticket: Ticket,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    provider.answer(400, {"error": "not a mobile number"})

    message = reply(sms_ticket, agent, django_capture_on_commit_callbacks)

    error = 'Refused (400): {"error": "not a mobile number"}'
    assert (message.delivery_status, message.delivery_error) == ("failed", error)
    assert (message.delivery_attempts, message.next_delivery_at) == (1, None)
    assert failures(sms_ticket) == [{"message_id": message.pk, "error": error}]
    assert deliver_message_task(message.pk) == "skipped"
    assert sweep_queued_messages_task() == 0
    assert len(provider.sent) == 1


def test_transient_failures_stop_at_the_cap(
    sms_ticket: Ticket,
    agent: User,
    provider: FakeProvider,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.OUTBOUND_MAX_ATTEMPTS = 2
    provider.answer(502, b"bad gateway")
    provider.answer(502, b"bad gateway again")
    message = reply(sms_ticket, agent, django_capture_on_commit_callbacks)
    make_due(message)

    assert deliver_message_task(message.pk) == "failed"

    message.refresh_from_db()
    error = "Gave up after 2 attempts: Provider error 502: bad gateway again"
    assert (message.delivery_status, message.delivery_error) == ("failed", error)
    assert failures(sms_ticket) == [{"message_id": message.pk, "error": error}]


def test_an_unreachable_provider_is_a_transient_failure(
    sms_ticket: Ticket,
    sms_account: ChannelAccount,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    provider.close()

    message = reply(sms_ticket, agent, django_capture_on_commit_callbacks)

    assert message.delivery_status == "queued"
    assert message.delivery_error.startswith("Provider unreachable: ")
    assert message.next_delivery_at is not None


def test_the_sweep_sends_a_message_whose_task_was_lost(
    sms_ticket: Ticket,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks():  # the commit's enqueue is lost
        message = add_reply(sms_ticket, author=agent, text="Sorry for the wait.")
    assert sweep_queued_messages_task() == 0  # its own task may still be on its way

    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert sweep_queued_messages_task() == 1

    message.refresh_from_db()
    assert (message.delivery_status, message.provider_message_id) == ("sent", "prov-1")


def test_a_message_held_by_another_worker_is_skipped(
    sms_ticket: Ticket,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks():
        message = add_reply(sms_ticket, author=agent, text="Sorry for the wait.")
    assert claim_message_delivery(message.pk, until=timezone.now() + timedelta(minutes=5))

    assert deliver_message_task(message.pk) == "skipped"
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert sweep_queued_messages_task() == 0

    assert provider.sent == []
    message.refresh_from_db()
    assert (message.delivery_status, message.delivery_attempts) == ("queued", 1)


def test_a_ticket_without_channel_account_fails_its_reply(
    ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    error = "The ticket has no channel account to send through."
    assert (message.delivery_status, message.delivery_error) == ("failed", error)
    assert failures(ticket) == [{"message_id": message.pk, "error": error}]


def test_a_deactivated_account_fails_its_reply(
    sms_ticket: Ticket,
    sms_account: ChannelAccount,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ChannelAccount.objects.filter(pk=sms_account.pk).update(is_active=False)

    message = reply(sms_ticket, agent, django_capture_on_commit_callbacks)

    assert message.delivery_status == "failed"
    assert message.delivery_error == "The channel account shop-sms is deactivated."
    assert provider.sent == []


def test_a_customer_without_an_address_on_the_channel_fails_the_reply(
    sms_account: ChannelAccount,
    customer: Customer,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = open_ticket(customer=customer, channel="sms", channel_account=sms_account)

    message = reply(ticket, agent, django_capture_on_commit_callbacks)

    assert message.delivery_status == "failed"
    assert message.delivery_error == "The customer has no SMS address to send to."
    assert provider.sent == []


# --- Events and delivery reports ---------------------------------------------------------------


def test_only_queued_messages_are_handed_to_delivery(
    sms_ticket: Ticket, agent: User, provider: FakeProvider
) -> None:
    note = add_note(sms_ticket, author=agent, text="Customer is in a hurry.")
    customer_message = sms_ticket.messages.get(kind="customer")

    handle_events_task(
        [
            [
                "message.created",
                {"ticket_id": sms_ticket.pk, "message_id": note.pk, "kind": "note"},
            ],
            [
                "message.created",
                {"ticket_id": sms_ticket.pk, "message_id": customer_message.pk, "kind": "customer"},
            ],
            ["ticket.updated", {"ticket_id": sms_ticket.pk, "fields": ["status"]}],
        ]
    )

    assert provider.sent == []


def test_the_delivery_task_subscribes_to_queued_messages_only() -> None:
    """Customer messages, notes and ticket changes never cost a task on the broker."""
    assert handle_events_task.subscribed_events == frozenset({"message.queued"})


@pytest.mark.parametrize(
    "payload", [{}, {"ticket_id": 1, "message_id": "2"}, {"ticket_id": 1, "kind": "reply"}]
)
def test_a_malformed_event_is_ignored_with_a_warning(
    payload: dict[str, Any], caplog: pytest.LogCaptureFixture, provider: FakeProvider
) -> None:
    handle_events_task([["message.queued", payload]])

    assert "Ignoring a malformed event: ['message.queued'" in caplog.text
    assert provider.sent == []


def test_delivery_reports_move_the_message_forward_only(
    sms_ticket: Ticket,
    sms_account: ChannelAccount,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    message = reply(sms_ticket, agent, django_capture_on_commit_callbacks)
    reports = [
        ("evt-read", [{"id": "prov-1", "status": "read"}]),
        ("evt-late", [{"id": "prov-1", "status": "delivered"}]),
        ("evt-fail", [{"id": "prov-1", "status": "failed", "error": "30008"}]),
        ("evt-unknown", [{"id": "prov-999", "status": "delivered"}]),
    ]

    for external_id, statuses in reports:
        with django_capture_on_commit_callbacks(execute=True):
            store_inbound_event(
                sms_account,
                external_id=external_id,
                payload=json.dumps({"statuses": statuses}).encode(),
            )

    message.refresh_from_db()
    assert message.delivery_status == "read"
    assert failures(sms_ticket) == []
    assert set(sms_account.inbound_events.values_list("status", flat=True)) == {"processed"}


def test_a_failure_report_marks_a_sent_message_failed_on_the_ticket(
    sms_ticket: Ticket,
    sms_account: ChannelAccount,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    message = reply(sms_ticket, agent, django_capture_on_commit_callbacks)
    statuses = [{"id": "prov-1", "status": "failed", "error": "Unreachable handset"}]

    with django_capture_on_commit_callbacks(execute=True):
        store_inbound_event(
            sms_account, external_id="evt-1", payload=json.dumps({"statuses": statuses}).encode()
        )

    message.refresh_from_db()
    assert (message.delivery_status, message.delivery_error) == ("failed", "Unreachable handset")
    assert failures(sms_ticket) == [{"message_id": message.pk, "error": "Unreachable handset"}]


def test_an_unknown_delivery_status_fails_the_event(
    sms_ticket: Ticket,
    sms_account: ChannelAccount,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    message = reply(sms_ticket, agent, django_capture_on_commit_callbacks)
    statuses = [{"id": "prov-1", "status": "bounced"}]

    with django_capture_on_commit_callbacks(execute=True):
        event, _ = store_inbound_event(
            sms_account, external_id="evt-1", payload=json.dumps({"statuses": statuses}).encode()
        )

    event.refresh_from_db()
    assert (event.status, event.error) == ("failed", "Unknown delivery status 'bounced'.")
    message.refresh_from_db()
    assert message.delivery_status == "sent"


def test_with_a_broker_a_retry_is_also_enqueued_for_when_it_is_due(
    sms_ticket: Ticket,
    agent: User,
    provider: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The row says when; the broker message with a countdown is the fast path to it."""
    with django_capture_on_commit_callbacks():
        message = add_reply(sms_ticket, author=agent, text="Sorry for the wait.")
    provider.answer(500, b"down")
    published: list[tuple[str, str, list[Any]]] = []

    def record(sender: str, headers: dict[str, Any], body: Any, **kwargs: Any) -> None:
        published.append((sender, headers["eta"], list(body[0])))

    celery_app.conf.update(task_always_eager=False)
    before_task_publish.connect(record)
    try:
        assert deliver_message_task(message.pk) == "queued"
    finally:
        before_task_publish.disconnect(record)
        celery_app.conf.update(task_always_eager=True)

    message.refresh_from_db()
    assert message.next_delivery_at is not None
    [(task_name, eta, args)] = published
    assert (task_name, args) == ("channels_inbox.deliver_message_task", [message.pk])
    assert abs(datetime.fromisoformat(eta) - message.next_delivery_at) < timedelta(seconds=2)
