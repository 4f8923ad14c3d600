"""Macros: validation at save, visibility, and what applying one does to a ticket."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from automation.macros.services import apply_macro, preview_macro, save_macro, visible_macros
from automation.models import Macro
from customers.models import Order
from helpdesk.models import Team, User
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import TicketError, tag_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped_macro(db: None) -> Macro:
    return save_macro(
        Macro(
            name="Order shipped",
            body="Hi {{ customer.first_name }}, order {{ order.number }} is on its way: "
            "{{ order.tracking_url }}. {{ agent.name }}",
            set_status=Ticket.Status.PENDING,
            set_priority=Ticket.Priority.LOW,
            add_tags=["Shipping ", "shipping", "wismo"],
            remove_tags=["urgent"],
            assign=Macro.Assign.ME,
        )
    )


def test_save_normalizes_tags(shipped_macro: Macro) -> None:
    shipped_macro.refresh_from_db()
    assert shipped_macro.add_tags == ["shipping", "wismo"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"body": "{{ customer.email }}"}, "body", "“{{ customer.email }}” is not a variable"),
        ({"body": "{% load static %}"}, "body", "tags ({% … %}) are not allowed"),
        ({"add_tags": "refund"}, "add_tags", "A list of tag names."),
        ({"add_tags": ["x" * 51]}, "add_tags", "longer than 50 characters"),
        ({"add_tags": ["a"], "remove_tags": ["A"]}, "remove_tags", "both added and removed: a"),
        ({"assign": Macro.Assign.AGENT}, "assign_agent", "Choose the agent"),
        ({"set_status": "archived"}, "set_status", "not a valid choice"),
    ],
)
def test_bad_macros_are_refused_at_save(fields: dict, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        save_macro(Macro(name="Bad", **fields))

    assert message in " ".join(raised.value.message_dict[field])
    assert not Macro.objects.exists()


def test_shared_names_are_unique_personal_names_per_owner(agent: User, teammate: User) -> None:
    save_macro(Macro(name="Thanks"))
    save_macro(Macro(name="Thanks", owner=agent))
    save_macro(Macro(name="Thanks", owner=teammate))

    with pytest.raises(ValidationError):
        save_macro(Macro(name="Thanks"))
    with pytest.raises(ValidationError):
        save_macro(Macro(name="Thanks", owner=agent))


def test_an_agent_sees_shared_and_own_macros_only(agent: User, teammate: User, admin: User) -> None:
    shared = save_macro(Macro(name="Shared"))
    bobs = save_macro(Macro(name="Bob's", owner=agent))
    carols = save_macro(Macro(name="Carol's", owner=teammate))

    assert set(visible_macros(agent)) == {shared, bobs}
    assert set(visible_macros(teammate)) == {shared, carols}
    assert set(visible_macros(admin)) == {shared}


def test_preview_shows_body_and_actions_and_changes_nothing(
    ticket: Ticket, order: Order, agent: User, shipped_macro: Macro
) -> None:
    before = TicketActivity.objects.filter(ticket=ticket).count()

    preview = preview_macro(ticket, shipped_macro, actor=agent)

    assert preview.body == ("Hi Ana, order #1001 is on its way: https://track.test/JD01. Bob Agent")
    assert preview.actions == [
        "Add tags: shipping, wismo",
        "Remove tags: urgent",
        "Set priority to Low",
        "Assign to Bob Agent (you)",
        "Set status to Pending",
    ]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_id) == ("new", "normal", None)
    assert TicketActivity.objects.filter(ticket=ticket).count() == before


def test_apply_runs_every_action_and_records_why(
    ticket: Ticket, order: Order, agent: User, shipped_macro: Macro
) -> None:
    tag_ticket(ticket, ["urgent"], actor=None)

    result = apply_macro(ticket, shipped_macro, actor=agent)

    fresh = Ticket.objects.get(pk=ticket.pk)
    assert result.body.startswith("Hi Ana, order #1001")
    assert result.message is None
    assert fresh.status == Ticket.Status.PENDING
    assert fresh.priority == Ticket.Priority.LOW
    assert fresh.assignee == agent
    assert sorted(fresh.tags.values_list("name", flat=True)) == ["shipping", "wismo"]
    assert not Message.objects.filter(ticket=ticket, direction="outbound").exists()
    activity = TicketActivity.objects.get(ticket=ticket, verb=TicketActivity.Verb.MACRO_APPLIED)
    assert activity.actor == agent
    assert activity.data["macro"] == {"id": shipped_macro.pk, "name": "Order shipped"}
    assert activity.data["summary"] == (
        "applied the macro “Order shipped”: add tags: shipping, wismo; remove tags: urgent; "
        "set priority to Low; assign to Bob Agent (you); set status to Pending"
    )
    shipped_macro.refresh_from_db()
    assert shipped_macro.usage_count == 1


def test_apply_with_send_queues_the_reply_before_the_status(
    ticket: Ticket, agent: User, teammate: User, returns_team: Team
) -> None:
    macro = save_macro(
        Macro(
            name="Solve",
            body="Done, {{ customer.first_name }}.",
            set_status=Ticket.Status.SOLVED,
            assign=Macro.Assign.AGENT,
            assign_agent=teammate,
            assign_team=returns_team,
        )
    )

    result = apply_macro(ticket, macro, actor=agent, send=True)

    assert result.message is not None
    assert result.message.text == "Done, Ana."
    assert result.message.author_agent == agent
    assert result.message.delivery_status == Message.DeliveryStatus.QUEUED
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.status, fresh.assignee, fresh.team) == ("solved", teammate, returns_team)


def test_unassign_action(ticket: Ticket, agent: User) -> None:
    apply_macro(ticket, save_macro(Macro(name="Mine", assign=Macro.Assign.ME)), actor=agent)
    apply_macro(ticket, save_macro(Macro(name="Drop", assign=Macro.Assign.UNASSIGN)), actor=agent)

    assert Ticket.objects.get(pk=ticket.pk).assignee is None


def test_a_refused_step_applies_nothing(ticket: Ticket, agent: User) -> None:
    """Closing first, then a macro that tags and closes: the ticket is closed, so the
    status step is refused and the tag is rolled back with it."""
    from tickets.services import change_status

    change_status(ticket, Ticket.Status.CLOSED, actor=agent)
    macro = save_macro(Macro(name="Tag", add_tags=["x"], set_status=Ticket.Status.OPEN))

    with pytest.raises(TicketError):
        apply_macro(ticket, macro, actor=agent)

    assert not Ticket.objects.get(pk=ticket.pk).tags.exists()
    macro.refresh_from_db()
    assert macro.usage_count == 0


def test_someone_else_s_personal_macro_cannot_be_applied(
    ticket: Ticket, agent: User, teammate: User
) -> None:
    carols = save_macro(Macro(name="Carol's", owner=teammate, add_tags=["x"]))

    with pytest.raises(TicketError, match="someone else's"):
        apply_macro(ticket, carols, actor=agent)
    with pytest.raises(TicketError, match="someone else's"):
        preview_macro(ticket, carols, actor=agent)

    assert not Ticket.objects.get(pk=ticket.pk).tags.exists()


def test_an_inactive_macro_cannot_be_applied(ticket: Ticket, agent: User) -> None:
    macro = save_macro(Macro(name="Off", is_active=False, add_tags=["x"]))

    with pytest.raises(TicketError, match="switched off"):
        apply_macro(ticket, macro, actor=agent)


def test_automation_applies_shared_macros_without_an_agent(ticket: Ticket) -> None:
    macro = save_macro(Macro(name="Tag it", add_tags=["auto"], assign=Macro.Assign.ME))

    result = apply_macro(ticket, macro, actor=None)

    assert list(result.ticket.tags.values_list("name", flat=True)) == ["auto"]
    assert result.ticket.assignee is None
    activity = TicketActivity.objects.get(ticket=ticket, verb=TicketActivity.Verb.MACRO_APPLIED)
    assert activity.actor is None
    assert activity.data["summary"] == "applied the macro “Tag it”: add tags: auto"


def test_automation_sends_a_macro_as_an_automatic_reply(
    ticket: Ticket, django_capture_on_commit_callbacks: object
) -> None:
    """Applied by a rule (no agent) with send: an automatic reply with no author."""
    macro = save_macro(Macro(name="Got it", body="Thanks {{ customer.first_name }}."))

    result = apply_macro(ticket, macro, actor=None, send=True)

    assert result.message is not None
    assert (result.message.text, result.message.author_agent) == ("Thanks Ana.", None)
    assert result.message.is_automated
    assert result.ticket.status == Ticket.Status.NEW


def test_send_without_text_is_refused(ticket: Ticket, agent: User) -> None:
    macro = save_macro(Macro(name="Tags only", add_tags=["x"]))

    with pytest.raises(TicketError, match="no text to send"):
        apply_macro(ticket, macro, actor=agent, send=True)

    assert not Ticket.objects.get(pk=ticket.pk).tags.exists()
