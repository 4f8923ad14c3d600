"""rules Celery tasks; automation.tasks imports this module so workers find them.

``deliver_rule_webhook_task`` posts a rule's webhook: the JSON body is signed with the
rule's secret (HMAC-SHA256 over ``<timestamp>.<body>``, sent as
``X-Switchboard-Signature: sha256=<hex>`` next to ``X-Switchboard-Timestamp``), and a
failure (connection error, timeout, non-2xx answer) is retried with exponential backoff
(30 s, 1 min, 2 min ... capped at 1 h) up to ``WEBHOOK_MAX_ATTEMPTS``: with a broker the retry
is enqueued with a countdown, and the periodic sweep sends any pending row whose
``next_attempt_at`` has passed (the only retry path under eager Celery, and what makes a
lost broker message harmless). The delivery row records each attempt; a delivered or failed
row is never sent again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.db.models import F, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

WEBHOOK_MAX_ATTEMPTS = 6
WEBHOOK_TIMEOUT_SECONDS = 10
SIGNATURE_HEADER = "X-Switchboard-Signature"
TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
SWEEP_BATCH = 200


def webhook_payload(rule_id: int, rule_name: str, ticket: Any, delivery_id: int) -> dict[str, Any]:
    customer = ticket.customer
    return {
        "event": "rule.fired",
        "delivery_id": delivery_id,
        "rule": {"id": rule_id, "name": rule_name},
        "ticket": {
            "id": ticket.pk,
            "number": ticket.number,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "channel": ticket.channel,
            "team_id": ticket.team_id,
            "assignee_id": ticket.assignee_id,
            "customer": {"id": customer.pk, "name": customer.name, "email": customer.email},
        },
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def backoff_seconds(attempt: int) -> int:
    return int(min(30 * 2 ** (attempt - 1), 3600))


def _enqueue_later(delivery_id: int, delay: int) -> None:
    """Hand the retry to the broker for ``delay`` seconds. Eager Celery would run it at once,
    before its backoff has passed; there the periodic sweep (``time_rules_task``) sends
    the row when it is due. A broker that cannot take it is no loss for the same reason."""
    if deliver_rule_webhook_task.app.conf.task_always_eager:
        return
    try:
        deliver_rule_webhook_task.apply_async(args=(delivery_id,), countdown=delay)
    except Exception:
        logger.warning("Could not schedule webhook %s; the sweep will", delivery_id)


@shared_task(name="automation.deliver_rule_webhook_task")
def deliver_rule_webhook_task(delivery_id: int) -> None:
    from automation.models import RuleWebhookDelivery

    pending = RuleWebhookDelivery.Status.PENDING
    now = timezone.now()
    # Claim the attempt with a conditional UPDATE: a delivered or failed row, one at its cap
    # or still backing off is left alone, so a repeated or parallel task sends nothing.
    # The lease (next_attempt_at) keeps the sweep away while this attempt runs.
    claimed = RuleWebhookDelivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk=delivery_id,
        status=pending,
        attempts__lt=WEBHOOK_MAX_ATTEMPTS,
    ).update(
        attempts=F("attempts") + 1,
        next_attempt_at=now + timedelta(seconds=WEBHOOK_TIMEOUT_SECONDS * 3),
    )
    if not claimed:
        return
    delivery = RuleWebhookDelivery.objects.select_related("rule").get(pk=delivery_id)
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (the URL is checked to be http(s))
        delivery.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Switchboard-Rules/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(delivery.rule.webhook_secret, timestamp, body),
        },
    )
    status: int | None = None
    error = ""
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as failure:
        status, error = failure.code, f"HTTP {failure.code}"
    except (urllib.error.URLError, OSError) as failure:
        error = f"{type(failure).__name__}: {failure}"[:500]
    if status is not None and 200 <= status < 300:
        RuleWebhookDelivery.objects.filter(pk=delivery_id).update(
            status=RuleWebhookDelivery.Status.DELIVERED,
            response_status=status,
            error="",
            next_attempt_at=None,
            delivered_at=timezone.now(),
        )
        return
    final = delivery.attempts >= WEBHOOK_MAX_ATTEMPTS
    delay = backoff_seconds(delivery.attempts)
    RuleWebhookDelivery.objects.filter(pk=delivery_id).update(
        response_status=status,
        error=error,
        status=RuleWebhookDelivery.Status.FAILED if final else pending,
        next_attempt_at=None if final else timezone.now() + timedelta(seconds=delay),
    )
    if final:
        logger.warning("Rule webhook %s failed for good: %s", delivery_id, error)
        return
    _enqueue_later(delivery_id, delay)


def sweep_rule_webhooks(now: datetime | None = None) -> int:
    """Send the pending deliveries that are due (a backoff that passed, a lost task)."""
    from automation.models import RuleWebhookDelivery

    now = now or timezone.now()
    due = list(
        RuleWebhookDelivery.objects.filter(
            status=RuleWebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for delivery_id in due:
        deliver_rule_webhook_task.delay(delivery_id)
    return len(due)


@shared_task(name="automation.time_rules_task")
def time_rules_task() -> int:
    """The rules area's periodic task (every minute): time-based rules, then the webhook
    deliveries whose retry is due."""
    from automation.rules.time_rules import run_time_rules

    fired = run_time_rules()
    sweep_rule_webhooks()
    return fired
