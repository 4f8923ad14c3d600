"""Outbound webhooks: a real local HTTP server receives signed JSON; failures are retried."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from automation.models import RuleWebhookDelivery
from automation.rules.tasks import (
    WEBHOOK_MAX_ATTEMPTS,
    backoff_seconds,
    deliver_rule_webhook_task,
    sweep_rule_webhooks,
)


@dataclass
class FakeReceiver:
    """Records every POST; answers the queued statuses in turn, then 200."""

    url: str
    answers: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[FakeReceiver]:
    state = FakeReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append({"headers": dict(self.headers), "body": body})
            status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/switchboard"
    yield state
    server.shutdown()
    server.server_close()


def _verify(secret: str, request: dict[str, Any]) -> bool:
    headers = request["headers"]
    expected = hmac.new(
        secret.encode(),
        headers["X-Switchboard-Timestamp"].encode() + b"." + request["body"],
        hashlib.sha256,
    ).hexdigest()
    return hmac.compare_digest(headers["X-Switchboard-Signature"], f"sha256={expected}")


def test_rule_posts_signed_json_for_the_ticket(
    make_rule: Any, make_ticket: Any, receiver: FakeReceiver
) -> None:
    rule = make_rule(name="Tell the ERP", actions=[{"type": "webhook", "url": receiver.url}])
    ticket = make_ticket(subject="Broken lamp")
    assert len(receiver.received) == 1
    request = receiver.received[0]
    assert _verify(rule.webhook_secret, request)
    payload = json.loads(request["body"])
    assert payload["event"] == "rule.fired"
    assert payload["rule"] == {"id": rule.pk, "name": "Tell the ERP"}
    assert payload["ticket"]["number"] == ticket.number
    assert payload["ticket"]["subject"] == "Broken lamp"
    delivery = RuleWebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)


def test_a_wrong_secret_does_not_verify(
    make_rule: Any, make_ticket: Any, receiver: FakeReceiver
) -> None:
    make_rule(actions=[{"type": "webhook", "url": receiver.url}])
    make_ticket()
    assert not _verify("another-rule's-secret", receiver.received[0])


def test_a_500_is_retried_after_its_backoff_until_it_succeeds(
    make_rule: Any, make_ticket: Any, receiver: FakeReceiver
) -> None:
    """500, then 200: the row waits out its backoff (30 s), the sweep sends it again with the
    same body, and it is delivered after 2 attempts."""
    receiver.answers = [500]
    make_rule(actions=[{"type": "webhook", "url": receiver.url}])
    make_ticket()
    delivery = RuleWebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.error) == ("pending", 1, "HTTP 500")
    assert delivery.next_attempt_at is not None
    with time_machine.travel(delivery.next_attempt_at - timedelta(seconds=1)):
        assert sweep_rule_webhooks() == 0
    assert len(receiver.received) == 1
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        assert sweep_rule_webhooks() == 1
    assert len(receiver.received) == 2
    assert receiver.received[0]["body"] == receiver.received[1]["body"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 2, 200)


def test_retries_stop_at_the_cap_and_the_row_fails(
    make_rule: Any, make_ticket: Any, receiver: FakeReceiver
) -> None:
    receiver.answers = [500] * 20
    make_rule(actions=[{"type": "webhook", "url": receiver.url}])
    make_ticket()
    for day in range(1, WEBHOOK_MAX_ATTEMPTS + 2):
        with time_machine.travel(timezone.now() + timedelta(days=day)):
            sweep_rule_webhooks()
    assert len(receiver.received) == WEBHOOK_MAX_ATTEMPTS
    delivery = RuleWebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.error) == (
        "failed",
        WEBHOOK_MAX_ATTEMPTS,
        "HTTP 500",
    )
    # A failed row is never sent again.
    deliver_rule_webhook_task.delay(delivery.pk)
    assert len(receiver.received) == WEBHOOK_MAX_ATTEMPTS


def test_backoff_is_exponential_and_capped() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_seconds(20) == 3600


def test_an_unreachable_receiver_is_recorded(make_rule: Any, make_ticket: Any) -> None:
    make_rule(actions=[{"type": "webhook", "url": "http://127.0.0.1:9/nothing-listens"}])
    make_ticket()
    delivery = RuleWebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, None)
    assert "Connection" in delivery.error or "refused" in delivery.error.lower()
