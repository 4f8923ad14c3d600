"""The demo's automation settings: seeded through the services, once, without touching the
seeded tickets or sending anything."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from automation.models import (
    AutoAcknowledgement,
    BusinessHours,
    Macro,
    Rule,
    SlaPolicy,
    TeamRouting,
)
from demo.automation import seed_automation
from helpdesk.models import Team, User
from tickets.models import Message, Ticket, TicketActivity

pytestmark = pytest.mark.django_db

SMALL = {"customers": 8, "tickets": 12}


@pytest.fixture
def demo() -> User:
    call_command("seed_demo", **SMALL, stdout=StringIO())
    return User.objects.get(username="admin")


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (BusinessHours, SlaPolicy, Macro, AutoAcknowledgement, Rule, TeamRouting)
    }


def test_seed_demo_configures_automation(demo: User) -> None:
    hours = BusinessHours.objects.get(name="Harbor & Pine support")
    assert hours.time_zone == "Europe/Berlin"
    assert (hours.holiday_country, hours.holiday_subdivision) == ("DE", "BE")
    assert hours.weekly_hours["monday"] == [["09:00", "18:00"]]
    assert hours.weekly_hours["saturday"] == [["10:00", "14:00"]]
    assert "sunday" not in hours.weekly_hours

    policies = list(SlaPolicy.objects.order_by("position"))
    assert [policy.name for policy in policies] == ["Urgent", "VIP customers", "Standard"]
    urgent, vip, standard = policies
    assert urgent.priorities == ["urgent"]
    assert (urgent.first_response_minutes, urgent.next_response_minutes) == (30, 60)
    assert urgent.resolution_minutes == 8 * 60
    assert vip.customer_tags == ["vip"]
    assert (vip.first_response_minutes, vip.resolution_minutes) == (60, 24 * 60)
    assert (standard.priorities, standard.customer_tags) == ([], [])
    assert standard.resolution_minutes == 3 * 24 * 60
    for policy in policies:
        assert policy.business_hours == hours
        assert sorted(policy.pause_statuses) == ["on_hold", "pending"]
        assert policy.warning_minutes == 30

    shared = Macro.objects.filter(owner=None)
    assert 5 <= shared.count() <= 6
    assert "{{ order.tracking_url }}" in shared.get(name="Where is my order?").body
    assert all(macro.has_actions() for macro in shared)
    assert Macro.objects.filter(owner__username="maya").count() == 1

    ack = AutoAcknowledgement.objects.get()
    assert ack.channel_account.kind == "email"
    assert ack.enabled
    assert ack.business_hours == hours
    assert "{{ expected_reply }}" in ack.body
    assert (ack.expected_reply_minutes, ack.period_hours) == (240, 24)

    active = set(Rule.objects.filter(active=True).values_list("name", flat=True))
    assert active == {
        "Tag refund requests",
        "Urgent: damaged items",
        "VIP to VIP & Wholesale",
        "Remind: pending for 3 days",
    }
    webhook = Rule.objects.get(active=False)
    assert webhook.actions == [{"type": "webhook", "url": "https://example.com/hooks/switchboard"}]
    vip_rule = Rule.objects.get(name="VIP to VIP & Wholesale")
    assert vip_rule.actions[0]["team"] == Team.objects.get(slug="vip-wholesale").pk

    # Routing is prepared but off: turning it on would hand out the seeded queue.
    assert not TeamRouting.objects.exclude(mode=TeamRouting.Mode.OFF).exists()
    support = TeamRouting.objects.get(team__slug="support")
    assert support.escalation_team == Team.objects.get(slug="vip-wholesale")


def test_seeding_again_creates_nothing_and_sends_nothing(demo: User) -> None:
    counts = _counts()
    outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND).count()
    activities = TicketActivity.objects.count()
    assignees = dict(Ticket.objects.values_list("pk", "assignee_id"))

    assert seed_automation(demo) == 0

    assert _counts() == counts
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == outbound
    assert TicketActivity.objects.count() == activities
    assert dict(Ticket.objects.values_list("pk", "assignee_id")) == assignees


def test_seed_on_an_existing_demo_sends_nothing_and_leaves_tickets_alone(demo: User) -> None:
    """An existing demo without automation (seeded before this existed) gets all of it,
    and its tickets are not assigned, re-tagged or answered."""
    for model in (AutoAcknowledgement, Rule, SlaPolicy, Macro, TeamRouting, BusinessHours):
        model.objects.all().delete()
    outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND).count()
    activities = TicketActivity.objects.count()
    assignees = dict(Ticket.objects.values_list("pk", "assignee_id"))
    unassigned = Ticket.objects.filter(assignee=None).count()

    created = seed_automation(demo)

    assert created == 1 + 3 + 7 + 1 + 5 + 3
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == outbound
    assert TicketActivity.objects.count() == activities
    assert dict(Ticket.objects.values_list("pk", "assignee_id")) == assignees
    assert Ticket.objects.filter(assignee=None).count() == unassigned
    assert seed_automation(demo) == 0


def test_an_edited_object_is_left_as_it_is(demo: User) -> None:
    policy = SlaPolicy.objects.get(name="Standard")
    policy.first_response_minutes = 99
    policy.save()
    Macro.objects.filter(name="Close with thanks").delete()

    assert seed_automation(demo) == 1

    policy.refresh_from_db()
    assert policy.first_response_minutes == 99
    assert Macro.objects.filter(name="Close with thanks", owner=None).exists()
