"""The inbound and outbound pipeline's Celery tasks.

The rows are the source of truth, not the broker: an ``InboundEvent`` or a queued ``Message``
carries its own attempts, error and the earliest time it may be tried again
(``next_attempt_at`` / ``next_delivery_at``: a lease while a worker holds it, the backoff
after a failure). Each task claims its row with a conditional UPDATE, so running it twice or
on several workers at once does the work once; the sweeps re-enqueue whatever a lost broker
message, a dead worker or a Redis outage left behind.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from channels_inbox import services
from channels_inbox.adapters import ChannelError, ParseResult, get_adapter

# Imported so Celery registers them: autodiscovery (worker, beat and the embedded scheduler
# alike) imports only <app>.tasks.
from channels_inbox.email.tasks import poll_imap_account_task, poll_imap_task  # noqa: F401
from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.pipeline import RecipientMissingError, build_outbound_message, retry_delay
from helpdesk.cache import RedisCache
from helpdesk.events import (
    EventConsumerTask,
    MessageQueued,
    delivered_together,
    events_from_payloads,
)
from tickets.models import Message
from tickets.services import (
    TicketError,
    apply_status_update,
    claim_message_delivery,
    mark_message_failed,
    mark_message_sent,
    receive_message,
    receive_messages_together,
    receives_together,
    record_automated_message,
    record_sent_elsewhere,
    references_found,
    schedule_delivery_retry,
)

logger = logging.getLogger(__name__)

# Longer than any adapter's network timeout, so a lease never runs out under a live worker
# (which would let a second one send the same message).
INBOUND_LEASE = timedelta(minutes=5)
DELIVERY_LEASE = timedelta(minutes=5)
# A new row's own task is normally on its way; the sweep leaves it that long before
# assuming the enqueue was lost. Longer would delay recovery after a Redis outage; shorter
# would re-enqueue a backlog that workers simply have not reached yet (harmless, as the
# claim lets one run through, but wasted broker traffic).
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_BATCH = 500


def _enqueue_later(task: Any, item_id: int, delay: float) -> None:
    """Hand the retry to the broker for ``delay`` seconds from now. Eager Celery would run it
    at once, before its backoff has passed; there the embedded scheduler's sweep picks the
    row up when it is due. A broker that cannot take it is no loss for the same reason."""
    if task.app.conf.task_always_eager:
        return
    try:
        task.apply_async(args=(item_id,), countdown=delay)
    except Exception:
        logger.warning("Could not schedule %s(%s); the sweep will", task.name, item_id)


# --- Inbound -------------------------------------------------------------------------------


def _save_parsed(account: ChannelAccount, result: ParseResult) -> None:
    for inbound in result.messages:
        if inbound.sent_elsewhere:
            record_sent_elsewhere(inbound, channel_account=account)
        elif not inbound.is_automated:
            receive_message(inbound, channel_account=account)
        elif (
            # Auto-replies and bounces are recorded on their ticket and never reopen one;
            # one that belongs to no ticket is dropped, unless the account has it opened.
            record_automated_message(inbound, channel_account=account) is None
            and account.options.get("automated_mail_opens_tickets") is True
        ):
            # Still flagged automated: it opens the ticket, but nothing answers it.
            receive_message(inbound, channel_account=account)
    for update in result.statuses:
        apply_status_update(
            account,
            provider_message_id=update.provider_message_id,
            status=update.status,
            error=update.error,
            occurred_at=update.occurred_at,
        )


def _inbound_failed(
    event: InboundEvent, error: str, *, permanent: bool, retry_after: float | None
) -> str:
    max_attempts = settings.INBOUND_MAX_ATTEMPTS
    if permanent:
        services.fail_inbound_event(event.pk, error=error, retry_at=None)
    elif event.attempts >= max_attempts:
        services.fail_inbound_event(
            event.pk, error=f"Gave up after {event.attempts} attempts: {error}", retry_at=None
        )
    else:
        delay = retry_delay(event.attempts, retry_after=retry_after)
        services.fail_inbound_event(
            event.pk, error=error, retry_at=timezone.now() + timedelta(seconds=delay)
        )
        _enqueue_later(process_inbound_event_task, event.pk, delay)
    return InboundEvent.Status.FAILED


@shared_task(name="channels_inbox.process_inbound_event_task")
def process_inbound_event_task(event_id: int) -> str:
    """Parse a stored event and thread what it holds; returns the event's status, or
    "skipped" when there was nothing to claim (done, held by another worker, backing off).
    Retries, the sweep and reprocessing come this way; new events usually arrive in a
    batch through ``process_new_inbound_events_task``."""
    if not services.claim_inbound_event(event_id, until=timezone.now() + INBOUND_LEASE):
        return "skipped"
    event = InboundEvent.objects.select_related("channel_account").get(pk=event_id)
    return _process_claimed(event)


def _process_claimed(event: InboundEvent, parsed: ParseResult | None = None) -> str:
    """A permanent ChannelError or a message the tickets refuse (TicketError) fails the
    event for good; a transient ChannelError and an unexpected exception (a deadlock, a
    full disk, a bug the next deploy fixes) are retried with backoff up to
    INBOUND_MAX_ATTEMPTS. ``parsed``: what the adapter already made of the event."""
    account = event.channel_account
    try:
        result = parsed if parsed is not None else get_adapter(account.kind).parse(account, event)
        with transaction.atomic():
            _save_parsed(account, result)
            ignored = "" if result.messages or result.statuses else result.ignored_reason
            return services.finish_inbound_event(event.pk, ignored_reason=ignored)
    except Exception as error:
        return _processing_failed(event, error)


def _processing_failed(event: InboundEvent, error: Exception) -> str:
    if isinstance(error, ChannelError):
        return _inbound_failed(
            event, str(error), permanent=error.permanent, retry_after=error.retry_after
        )
    if isinstance(error, TicketError):
        return _inbound_failed(event, str(error), permanent=True, retry_after=None)
    logger.error("Processing inbound event %s failed", event.pk, exc_info=error)
    return _inbound_failed(
        event, f"{type(error).__name__}: {error}", permanent=False, retry_after=None
    )


# New events are processed in batches by at most INBOUND_BATCH_WORKERS tasks at a time, one
# per "slot" (a cache key that says the slot's task is queued or running). Storing an event
# takes a free slot if there is one and enqueues its task; a task gives its slot back when
# it finds nothing left. A burst of mail then costs a handful of tasks instead of one each,
# and a quiet mailbox still gets each mail processed at once. Chat messages of a batch are
# saved together, so its fixed costs (claiming, automation's reads of its configuration,
# the statements of receive_messages_together) are shared by up to this many messages.
BATCH_SIZE = 100
# Longer than a batch takes; a slot whose worker died frees itself after this.
BATCH_SLOT_TIMEOUT = 120


def _slot_key(slot: int) -> str:
    return f"inbound-batch-slot:{slot}"


def _taken_slots(keys: list[str]) -> set[str]:
    """Which of the slot ``keys`` are taken, in one round trip."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return set(backend.get_many(keys))
    # Called after every stored event: a bare MGET, where get_many unpickles values whose
    # presence is all that counts. On the primary, as cache.add() and delete() use: a
    # replica may lag behind them.
    values = backend.client(write=True).mget([backend.make_key(key) for key in keys])
    return {key for key, value in zip(keys, values, strict=True) if value is not None}


def request_inbound_processing() -> None:
    """Have new events processed soon: called once an event's storing has committed."""
    keys = [_slot_key(slot) for slot in range(settings.INBOUND_BATCH_WORKERS)]
    # One look at every slot first: in a burst they are all taken, and each add() would be
    # a round trip of its own.
    taken = _taken_slots(keys)
    for slot, key in enumerate(keys):
        if key not in taken and cache.add(key, 1, timeout=BATCH_SLOT_TIMEOUT):
            try:
                process_new_inbound_events_task.delay(slot)
            except Exception:
                # The sweep takes the event once its grace has passed.
                cache.delete(key)
                logger.exception("Could not enqueue inbound processing")
            return


@shared_task(name="channels_inbox.process_new_inbound_events_task")
def process_new_inbound_events_task(slot: int) -> int:
    """Process new events, a batch at a time, until none is left or the task has had its
    turn; returns how many it processed."""
    key = _slot_key(slot)
    processed = 0
    batches = 0
    try:
        while True:
            if batches >= settings.INBOUND_BATCHES_PER_TASK:
                if _continue_later(slot):
                    return processed
                batches = 0  # carrying on: the next turn ends after as many batches again
            batches += 1
            claimed = services.claim_new_inbound_events(
                limit=BATCH_SIZE, until=timezone.now() + INBOUND_LEASE
            )
            if not claimed:
                # Give the slot back before the last look: an event stored after that look
                # finds the slot free and starts a task of its own.
                cache.delete(key)
                claimed = services.claim_new_inbound_events(
                    limit=BATCH_SIZE, until=timezone.now() + INBOUND_LEASE
                )
                if not claimed:
                    return processed
                cache.add(key, 1, timeout=BATCH_SLOT_TIMEOUT)
            else:
                cache.touch(key, timeout=BATCH_SLOT_TIMEOUT)
            events = InboundEvent.objects.filter(pk__in=claimed).select_related("channel_account")
            # Automation gets what the batch committed as one task.
            with delivered_together():
                processed += _process_batch(list(events.order_by("pk")))
    except BaseException:
        # Claimed events keep their lease; the sweep hands them on when it runs out.
        cache.delete(key)
        raise


def _process_batch(events: list[InboundEvent]) -> int:
    """Process claimed events in order. Runs of events holding only conversation messages
    (nearly every chat, SMS and messenger webhook) are saved together in one transaction;
    anything else, and a run that cannot be saved together, one event at a time, each
    committed on its own so that one bad message never takes the others back."""
    run: list[tuple[InboundEvent, ParseResult]] = []
    batch = {event.pk for event in events}
    for event in events:
        account = event.channel_account
        try:
            result = get_adapter(account.kind).parse(account, event)
        except Exception as error:
            _save_together(run, batch)
            run = []
            _processing_failed(event, error)
            continue
        if (
            result.messages
            and not result.statuses
            and all(receives_together(inbound) for inbound in result.messages)
        ):
            run.append((event, result))
            continue
        _save_together(run, batch)
        run = []
        _process_claimed(event, result)
    _save_together(run, batch)
    return len(events)


# A reply whose thread is not stored yet waits this long, once, while older events of its
# account are still on their way (in another worker's batch): the mail it answers is most
# likely among them. Longer than a batch takes.
HOLD_BACK_SECONDS = 3.0


def _held_back(run: list[tuple[InboundEvent, ParseResult]], batch: set[int]) -> set[int]:
    """The events of ``run`` to process later: replies (messages with references) that find
    none of their thread, stored or earlier in the run, while an older event of their
    account is still pending outside ``batch``. Each event waits at most once."""
    replies = [
        event
        for event, result in run
        if event.attempts <= 1 and any(inbound.references for inbound in result.messages)
    ]
    if not replies:
        return set()
    oldest_pending = dict(
        InboundEvent.objects.filter(
            channel_account_id__in={event.channel_account_id for event in replies},
            status=InboundEvent.Status.PENDING,
            pk__lt=max(event.pk for event in replies),
        )
        .exclude(pk__in=batch)
        .values("channel_account_id")
        .annotate(oldest=Min("pk"))
        .values_list("channel_account_id", "oldest")
        .order_by()
    )
    if not oldest_pending:
        return set()
    held: set[int] = set()
    while True:
        # Again without what is held: a reply to a held message cannot find it either.
        kept = [(event, result) for event, result in run if event.pk not in held]
        pairs = [(event, inbound) for event, result in kept for inbound in result.messages]
        found = references_found([(inbound, event.channel_account) for event, inbound in pairs])
        now_held = held | {
            event.pk
            for (event, _), ok in zip(pairs, found, strict=True)
            if not ok
            and event.attempts <= 1
            and oldest_pending.get(event.channel_account_id, event.pk) < event.pk
        }
        if now_held == held:
            return held
        held = now_held


def _save_together(run: list[tuple[InboundEvent, ParseResult]], batch: set[int]) -> None:
    held = _held_back(run, batch)
    if held:
        delay = HOLD_BACK_SECONDS
        services.hold_back_inbound_events(held, until=timezone.now() + timedelta(seconds=delay))
        for event_id in held:
            _enqueue_later(process_inbound_event_task, event_id, delay)
        run = [(event, result) for event, result in run if event.pk not in held]
    if len(run) < 2:
        for event, result in run:
            _process_claimed(event, result)
        return
    try:
        with transaction.atomic():
            receive_messages_together(
                [
                    (inbound, event.channel_account)
                    for event, result in run
                    for inbound in result.messages
                ]
            )
            services.finish_inbound_events([event.pk for event, _ in run])
    except Exception as error:
        # Rolled back whole: a message the tickets refuse, a repeated delivery, a sender
        # or a merge another worker made meanwhile. One at a time knows every answer.
        logger.info(
            "Receiving %d events together failed (%s: %s); receiving them one at a time",
            len(run),
            type(error).__name__,
            error,
        )
        for event, result in run:
            _process_claimed(event, result)


def _continue_later(slot: int) -> bool:
    """Hand the slot to a new task at the back of the queue, behind what the batches so far
    enqueued (automation, deliveries): in a long burst every worker process would otherwise
    thread the whole backlog before a single acknowledgement, routing or SLA clock. False
    when the broker cannot take it; the caller then carries on itself."""
    if process_new_inbound_events_task.app.conf.task_always_eager:
        # Run in process, the continuation would nest one call deeper per turn, and
        # automation has already run after each batch.
        return False
    try:
        process_new_inbound_events_task.delay(slot)
    except Exception:
        logger.warning("Could not hand inbound slot %s on; its task carries on", slot)
        return False
    return True


# --- Outbound ------------------------------------------------------------------------------


def _delivery_failed(
    message: Message, error: str, *, permanent: bool, retry_after: float | None
) -> str:
    max_attempts = settings.OUTBOUND_MAX_ATTEMPTS
    if permanent:
        mark_message_failed(message.pk, error=error)
        return Message.DeliveryStatus.FAILED
    if message.delivery_attempts >= max_attempts:
        mark_message_failed(
            message.pk, error=f"Gave up after {message.delivery_attempts} attempts: {error}"
        )
        return Message.DeliveryStatus.FAILED
    delay = retry_delay(message.delivery_attempts, retry_after=retry_after)
    schedule_delivery_retry(
        message.pk, error=error, retry_at=timezone.now() + timedelta(seconds=delay)
    )
    _enqueue_later(deliver_message_task, message.pk, delay)
    return Message.DeliveryStatus.QUEUED


@shared_task(name="channels_inbox.deliver_message_task")
def deliver_message_task(message_id: int) -> str:
    """Send a queued outbound message through its channel's adapter; returns its delivery
    status, or "skipped" when there was nothing to claim (sent, failed, held by another
    worker, backing off)."""
    if not claim_message_delivery(message_id, until=timezone.now() + DELIVERY_LEASE):
        return "skipped"
    message = Message.objects.select_related("ticket__customer", "channel_account").get(
        pk=message_id
    )
    account = message.channel_account
    try:
        if account is None:
            raise ChannelError("The ticket has no channel account to send through.", permanent=True)
        if not account.is_active:
            raise ChannelError(
                f"The channel account {account.slug} is deactivated.", permanent=True
            )
        adapter = get_adapter(account.kind)
        outbound = build_outbound_message(message)
        result = adapter.send(account, outbound)
    except ChannelError as error:
        return _delivery_failed(
            message, str(error), permanent=error.permanent, retry_after=error.retry_after
        )
    except RecipientMissingError as error:
        return _delivery_failed(message, str(error), permanent=True, retry_after=None)
    except Exception as error:
        # Adapters wrap provider errors in ChannelError; anything else is a network error
        # they missed or a bug: retried, capped, and logged for the operator.
        logger.exception("Sending message %s failed", message_id)
        return _delivery_failed(
            message, f"{type(error).__name__}: {error}", permanent=False, retry_after=None
        )
    mark_message_sent(message_id, provider_message_id=result.provider_message_id)
    return Message.DeliveryStatus.SENT


@shared_task(
    name="channels_inbox.handle_events_task",
    base=EventConsumerTask,
    subscribed_events=frozenset({MessageQueued.name}),
)
def handle_events_task(items: list[Any]) -> None:
    """Subscribed to queued outbound messages (settings.EVENT_CONSUMER_TASKS): each is sent
    once the transaction that queued it has committed."""
    events, malformed = events_from_payloads(items)
    for item in malformed:
        logger.warning("Ignoring a malformed event: %r", item)
    for event in events:
        if isinstance(event, MessageQueued):
            deliver_message_task.delay(event.message_id)


# --- Sweeps --------------------------------------------------------------------------------


def _hand_over(task: Any, ids: list[int]) -> int:
    for item_id in ids:
        try:
            task.delay(item_id)
        except Exception:
            # Eager Celery runs the task right here; one bad row must not stop the sweep.
            logger.exception("Sweep could not hand %s to %s", item_id, task.name)
    return len(ids)


@shared_task(name="channels_inbox.sweep_inbound_events_task")
def sweep_inbound_events_task() -> int:
    """Re-enqueue events that are due: a retry whose backoff has passed, a lease a dead
    worker left, or a new event whose own task never ran (Redis was down when it
    arrived). Returns how many were handed over."""
    now = timezone.now()
    due = InboundEvent.objects.filter(
        Q(
            status__in=[InboundEvent.Status.PENDING, InboundEvent.Status.FAILED],
            next_attempt_at__lte=now,
        )
        | Q(
            status=InboundEvent.Status.PENDING,
            next_attempt_at__isnull=True,
            received_at__lte=now - SWEEP_GRACE,
        )
    )
    ids = list(due.order_by("received_at", "id").values_list("pk", flat=True)[:SWEEP_BATCH])
    return _hand_over(process_inbound_event_task, ids)


@shared_task(name="channels_inbox.sweep_queued_messages_task")
def sweep_queued_messages_task() -> int:
    """Re-enqueue queued outbound messages that are due (backoff passed, lease run out, or
    their own task lost); returns how many were handed over."""
    now = timezone.now()
    due = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, delivery_status=Message.DeliveryStatus.QUEUED
    ).filter(
        Q(next_delivery_at__lte=now)
        | Q(next_delivery_at__isnull=True, created_at__lte=now - SWEEP_GRACE)
    )
    ids = list(due.order_by("created_at", "id").values_list("pk", flat=True)[:SWEEP_BATCH])
    return _hand_over(deliver_message_task, ids)
