"""``manage.py reprocess_inbound``: failed events come back once their cause is fixed."""

# The fixtures come from adapters_for_tests, imported by name, which pytest then injects.
# ruff: noqa: F811

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from channels_inbox import adapters
from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.services import claim_inbound_event, store_inbound_event
from tests.channels_inbox.adapters_for_tests import (  # noqa: F401 - fixtures
    ADAPTER_PATH,
    eager_celery,
    provider,
    sms_account,
)
from tickets.models import Message

pytestmark = pytest.mark.django_db

ANA = "+4915112345678"


def message_payload(number: int) -> bytes:
    return json.dumps(
        {"messages": [{"from": ANA, "text": f"Message {number}", "id": f"sms-{number}"}]}
    ).encode()


def store(account: ChannelAccount, number: int, capture: Any, *, raw: bytes | None = None) -> int:
    with capture(execute=True):
        event, _ = store_inbound_event(
            account, external_id=f"evt-{number}", payload=raw or message_payload(number)
        )
    return event.pk


def reprocess(*args: str) -> str:
    out = StringIO()
    call_command("reprocess_inbound", *args, stdout=out)
    return out.getvalue()


def statuses() -> dict[str, str]:
    return dict(InboundEvent.objects.values_list("external_id", "status"))


@pytest.fixture
def adapter_missing(sms_account: ChannelAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deploy that brings the channel's adapter has not happened yet."""
    monkeypatch.delitem(adapters.ADAPTER_PATHS, "sms")


def test_failed_events_succeed_once_the_cause_is_fixed(
    sms_account: ChannelAccount,
    adapter_missing: None,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = store(sms_account, 1, django_capture_on_commit_callbacks)
    second = store(sms_account, 2, django_capture_on_commit_callbacks)
    assert statuses() == {"evt-1": "failed", "evt-2": "failed"}
    monkeypatch.setitem(adapters.ADAPTER_PATHS, "sms", ADAPTER_PATH)  # the fix is deployed

    output = reprocess()

    assert output.splitlines() == [
        f"Event {first} (evt-1): processed",
        f"Event {second} (evt-2): processed",
        "Reprocessed 2 events: 2 processed.",
    ]
    assert statuses() == {"evt-1": "processed", "evt-2": "processed"}
    event = InboundEvent.objects.get(pk=first)
    assert (event.attempts, event.error, event.next_attempt_at) == (1, "", None)
    assert sorted(Message.objects.values_list("text", flat=True)) == ["Message 1", "Message 2"]


def test_an_event_that_still_fails_says_why(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    pk = store(sms_account, 1, django_capture_on_commit_callbacks, raw=b"<xml/>")

    output = reprocess()

    assert output.splitlines()[0].startswith(f"Event {pk} (evt-1): failed: Not a JSON payload: ")
    assert output.splitlines()[1] == "Reprocessed 1 events: 1 failed."
    assert InboundEvent.objects.get(pk=pk).attempts == 1


def test_reprocessing_a_processed_event_creates_nothing_twice(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    pk = store(sms_account, 1, django_capture_on_commit_callbacks)

    output = reprocess("--id", str(pk))

    assert output.splitlines() == [
        f"Event {pk} (evt-1): processed",
        "Reprocessed 1 events: 1 processed.",
    ]
    assert Message.objects.count() == 1


def test_ids_status_and_account_narrow_the_selection(
    sms_account: ChannelAccount,
    adapter_missing: None,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    other = ChannelAccount.objects.create(kind="sms", name="Other", slug="other-sms")
    first = store(sms_account, 1, django_capture_on_commit_callbacks)
    second = store(sms_account, 2, django_capture_on_commit_callbacks)
    store(other, 3, django_capture_on_commit_callbacks)
    monkeypatch.setitem(adapters.ADAPTER_PATHS, "sms", ADAPTER_PATH)

    reprocess("--id", str(first), "--status", "processed")
    assert statuses() == {"evt-1": "failed", "evt-2": "failed", "evt-3": "failed"}

    reprocess("--id", str(first), str(second), "--account", "other-sms")
    assert statuses() == {"evt-1": "failed", "evt-2": "failed", "evt-3": "failed"}

    reprocess("--status", "failed", "--account", "shop-sms")
    assert statuses() == {"evt-1": "processed", "evt-2": "processed", "evt-3": "failed"}


def test_an_event_a_worker_is_processing_is_left_to_it(
    sms_account: ChannelAccount, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks():
        event, _ = store_inbound_event(sms_account, external_id="evt-1", payload=message_payload(1))
    claim_inbound_event(event.pk, until=timezone.now() + timedelta(minutes=5))

    output = reprocess("--id", str(event.pk))

    assert output.splitlines() == [
        f"Left alone (a worker is processing them): {event.pk}.",
        "No inbound events to reprocess.",
    ]
    assert Message.objects.count() == 0


def test_nothing_to_reprocess_says_so(sms_account: ChannelAccount) -> None:
    assert reprocess() == "No inbound events to reprocess.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id", "999999"], "No inbound event with id 999999."),
        (["--account", "nope"], "No channel account with slug 'nope'."),
    ],
)
def test_unknown_ids_and_accounts_are_refused(
    sms_account: ChannelAccount, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        reprocess(*args)


@pytest.mark.parametrize("args", [["--status", "done"], ["--id", "x"]])
def test_malformed_options_are_refused(sms_account: ChannelAccount, args: list[str]) -> None:
    with pytest.raises(CommandError):
        reprocess(*args)
