"""A worker's claim of new events reads only new events, however much history the table
keeps (PostgreSQL: the plan is the server's to choose, so it is read, not assumed)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.services import claim_new_inbound_events

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan"),
]

PROCESSED = 3_000
NEW = 300


def _plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(found for child in node.get("Plans", []) for found in _plan_nodes(child))]


def test_the_claim_skips_the_history_instead_of_reading_through_it(
    whatsapp_account: ChannelAccount,
) -> None:
    def event(number: int, status: str) -> InboundEvent:
        return InboundEvent(
            channel_account=whatsapp_account,
            external_id=f"wamid.{number}",
            payload=b"{}",
            status=status,
        )

    # History first, as in a table that has taken webhooks for a while.
    InboundEvent.objects.bulk_create(
        [event(number, InboundEvent.Status.PROCESSED) for number in range(PROCESSED)]
    )
    new = InboundEvent.objects.bulk_create(
        [event(PROCESSED + number, InboundEvent.Status.PENDING) for number in range(NEW)]
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {InboundEvent._meta.db_table}")

    with CaptureQueriesContext(connection) as queries:
        claimed = claim_new_inbound_events(limit=100, until=timezone.now() + timedelta(minutes=5))
    assert claimed == [row.pk for row in new[:100]]

    (select,) = [query["sql"] for query in queries if "SKIP LOCKED" in query["sql"]]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {select}")
        value = cursor.fetchone()[0]
        # EXPLAIN ANALYZE runs the SELECT again and locks the next hundred: undone.
        transaction.set_rollback(True)
    (plan,) = json.loads(value) if isinstance(value, str) else value
    nodes = _plan_nodes(plan["Plan"])
    assert "inbound_event_new" in {node.get("Index Name") for node in nodes}
    # Not one processed event read and thrown away on the way to the new ones.
    assert sum(node.get("Rows Removed by Filter", 0) for node in nodes) == 0
