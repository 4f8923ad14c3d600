"""The Telegram webhook as production runs it, outside any transaction: an update is stored by
one INSERT that commits on its own, its processing is requested at once, and a redelivery
is acknowledged without storing anything new."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.services import store_inbound_event
from channels_inbox.tasks import _slot_key
from tests.channels_inbox.telegram.conftest import SECRET, WEBHOOK_URL, message_update
from tickets.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


def post(update: dict[str, Any]) -> Any:
    return Client().post(
        WEBHOOK_URL,
        data=json.dumps(update).encode(),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )


@pytest.fixture
def slots_taken(settings: Any) -> Iterator[None]:
    """Every batch slot held, as in a burst: storing an event enqueues nothing."""
    keys = [_slot_key(slot) for slot in range(settings.INBOUND_BATCH_WORKERS)]
    for key in keys:
        cache.add(key, 1)
    yield
    cache.delete_many(keys)


def test_an_update_is_processed_without_any_transaction_to_commit(
    telegram_account: ChannelAccount,
) -> None:
    update = message_update(text="Where is order #1001?")

    response = post(update)

    assert response.status_code == 200
    [event] = InboundEvent.objects.all()
    assert event.status == InboundEvent.Status.PROCESSED
    [message] = Message.objects.all()
    assert message.text == "Where is order #1001?"


def test_a_redelivered_update_is_acknowledged_and_stores_nothing_new(
    telegram_account: ChannelAccount,
) -> None:
    update = message_update(text="Hello?")
    post(update)

    again = post(update)

    assert again.status_code == 200
    assert InboundEvent.objects.count() == 1
    assert Message.objects.count() == 1


def test_in_autocommit_storing_is_one_statement_and_a_repeat_two(
    telegram_account: ChannelAccount, slots_taken: None, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        event, created = store_inbound_event(
            telegram_account, external_id="902114553", payload=b'{"update_id": 902114553}'
        )

    with django_assert_num_queries(2):  # the INSERT refused, then the stored event read
        again, created_again = store_inbound_event(
            telegram_account, external_id="902114553", payload=b'{"update_id": 902114553}'
        )

    assert (created, created_again) == (True, False)
    assert again.pk == event.pk
    assert InboundEvent.objects.get().status == InboundEvent.Status.PENDING
