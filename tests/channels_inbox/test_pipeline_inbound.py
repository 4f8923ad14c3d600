"""The inbound pipeline end to end: a stored event, the real processing task, a real adapter
(tests/channels_inbox/adapters_for_tests.py) and a fake provider serving media."""

# The fixtures come from adapters_for_tests, imported by name, which pytest then injects.
# ruff: noqa: F811

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from automation.models import Rule
from automation.rules.engine import invalidate_rules
from automation.rules.services import save_rule
from channels_inbox import adapters, services
from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.services import claim_inbound_event, inbound_event_key, store_inbound_event
from channels_inbox.tasks import (
    BATCH_SIZE,
    HOLD_BACK_SECONDS,
    _slot_key,
    process_inbound_event_task,
    process_new_inbound_events_task,
    sweep_inbound_events_task,
)
from helpdesk.models import User
from tests.channels_inbox.adapters_for_tests import (  # noqa: F401 - fixtures
    FakeProvider,
    eager_celery,
    provider,
    sms_account,
)
from tests.helpdesk import event_tasks
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

ANA = "+4915112345678"


def payload(**data: Any) -> bytes:
    return json.dumps(data).encode()


def text_message(text: str = "Is my parcel on its way?", *, id: str = "sms-1") -> dict[str, Any]:
    return {"from": ANA, "name": "Ana", "text": text, "id": id}


def store(account: ChannelAccount, external_id: str, raw: bytes, capture: Any) -> InboundEvent:
    """Store an event and run what the commit triggers, as an entry point's request does."""
    with capture(execute=True):
        event, _created = store_inbound_event(account, external_id=external_id, payload=raw)
    event.refresh_from_db()
    return event


def make_due(event: InboundEvent) -> None:
    """Let the event's backoff pass."""
    InboundEvent.objects.filter(pk=event.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


# --- Storing ---------------------------------------------------------------------------------


def test_a_stored_event_keeps_the_raw_bytes_and_enqueues_processing_once(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """A repeated delivery returns the stored event, created False, and enqueues nothing."""
    raw = payload(messages=[text_message()])

    with django_capture_on_commit_callbacks() as callbacks:
        first, first_created = store_inbound_event(
            sms_account, external_id="evt-1", payload=raw, headers={"X-Signature": "abc"}
        )
        again, again_created = store_inbound_event(sms_account, external_id="evt-1", payload=raw)

    assert (first_created, again_created) == (True, False)
    assert again.pk == first.pk
    assert len(callbacks) == 1
    stored = InboundEvent.objects.get()
    assert bytes(stored.payload) == raw
    assert stored.headers == {"X-Signature": "abc"}
    assert (stored.status, stored.attempts, stored.next_attempt_at) == ("pending", 0, None)


def test_an_event_is_processed_after_commit(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    event = store(
        sms_account, "evt-1", payload(messages=[text_message()]), django_capture_on_commit_callbacks
    )

    assert (event.status, event.attempts, event.error) == ("processed", 1, "")
    assert event.next_attempt_at is None
    assert event.processed_at is not None
    message = Message.objects.get()
    assert (message.text, message.provider_message_id) == ("Is my parcel on its way?", "sms-1")
    assert message.channel_account == sms_account
    assert message.ticket.channel == "sms"


def test_a_redelivery_after_processing_creates_nothing(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    raw = payload(messages=[text_message()])
    store(sms_account, "evt-1", raw, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _event, created = store_inbound_event(sms_account, external_id="evt-1", payload=raw)

    assert created is False
    assert callbacks == []
    assert (InboundEvent.objects.count(), Message.objects.count(), Ticket.objects.count()) == (
        1,
        1,
        1,
    )


def test_the_same_external_id_on_another_account_is_another_event(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    other = ChannelAccount.objects.create(kind="sms", name="Other", slug="other-sms")

    with django_capture_on_commit_callbacks():
        _first, first_created = store_inbound_event(sms_account, external_id="evt-1", payload=b"{}")
        _second, second_created = store_inbound_event(other, external_id="evt-1", payload=b"{}")

    assert (first_created, second_created) == (True, True)


@pytest.mark.parametrize(
    ("external_id", "raw", "expected"),
    [
        ("", b"{}", "needs the provider's id"),
        ("   ", b"{}", "needs the provider's id"),
        ("evt-1", "{}", "raw bytes"),
        ("evt-1", None, "raw bytes"),
    ],
)
def test_bad_store_input_is_refused(
    sms_account: ChannelAccount, external_id: str, raw: Any, expected: str
) -> None:
    with pytest.raises(ValueError, match=expected):
        store_inbound_event(sms_account, external_id=external_id, payload=raw)

    assert InboundEvent.objects.count() == 0


def test_long_external_ids_that_share_a_prefix_stay_apart(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    prefix = "x" * 300

    with django_capture_on_commit_callbacks():
        first, _ = store_inbound_event(sms_account, external_id=prefix + "a", payload=b"{}")
        second, created = store_inbound_event(sms_account, external_id=prefix + "b", payload=b"{}")

    assert created is True
    assert first.pk != second.pk
    assert len(first.external_id) == 255
    assert first.external_id == inbound_event_key(prefix + "a")
    assert first.external_id.startswith("x" * 190)
    assert inbound_event_key("  evt-1 ") == "evt-1"


# --- Processing --------------------------------------------------------------------------------


def test_processing_an_event_twice_changes_nothing_more(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    event = store(
        sms_account, "evt-1", payload(messages=[text_message()]), django_capture_on_commit_callbacks
    )

    assert process_inbound_event_task(event.pk) == "skipped"

    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 1)
    assert Message.objects.count() == 1


def test_an_event_held_by_another_worker_is_skipped_until_its_lease_ends(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks():
        event, _ = store_inbound_event(
            sms_account, external_id="evt-1", payload=payload(messages=[text_message()])
        )
    assert claim_inbound_event(event.pk, until=timezone.now() + timedelta(minutes=5)) is True

    assert process_inbound_event_task(event.pk) == "skipped"
    assert Message.objects.count() == 0

    make_due(event)  # the other worker died; its lease ran out
    assert process_inbound_event_task(event.pk) == "processed"
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 2)
    assert Message.objects.count() == 1


def test_an_unreadable_payload_fails_for_good_with_the_reason(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    event = store(sms_account, "evt-1", b"\xff not json", django_capture_on_commit_callbacks)

    assert event.status == "failed"
    assert event.error.startswith("Not a JSON payload: ")
    assert (event.attempts, event.next_attempt_at) == (1, None)
    assert sweep_inbound_events_task() == 0
    assert Message.objects.count() == 0


def test_a_message_the_tickets_refuse_fails_the_event_and_saves_nothing_of_it(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """The event is processed in one transaction: the first message is not kept alone."""
    raw = payload(messages=[text_message(), text_message("  ", id="sms-2")])

    event = store(sms_account, "evt-1", raw, django_capture_on_commit_callbacks)

    assert (event.status, event.error) == ("failed", "The message has no text and no attachments.")
    assert event.next_attempt_at is None
    assert (Message.objects.count(), Ticket.objects.count()) == (0, 0)


def test_a_provider_outage_is_retried_with_backoff_until_it_works(
    sms_account: ChannelAccount, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    provider.answer(500, b"media store down")
    raw = payload(messages=[{**text_message(), "media_url": f"{provider.url}/media/1"}])
    before = timezone.now()

    event = store(sms_account, "evt-1", raw, django_capture_on_commit_callbacks)

    assert (event.status, event.attempts) == ("failed", 1)
    assert event.error == "Provider error 500: media store down"
    assert event.next_attempt_at is not None
    assert before + timedelta(seconds=15) <= event.next_attempt_at
    assert event.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    assert sweep_inbound_events_task() == 0  # not due yet

    make_due(event)
    assert sweep_inbound_events_task() == 1

    event.refresh_from_db()
    assert (event.status, event.attempts, event.error) == ("processed", 2, "")
    attachment = Message.objects.get().attachments.get()
    assert attachment.file.read() == b"bytes of /media/1"
    assert [path for _method, path, _body in provider.requests] == ["/media/1", "/media/1"]


def test_a_rate_limit_waits_as_long_as_the_provider_asks(
    sms_account: ChannelAccount, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    provider.answer(429, b"slow down", **{"Retry-After": "600"})
    raw = payload(messages=[{**text_message(), "media_url": f"{provider.url}/media/1"}])
    before = timezone.now()

    event = store(sms_account, "evt-1", raw, django_capture_on_commit_callbacks)

    assert event.status == "failed"
    assert event.next_attempt_at is not None
    assert before + timedelta(seconds=600) <= event.next_attempt_at
    assert event.next_attempt_at <= timezone.now() + timedelta(seconds=600)


def test_retries_stop_at_the_cap(
    sms_account: ChannelAccount,
    provider: FakeProvider,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.INBOUND_MAX_ATTEMPTS = 2
    provider.answer(503, b"busy")
    provider.answer(503, b"still busy")
    raw = payload(messages=[{**text_message(), "media_url": f"{provider.url}/media/1"}])
    event = store(sms_account, "evt-1", raw, django_capture_on_commit_callbacks)
    make_due(event)

    assert process_inbound_event_task(event.pk) == "failed"

    event.refresh_from_db()
    assert (event.status, event.attempts, event.next_attempt_at) == ("failed", 2, None)
    assert event.error == "Gave up after 2 attempts: Provider error 503: still busy"
    assert sweep_inbound_events_task() == 0


def test_an_unexpected_error_is_logged_and_retried(
    sms_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug (here: a message without a sender) may be fixed by the next deploy."""
    event = store(
        sms_account, "evt-1", payload(messages=[{"text": "hi"}]), django_capture_on_commit_callbacks
    )

    assert (event.status, event.error) == ("failed", "KeyError: 'from'")
    assert event.next_attempt_at is not None
    assert f"Processing inbound event {event.pk} failed" in caplog.text


def test_an_event_with_nothing_for_us_is_ignored_with_the_reason(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    event = store(
        sms_account, "evt-1", payload(ignore="A provider ping"), django_capture_on_commit_callbacks
    )

    assert (event.status, event.error) == ("ignored", "A provider ping")
    assert event.processed_at is not None
    assert Message.objects.count() == 0


def test_an_automated_message_with_no_conversation_opens_no_ticket(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    raw = payload(messages=[{**text_message("I am away until Monday."), "automated": True}])

    event = store(sms_account, "evt-1", raw, django_capture_on_commit_callbacks)

    assert event.status == "processed"
    assert (Ticket.objects.count(), Message.objects.count()) == (0, 0)


def test_an_automated_message_is_recorded_on_the_active_conversation(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    store(
        sms_account, "evt-1", payload(messages=[text_message()]), django_capture_on_commit_callbacks
    )
    raw = payload(messages=[{**text_message("Auto: got it", id="sms-2"), "automated": True}])

    event = store(sms_account, "evt-2", raw, django_capture_on_commit_callbacks)

    assert event.status == "processed"
    automated = Message.objects.get(provider_message_id="sms-2")
    assert automated.is_automated is True
    assert automated.ticket_id == Message.objects.get(provider_message_id="sms-1").ticket_id


def test_an_event_of_a_channel_without_adapter_fails_for_good(
    sms_account: ChannelAccount,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.delitem(adapters.ADAPTER_PATHS, "sms")

    event = store(
        sms_account, "evt-1", payload(messages=[text_message()]), django_capture_on_commit_callbacks
    )

    assert (event.status, event.error) == ("failed", "No channel adapter handles 'sms'.")
    assert event.next_attempt_at is None


# --- The sweep -------------------------------------------------------------------------------


def test_the_sweep_picks_up_an_event_whose_task_was_lost(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """Redis was down when the event arrived: stored, but its task never ran."""
    with django_capture_on_commit_callbacks():  # the commit's enqueue is lost
        event, _ = store_inbound_event(
            sms_account, external_id="evt-1", payload=payload(messages=[text_message()])
        )
    assert sweep_inbound_events_task() == 0  # its own task may still be on its way

    InboundEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    assert sweep_inbound_events_task() == 1

    event.refresh_from_db()
    assert event.status == "processed"
    assert Message.objects.count() == 1


def test_the_sweep_leaves_done_and_leased_events_alone(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    done = store(
        sms_account, "evt-1", payload(messages=[text_message()]), django_capture_on_commit_callbacks
    )
    with django_capture_on_commit_callbacks():
        leased, _ = store_inbound_event(sms_account, external_id="evt-2", payload=b"{}")
    claim_inbound_event(leased.pk, until=timezone.now() + timedelta(minutes=5))
    InboundEvent.objects.update(received_at=timezone.now() - timedelta(hours=1))

    assert sweep_inbound_events_task() == 0

    assert InboundEvent.objects.get(pk=done.pk).attempts == 1
    assert InboundEvent.objects.get(pk=leased.pk).attempts == 1


# --- New events in batches ---------------------------------------------------------------------


def test_new_events_are_processed_in_batches_until_none_is_left(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """One task takes a burst of new events oldest first, more than a batch, and gives its
    slot back when it finds nothing left."""
    with django_capture_on_commit_callbacks(execute=False):
        for number in range(BATCH_SIZE + 5):
            store_inbound_event(
                sms_account,
                external_id=f"evt-{number}",
                payload=payload(messages=[text_message(f"Message {number}", id=f"sms-{number}")]),
            )
    cache.add(_slot_key(0), 1)

    assert process_new_inbound_events_task(0) == BATCH_SIZE + 5

    assert set(InboundEvent.objects.values_list("status", "attempts")) == {("processed", 1)}
    texts = list(Message.objects.order_by("pk").values_list("text", flat=True))
    assert texts == [f"Message {number}" for number in range(BATCH_SIZE + 5)]
    assert Ticket.objects.count() == 1  # one conversation: each message continues it
    assert cache.get(_slot_key(0)) is None
    assert process_new_inbound_events_task(0) == 0


@pytest.mark.django_db(transaction=True)
def test_a_batch_reaches_automation_as_one_task_and_every_message_is_handled(
    sms_account: ChannelAccount, admin: User, settings: Any
) -> None:
    """Each message of a batch commits on its own; automation gets the batch's events in one
    task per batch, and handles every one of them."""
    settings.EVENT_CONSUMER_TASKS = [
        "tests.helpdesk.event_tasks.record_event_task",
        "automation.tasks.handle_events_task",
    ]
    save_rule(
        Rule(
            name="Tag SMS",
            trigger=Rule.Trigger.TICKET_CREATED,
            active=True,
            conditions={},
            actions=[{"type": "add_tags", "tags": ["batched"]}],
        ),
        actor=admin,
    )
    event_tasks.RECEIVED.clear()
    event_tasks.TASK_SIZES.clear()
    for slot in range(settings.INBOUND_BATCH_WORKERS):
        cache.add(_slot_key(slot), 1)  # busy: storing leaves the events to the task below
    try:
        for number in range(BATCH_SIZE + 5):
            message = {
                "from": f"+49151000{number:05d}",
                "text": f"Hi {number}",
                "id": f"s-{number}",
            }
            store_inbound_event(
                sms_account, external_id=f"evt-{number}", payload=payload(messages=[message])
            )
        cache.delete(_slot_key(0))
        cache.add(_slot_key(0), 1)

        assert process_new_inbound_events_task(0) == BATCH_SIZE + 5
    finally:
        cache.delete_many([_slot_key(slot) for slot in range(settings.INBOUND_BATCH_WORKERS)])
        invalidate_rules()

    # A new customer's message opens a ticket: ticket.created, then message.created, one
    # task per batch. The rule's tagging is one ticket.updated per ticket, each its own task:
    # automation changes tickets outside any batch, so that in the embedded setup (Celery
    # eager, as here) a rule's own changes reach the rules while it is still in progress.
    task_sizes = list(event_tasks.TASK_SIZES)
    assert task_sizes == [2 * BATCH_SIZE, *[1] * BATCH_SIZE, 2 * 5, *[1] * 5]
    created = [
        payload["ticket_id"] for name, payload in event_tasks.RECEIVED if name == "ticket.created"
    ]
    assert sorted(created) == sorted(Ticket.objects.values_list("pk", flat=True))
    tagged = Ticket.objects.filter(tags__name="batched").distinct().count()
    assert tagged == Ticket.objects.count() == BATCH_SIZE + 5


def store_new(account: ChannelAccount, items: list[dict[str, Any] | bytes]) -> None:
    """Store events, each holding one item (a message, or raw bytes as they are), for the
    batch task below rather than their own."""
    for number, item in enumerate(items):
        raw = item if isinstance(item, bytes) else payload(**item)
        store_inbound_event(account, external_id=f"evt-{number}", payload=raw)


def test_a_batch_saves_conversation_messages_together_and_the_rest_one_by_one(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """Status updates, unreadable payloads and messages the tickets refuse sit between runs
    of plain messages: each gets its own answer, and the messages keep their order."""
    with django_capture_on_commit_callbacks(execute=False):
        store_new(
            sms_account,
            [
                {"messages": [text_message("One", id="m-1")]},
                {"messages": [{"from": "+4915199999999", "text": "Two", "id": "m-2"}]},
                {"statuses": [{"id": "m-unknown", "status": "delivered"}]},
                {"messages": [text_message("Three", id="m-3")]},
                b"not json",
                {"messages": [text_message("Four", id="m-4")]},
                {"messages": [text_message("Five", id="m-5")]},
                {"messages": [text_message("", id="m-empty")]},
                {"messages": [text_message("Six", id="m-6")]},
            ],
        )
    cache.add(_slot_key(0), 1)

    assert process_new_inbound_events_task(0) == 9

    statuses = dict(InboundEvent.objects.values_list("external_id", "status"))
    assert statuses == {
        **{f"evt-{n}": "processed" for n in (0, 1, 2, 3, 5, 6, 8)},
        "evt-4": "failed",
        "evt-7": "failed",
    }
    assert InboundEvent.objects.get(external_id="evt-7").error == (
        "The message has no text and no attachments."
    )
    assert InboundEvent.objects.get(external_id="evt-4").error.startswith("Not a JSON payload")
    texts = list(Message.objects.order_by("pk").values_list("text", flat=True))
    assert texts == ["One", "Two", "Three", "Four", "Five", "Six"]
    assert Ticket.objects.count() == 2


def test_a_redelivered_message_in_a_batch_is_stored_once(
    sms_account: ChannelAccount,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same message under two event ids (a provider that retried with a new one): the
    run cannot be saved together, and one at a time the repeat finds the first copy."""
    with django_capture_on_commit_callbacks(execute=False):
        store_new(
            sms_account,
            [
                {"messages": [text_message("Hello", id="m-1")]},
                {"messages": [text_message("Anyone there?", id="m-2")]},
                {"messages": [text_message("Hello", id="m-1")]},
            ],
        )
    cache.add(_slot_key(0), 1)

    with caplog.at_level(logging.INFO, logger="channels_inbox.tasks"):
        assert process_new_inbound_events_task(0) == 3

    assert "Receiving 3 events together failed (IntegrityError" in caplog.text
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert list(Message.objects.order_by("pk").values_list("provider_message_id", flat=True)) == [
        "m-1",
        "m-2",
    ]


def test_in_process_a_task_carries_on_past_its_turn(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    """Under eager Celery automation has already run after each batch, so the task threads
    the whole backlog itself rather than nesting a continuation per turn."""
    settings.INBOUND_BATCHES_PER_TASK = 1
    with django_capture_on_commit_callbacks(execute=False):
        for number in range(2 * BATCH_SIZE + 1):
            store_inbound_event(
                sms_account,
                external_id=f"evt-{number}",
                payload=payload(messages=[text_message(f"Message {number}", id=f"sms-{number}")]),
            )
    cache.add(_slot_key(0), 1)

    assert process_new_inbound_events_task(0) == 2 * BATCH_SIZE + 1

    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert cache.get(_slot_key(0)) is None


def test_batches_leave_retries_and_leased_events_to_their_own_tasks(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        waiting, held, _new = (
            store_inbound_event(sms_account, external_id=name, payload=payload(messages=[]))[0]
            for name in ("backing-off", "held", "new")
        )
    services.fail_inbound_event(
        waiting.pk, error="Timeout.", retry_at=timezone.now() + timedelta(minutes=1)
    )
    assert claim_inbound_event(held.pk, until=timezone.now() + timedelta(minutes=5))

    assert process_new_inbound_events_task(0) == 1

    statuses = dict(InboundEvent.objects.values_list("external_id", "status"))
    assert statuses == {"backing-off": "failed", "held": "pending", "new": "processed"}


def test_storing_takes_a_free_slot_and_processes_at_once(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    event = store(
        sms_account, "evt-1", payload(messages=[text_message()]), django_capture_on_commit_callbacks
    )

    assert event.status == "processed"
    assert cache.get(_slot_key(0)) is None


def test_when_every_slot_is_busy_storing_enqueues_nothing(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    """The tasks holding the slots take the new event on their next look."""
    settings.INBOUND_BATCH_WORKERS = 2
    for slot in range(2):
        cache.add(_slot_key(slot), 1)
    try:
        event = store(
            sms_account,
            "evt-1",
            payload(messages=[text_message()]),
            django_capture_on_commit_callbacks,
        )
        assert event.status == "pending"

        assert process_new_inbound_events_task(1) == 1
    finally:
        cache.delete_many([_slot_key(0), _slot_key(1)])
    event.refresh_from_db()
    assert event.status == "processed"


def test_a_reply_whose_thread_is_in_another_workers_batch_waits_for_it(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """The first message is still held by another worker when the reply's batch runs: the
    reply waits once, then continues the first message's ticket instead of opening one."""
    with django_capture_on_commit_callbacks(execute=False):
        store_new(
            sms_account,
            [
                {"messages": [text_message("My order", id="m-1") | {"starts_conversation": True}]},
                {
                    "messages": [
                        text_message("About my order", id="m-2")
                        | {"starts_conversation": True, "references": ["m-1"]}
                    ]
                },
            ],
        )
    first, reply = InboundEvent.objects.order_by("pk")
    assert claim_inbound_event(first.pk, until=timezone.now() + timedelta(minutes=5))
    cache.add(_slot_key(0), 1)

    assert process_new_inbound_events_task(0) == 1

    reply.refresh_from_db()
    assert reply.status == "pending"
    assert reply.next_attempt_at is not None
    waited = reply.next_attempt_at - timezone.now()
    assert timedelta(seconds=1) < waited <= timedelta(seconds=HOLD_BACK_SECONDS)
    assert not Message.objects.exists()
    # The other worker finishes; the reply's wait ends.
    InboundEvent.objects.filter(pk__in=[first.pk, reply.pk]).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert process_inbound_event_task(first.pk) == "processed"
    assert process_inbound_event_task(reply.pk) == "processed"
    one, two = Message.objects.order_by("pk")
    assert two.ticket_id == one.ticket_id
    assert two.threading_reason == "references"


def test_a_reply_to_a_message_nobody_has_does_not_wait(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    """With no older event still on its way, nothing can bring the thread: the reply opens
    its own ticket at once, alongside the batch's other messages."""
    with django_capture_on_commit_callbacks(execute=False):
        store_new(
            sms_account,
            [
                {"messages": [text_message("Hello", id="m-1")]},
                {
                    "messages": [
                        text_message("Re: an old mail", id="m-2")
                        | {"from": "+4915199999999", "references": ["m-unknown"]}
                    ]
                },
            ],
        )
    cache.add(_slot_key(0), 1)

    assert process_new_inbound_events_task(0) == 2

    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert list(Message.objects.order_by("pk").values_list("threading_reason", flat=True)) == [
        "new_conversation",
        "new_conversation",
    ]
