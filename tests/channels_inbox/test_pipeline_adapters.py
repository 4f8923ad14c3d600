"""The adapter registry and the retry schedule the pipeline shares."""

from __future__ import annotations

from typing import Any

import pytest

from channels_inbox import adapters
from channels_inbox.adapters import ChannelError, get_adapter
from channels_inbox.pipeline import retry_delay
from tests.channels_inbox.adapters_for_tests import ADAPTER_PATH, JsonTestAdapter


def test_an_adapter_is_imported_once_and_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(adapters.ADAPTER_PATHS, "sms", ADAPTER_PATH)

    first = get_adapter("sms")

    assert isinstance(first, JsonTestAdapter)
    assert get_adapter("sms") is first


def test_email_is_registered() -> None:
    assert adapters.ADAPTER_PATHS["email"] == "channels_inbox.email.adapter.EmailAdapter"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (None, "No channel adapter handles 'sms'."),
        ("channels_inbox.no_such_module.Adapter", "cannot be imported"),
        ("tests.channels_inbox.adapters_for_tests.FakeProvider", "is not a ChannelAdapter"),
        ("tests.channels_inbox.adapters_for_tests.ADAPTER_PATH", "is not a ChannelAdapter"),
    ],
)
def test_a_kind_without_a_usable_adapter_is_a_permanent_error(
    monkeypatch: pytest.MonkeyPatch, path: str | None, message: str
) -> None:
    if path is None:
        monkeypatch.delitem(adapters.ADAPTER_PATHS, "sms", raising=False)
    else:
        monkeypatch.setitem(adapters.ADAPTER_PATHS, "sms", path)

    with pytest.raises(ChannelError, match=message) as raised:
        get_adapter("sms")

    assert raised.value.permanent is True


def test_channel_error_carries_permanence_and_the_providers_hint() -> None:
    error = ChannelError("slow down", permanent=False, retry_after=30.0)

    assert (str(error), error.permanent, error.retry_after) == ("slow down", False, 30.0)
    assert ChannelError("no", permanent=True).retry_after is None


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [
        (0, 15, 30),
        (1, 15, 30),
        (2, 30, 60),
        (3, 60, 120),
        (7, 960, 1920),
        (8, 1800, 3600),
        (50, 1800, 3600),
        (10_000, 1800, 3600),
    ],
)
def test_retry_delay_doubles_with_jitter_up_to_the_cap(attempts: int, low: int, high: int) -> None:
    delays = [retry_delay(attempts) for _ in range(200)]

    assert all(low <= delay <= high for delay in delays)
    assert len(set(delays)) > 1  # jittered


def test_retry_delay_follows_the_settings(settings: Any) -> None:
    settings.PIPELINE_RETRY_BASE_SECONDS = 2
    settings.PIPELINE_RETRY_MAX_DELAY_SECONDS = 10

    assert 1 <= retry_delay(1) <= 2
    assert 5 <= retry_delay(6) <= 10


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [(120.0, 120, 120), (1.0, 15, 30), (86_400.0, 3600, 3600), (None, 15, 30)],
)
def test_a_providers_retry_after_is_honoured_within_the_cap(
    retry_after: float | None, low: float, high: float
) -> None:
    assert low <= retry_delay(1, retry_after=retry_after) <= high
