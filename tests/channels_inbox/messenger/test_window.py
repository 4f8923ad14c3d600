"""The messaging window as a pure function: 24 hours after the customer's last message,
then up to 7 days with the HUMAN_AGENT tag for an account allowed it, then nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from channels_inbox.meta_messaging.adapter import can_send_free_text, sending_policy
from channels_inbox.models import ChannelAccount

NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


def page(*, human_agent_tag: bool | None = None, is_active: bool = True) -> ChannelAccount:
    options = {} if human_agent_tag is None else {"human_agent_tag": human_agent_tag}
    return ChannelAccount(
        kind="messenger", name="Shop on Facebook", options=options, is_active=is_active
    )


@pytest.mark.parametrize(
    ("written", "allowed"),
    [
        pytest.param(NOW - timedelta(minutes=1), True, id="a minute ago"),
        pytest.param(NOW - timedelta(hours=23, minutes=59, seconds=59), True, id="just inside"),
        pytest.param(NOW - timedelta(hours=24), False, id="exactly 24 hours"),
        pytest.param(NOW - timedelta(days=3), False, id="days ago"),
        pytest.param(NOW + timedelta(seconds=30), True, id="clock skew"),
    ],
)
def test_free_text_is_allowed_for_24_hours_after_the_customers_message(
    written: datetime, allowed: bool
) -> None:
    result, reason = can_send_free_text(page(), written, NOW)

    assert result is allowed
    closes = written + timedelta(hours=24)
    if allowed:
        assert reason == f"Free text can be sent until {closes:%Y-%m-%d %H:%M} UTC."
    else:
        assert reason.startswith(
            f"The 24-hour messaging window closed at {closes:%Y-%m-%d %H:%M} UTC (24 hours "
            "after the customer's last message): nothing can be sent until the customer "
            "writes again."
        )


def test_with_the_human_agent_tag_a_reply_may_go_for_seven_days() -> None:
    written = NOW - timedelta(days=6, hours=23)

    policy = sending_policy(page(human_agent_tag=True), written, NOW)

    assert (policy.allowed, policy.tag) == (True, "HUMAN_AGENT")
    assert policy.reason == (
        "The 24-hour messaging window closed at 2026-02-24 16:30 UTC (24 hours after the "
        "customer's last message); a reply goes with the HUMAN_AGENT tag until 2026-03-02 "
        "16:30 UTC (7 days after it)."
    )


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        pytest.param(
            page(human_agent_tag=True),
            "The customer's last message is more than 7 days old: even with the HUMAN_AGENT "
            "tag (until 2026-03-02 15:30 UTC) nothing can be sent until the customer writes "
            "again.",
            id="tag allowed",
        ),
        pytest.param(
            page(human_agent_tag=False),
            "The 24-hour messaging window closed at 2026-02-24 15:30 UTC (24 hours after the "
            "customer's last message): nothing can be sent until the customer writes again.",
            id="tag not allowed",
        ),
    ],
)
def test_after_seven_days_nothing_can_be_sent(account: ChannelAccount, reason: str) -> None:
    assert can_send_free_text(account, NOW - timedelta(days=7), NOW) == (False, reason)


def test_inside_the_window_no_tag_is_used_even_when_allowed() -> None:
    policy = sending_policy(page(human_agent_tag=True), NOW - timedelta(hours=1), NOW)

    assert (policy.allowed, policy.tag) == (True, "")


def test_a_customer_who_never_wrote_cannot_be_messaged() -> None:
    assert can_send_free_text(page(human_agent_tag=True), None, NOW) == (
        False,
        "The customer has not written to this Messenger account yet: Messenger only lets a "
        "business answer people who wrote to it.",
    )


def test_a_deactivated_account_sends_nothing() -> None:
    assert can_send_free_text(page(is_active=False), NOW, NOW) == (
        False,
        "The Messenger account Shop on Facebook is deactivated.",
    )
