"""Agents working a ticket: replies, notes, assignment, status, priority, tags, orders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from channels_inbox.models import ChannelAccount
from customers.models import Customer, Order
from helpdesk.models import Team, User
from tickets.models import Message, Tag, Ticket, TicketActivity
from tickets.services import (
    InboundMessage,
    OutboundAttachment,
    TicketError,
    add_note,
    add_reply,
    assign_team,
    assign_ticket,
    change_priority,
    change_status,
    link_order,
    merge_tickets,
    normalize_tag_names,
    receive_message,
    tag_ticket,
    unassign_ticket,
    unlink_order,
    untag_ticket,
)

pytestmark = pytest.mark.django_db

Verb = TicketActivity.Verb


@pytest.fixture
def mail_ticket(email_account: ChannelAccount) -> Ticket:
    """A new, unassigned ticket from Ana on the support mailbox."""
    message = receive_message(
        InboundMessage(
            channel="email",
            sender_address="ana@example.com",
            sender_name="Ana Souza",
            subject="Broken lamp",
            text="It arrived broken.",
            starts_conversation=True,
        ),
        channel_account=email_account,
    )
    return message.ticket


def make_order(customer: Customer, number: str = "#1001") -> Order:
    return Order.objects.create(
        customer=customer,
        store="shop",
        external_id=number.strip("#"),
        number=number,
        placed_at=datetime(2025, 2, 1, tzinfo=UTC),
        currency="EUR",
        total=Decimal("49.90"),
    )


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """Everything a refused change must leave exactly as it was."""
    return {
        "ticket": Ticket.objects.values().get(pk=ticket.pk),
        "messages": list(Message.objects.values_list("id", "ticket_id")),
        "activities": list(TicketActivity.objects.values_list("id", flat=True)),
        "tags": list(ticket.tags.values_list("name", flat=True)),
        "orders": list(ticket.orders.values_list("id", flat=True)),
    }


def new_activities(ticket: Ticket, after: int) -> list[tuple[str, int | None, dict[str, Any]]]:
    return [
        (a.verb, a.actor_id, a.data) for a in ticket.activities.filter(id__gt=after).order_by("id")
    ]


def last_activity_id() -> int:
    return TicketActivity.objects.order_by("-id").values_list("id", flat=True).first() or 0


def ref(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.name}


# --- add_reply --------------------------------------------------------------------------------


def test_reply_is_queued_on_the_tickets_account_and_opens_the_ticket(
    mail_ticket: Ticket, email_account: ChannelAccount, agent: User
) -> None:
    """The first reply queues an outbound message, stamps the first response, assigns the
    unassigned ticket to its author and moves it from new to open."""
    start = last_activity_id()

    message = add_reply(mail_ticket, author=agent, text="Sorry! A new one is on its way.")

    assert message.direction == Message.Direction.OUTBOUND
    assert message.kind == Message.Kind.REPLY
    assert message.delivery_status == Message.DeliveryStatus.QUEUED
    assert message.delivery_updated_at is not None
    assert message.channel_account == email_account
    assert message.author_agent == agent
    assert message.author_customer is None
    assert message.text == "Sorry! A new one is on its way."
    ticket = Ticket.objects.get(pk=mail_ticket.pk)
    assert ticket.first_responded_at == message.delivery_updated_at
    assert ticket.last_agent_message_at == message.delivery_updated_at
    assert ticket.last_message_at == message.delivery_updated_at
    assert ticket.assignee == agent
    assert ticket.status == Ticket.Status.OPEN
    assert new_activities(ticket, start) == [
        (Verb.REPLIED, agent.pk, {"message_id": message.pk}),
        (Verb.ASSIGNED, agent.pk, {"before": None, "after": ref(agent)}),
        (Verb.STATUS_CHANGED, agent.pk, {"before": "new", "after": "open"}),
    ]


def test_second_reply_does_not_move_the_first_response(
    mail_ticket: Ticket, agent: User, teammate: User
) -> None:
    """first_responded_at is set once; a second author does not take the ticket over."""
    first = add_reply(mail_ticket, author=agent, text="First")
    start = last_activity_id()

    second = add_reply(mail_ticket, author=teammate, text="Second")

    ticket = Ticket.objects.get(pk=mail_ticket.pk)
    assert ticket.first_responded_at == first.delivery_updated_at
    assert ticket.last_agent_message_at == second.delivery_updated_at
    assert second.delivery_updated_at is not None
    assert first.delivery_updated_at is not None
    assert second.delivery_updated_at >= first.delivery_updated_at
    assert ticket.assignee == agent
    assert ticket.status == Ticket.Status.OPEN
    assert new_activities(ticket, start) == [(Verb.REPLIED, teammate.pk, {"message_id": second.pk})]


@pytest.mark.parametrize("status", ["pending", "on_hold", "solved"])
def test_reply_can_submit_the_ticket_as(mail_ticket: Ticket, agent: User, status: str) -> None:
    """ "Send and set pending / on hold / solved" in one step."""
    add_reply(mail_ticket, author=agent, text="Done", status=status)

    ticket = Ticket.objects.get(pk=mail_ticket.pk)
    assert ticket.status == status
    assert (ticket.solved_at is not None) == (status == "solved")
    assert ticket.activities.get(verb=Verb.STATUS_CHANGED).data == {
        "before": "new",
        "after": status,
    }


def test_reply_without_status_leaves_a_pending_ticket_pending(
    mail_ticket: Ticket, agent: User
) -> None:
    """Only new tickets are opened by a reply."""
    change_status(mail_ticket, "pending", actor=agent)

    add_reply(mail_ticket, author=agent, text="More info")

    assert Ticket.objects.get(pk=mail_ticket.pk).status == Ticket.Status.PENDING


def test_reply_keeps_the_current_assignee(mail_ticket: Ticket, agent: User, teammate: User) -> None:
    """Answering someone else's ticket does not steal it."""
    assign_ticket(mail_ticket, teammate, actor=agent)

    add_reply(mail_ticket, author=agent, text="Covering for Carol")

    assert Ticket.objects.get(pk=mail_ticket.pk).assignee == teammate


def test_reply_html_is_sanitized(mail_ticket: Ticket, agent: User) -> None:
    """Agents' HTML is cleaned like customers'."""
    message = add_reply(
        mail_ticket, author=agent, text="Hi", html='<b onmouseover="x()">Hi</b><script>1</script>'
    )

    assert message.html == "<b>Hi</b>"


@pytest.mark.parametrize("status", ["new", "closed", "bogus", ""])
def test_reply_with_an_invalid_status_is_refused(
    mail_ticket: Ticket, agent: User, status: str
) -> None:
    """A reply cannot close or renew a ticket, nor set a status that does not exist."""
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="cannot set the status"):
        add_reply(mail_ticket, author=agent, text="Hi", status=status)

    assert snapshot(mail_ticket) == before


@pytest.mark.parametrize(("text", "html"), [("", ""), ("  \n ", ""), ("", "  ")])
def test_empty_reply_is_refused(mail_ticket: Ticket, agent: User, text: str, html: str) -> None:
    """A reply needs something to say."""
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="needs text"):
        add_reply(mail_ticket, author=agent, text=text, html=html)

    assert snapshot(mail_ticket) == before


def test_reply_to_a_closed_ticket_is_refused(mail_ticket: Ticket, agent: User) -> None:
    """Closed tickets take no more replies, and nothing is written."""
    change_status(mail_ticket, "closed", actor=agent)
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="is closed"):
        add_reply(mail_ticket, author=agent, text="Hello?")

    assert snapshot(mail_ticket) == before


def test_reply_to_a_merged_ticket_is_refused(
    mail_ticket: Ticket, make_ticket: Callable[..., Ticket], agent: User
) -> None:
    """The conversation lives on in the target ticket; replies go there."""
    merge_tickets(mail_ticket, make_ticket(), actor=agent)
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="was merged"):
        add_reply(mail_ticket, author=agent, text="Hello?")

    assert snapshot(mail_ticket) == before


def test_reply_attachments_are_stored(mail_ticket: Ticket, agent: User) -> None:
    """Agents can attach files to a reply."""
    message = add_reply(
        mail_ticket,
        author=agent,
        text="Label attached",
        attachments=[OutboundAttachment("label.pdf", "application/pdf", b"%PDF label")],
    )

    attachment = message.attachments.get()
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "label.pdf",
        "application/pdf",
        10,
    )
    with attachment.file.open("rb") as handle:
        assert handle.read() == b"%PDF label"


def test_reply_with_an_oversized_attachment_is_refused_before_anything_is_stored(
    mail_ticket: Ticket, agent: User, settings: Any
) -> None:
    """An agent is told, and neither a message nor a file is left behind."""
    settings.MAX_ATTACHMENT_BYTES = 4
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match=r"Attachment refused: big.bin \(too large\)"):
        add_reply(
            mail_ticket,
            author=agent,
            text="See attached",
            attachments=[OutboundAttachment("big.bin", "application/octet-stream", b"12345")],
        )

    assert snapshot(mail_ticket) == before
    attachments_dir = settings.MEDIA_ROOT / "attachments"
    assert not attachments_dir.exists() or list(attachments_dir.rglob("*.bin")) == []


# --- add_note ---------------------------------------------------------------------------------


def test_note_is_internal_and_changes_nothing_customer_facing(
    mail_ticket: Ticket, agent: User
) -> None:
    """A note is never sent: no delivery status, no account, no first response, no status."""
    start = last_activity_id()

    note = add_note(mail_ticket, author=agent, text="Customer is a VIP", html="<i>VIP</i>")

    assert note.direction == Message.Direction.INTERNAL
    assert note.kind == Message.Kind.NOTE
    assert note.delivery_status == ""
    assert note.channel_account is None
    assert note.author_agent == agent
    assert note.html == "<i>VIP</i>"
    ticket = Ticket.objects.get(pk=mail_ticket.pk)
    assert ticket.status == Ticket.Status.NEW
    assert ticket.first_responded_at is None
    assert ticket.assignee is None
    assert ticket.last_agent_message_at is None
    assert new_activities(ticket, start) == [(Verb.NOTE_ADDED, agent.pk, {"message_id": note.pk})]


def test_note_on_a_closed_ticket_is_allowed(mail_ticket: Ticket, agent: User) -> None:
    """Agents may still write down what happened after closing."""
    change_status(mail_ticket, "closed", actor=agent)

    note = add_note(mail_ticket, author=agent, text="Refund booked")

    assert note.ticket_id == mail_ticket.pk


def test_empty_note_is_refused(mail_ticket: Ticket, agent: User) -> None:
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="needs text"):
        add_note(mail_ticket, author=agent, text=" ")

    assert snapshot(mail_ticket) == before


def test_note_on_a_merged_ticket_is_refused(
    mail_ticket: Ticket, make_ticket: Callable[..., Ticket], agent: User
) -> None:
    merge_tickets(mail_ticket, make_ticket(), actor=agent)
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="was merged"):
        add_note(mail_ticket, author=agent, text="x")

    assert snapshot(mail_ticket) == before


# --- Assignment -------------------------------------------------------------------------------


def test_assign_and_reassign_record_who_had_it(
    mail_ticket: Ticket, admin: User, agent: User, teammate: User
) -> None:
    start = last_activity_id()

    assign_ticket(mail_ticket, agent, actor=admin)
    ticket = assign_ticket(mail_ticket, teammate, actor=admin)

    assert ticket.assignee == teammate
    assert Ticket.objects.get(pk=mail_ticket.pk).assignee == teammate
    assert new_activities(ticket, start) == [
        (Verb.ASSIGNED, admin.pk, {"before": None, "after": ref(agent)}),
        (Verb.ASSIGNED, admin.pk, {"before": ref(agent), "after": ref(teammate)}),
    ]


def test_assigning_the_current_assignee_changes_nothing(
    mail_ticket: Ticket,
    agent: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    assign_ticket(mail_ticket, agent, actor=agent)
    before = snapshot(mail_ticket)

    with django_capture_on_commit_callbacks() as callbacks:
        assign_ticket(mail_ticket, agent, actor=agent)

    assert callbacks == []
    assert snapshot(mail_ticket) == before


def test_inactive_agent_cannot_take_a_ticket(
    mail_ticket: Ticket, admin: User, inactive_agent: User
) -> None:
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="deactivated"):
        assign_ticket(mail_ticket, inactive_agent, actor=admin)

    assert snapshot(mail_ticket) == before


def test_closed_ticket_cannot_be_assigned(mail_ticket: Ticket, agent: User) -> None:
    change_status(mail_ticket, "closed", actor=agent)
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="is closed"):
        assign_ticket(mail_ticket, agent, actor=agent)

    assert snapshot(mail_ticket) == before


def test_unassign(mail_ticket: Ticket, agent: User, admin: User) -> None:
    assign_ticket(mail_ticket, agent, actor=admin)
    start = last_activity_id()

    ticket = unassign_ticket(mail_ticket, actor=admin)

    assert ticket.assignee is None
    assert Ticket.objects.get(pk=mail_ticket.pk).assignee_id is None
    assert new_activities(ticket, start) == [
        (Verb.UNASSIGNED, admin.pk, {"before": ref(agent), "after": None})
    ]


def test_unassigning_an_unassigned_ticket_changes_nothing(
    mail_ticket: Ticket, admin: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    before = snapshot(mail_ticket)

    with django_capture_on_commit_callbacks() as callbacks:
        unassign_ticket(mail_ticket, actor=admin)

    assert callbacks == []
    assert snapshot(mail_ticket) == before


def test_assign_team_change_and_clear(
    mail_ticket: Ticket, admin: User, support_team: Team, returns_team: Team
) -> None:
    """The mailbox's default team comes first; moving and clearing are both recorded."""
    assert mail_ticket.team == support_team
    start = last_activity_id()

    assign_team(mail_ticket, returns_team, actor=admin)
    ticket = assign_team(mail_ticket, None, actor=admin)

    assert ticket.team is None
    assert Ticket.objects.get(pk=mail_ticket.pk).team_id is None
    support = {"id": support_team.pk, "name": "Support"}
    returns = {"id": returns_team.pk, "name": "Returns"}
    assert new_activities(ticket, start) == [
        (Verb.TEAM_CHANGED, admin.pk, {"before": support, "after": returns}),
        (Verb.TEAM_CHANGED, admin.pk, {"before": returns, "after": None}),
    ]


def test_assigning_the_same_team_changes_nothing(
    mail_ticket: Ticket,
    admin: User,
    support_team: Team,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    before = snapshot(mail_ticket)

    with django_capture_on_commit_callbacks() as callbacks:
        assign_team(mail_ticket, support_team, actor=admin)

    assert callbacks == []
    assert snapshot(mail_ticket) == before


# --- Status and priority ----------------------------------------------------------------------


def test_solving_stamps_solved_at_and_reopening_clears_it(mail_ticket: Ticket, agent: User) -> None:
    solved = change_status(mail_ticket, "solved", actor=agent)
    assert solved.solved_at is not None
    assert Ticket.objects.get(pk=mail_ticket.pk).solved_at == solved.solved_at

    reopened = change_status(mail_ticket, "open", actor=agent)

    assert reopened.status == Ticket.Status.OPEN
    assert Ticket.objects.get(pk=mail_ticket.pk).solved_at is None
    assert [a.data for a in reopened.activities.filter(verb=Verb.STATUS_CHANGED)] == [
        {"before": "new", "after": "solved"},
        {"before": "solved", "after": "open"},
    ]


def test_closing_a_solved_ticket_keeps_when_it_was_solved(mail_ticket: Ticket, agent: User) -> None:
    """Resolution time is measured to solved_at, so closing must not erase it."""
    solved_at = change_status(mail_ticket, "solved", actor=agent).solved_at

    closed = change_status(mail_ticket, "closed", actor=agent)

    row = Ticket.objects.get(pk=mail_ticket.pk)
    assert row.status == Ticket.Status.CLOSED
    assert row.solved_at == solved_at
    assert row.closed_at == closed.closed_at
    assert row.closed_at is not None


def test_closed_is_final(mail_ticket: Ticket, agent: User) -> None:
    """No status change leaves closed; a new customer message opens a follow-up instead."""
    change_status(mail_ticket, "closed", actor=agent)
    before = snapshot(mail_ticket)

    for status in ("open", "solved", "new"):
        with pytest.raises(TicketError, match="is closed"):
            change_status(mail_ticket, status, actor=agent)

    assert snapshot(mail_ticket) == before


@pytest.mark.parametrize("status", ["reopened", "OPEN", "", "deleted"])
def test_unknown_status_is_refused(mail_ticket: Ticket, agent: User, status: str) -> None:
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="Unknown status"):
        change_status(mail_ticket, status, actor=agent)

    assert snapshot(mail_ticket) == before


def test_setting_the_current_status_changes_nothing(
    mail_ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    before = snapshot(mail_ticket)

    with django_capture_on_commit_callbacks() as callbacks:
        change_status(mail_ticket, "new", actor=agent)

    assert callbacks == []
    assert snapshot(mail_ticket) == before


def test_change_priority(mail_ticket: Ticket, agent: User) -> None:
    start = last_activity_id()

    ticket = change_priority(mail_ticket, "urgent", actor=agent)

    assert Ticket.objects.get(pk=mail_ticket.pk).priority == "urgent"
    assert new_activities(ticket, start) == [
        (Verb.PRIORITY_CHANGED, agent.pk, {"before": "normal", "after": "urgent"})
    ]


@pytest.mark.parametrize("priority", ["critical", "URGENT", ""])
def test_unknown_priority_is_refused(mail_ticket: Ticket, agent: User, priority: str) -> None:
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="Unknown priority"):
        change_priority(mail_ticket, priority, actor=agent)

    assert snapshot(mail_ticket) == before


def test_same_priority_changes_nothing(
    mail_ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    before = snapshot(mail_ticket)

    with django_capture_on_commit_callbacks() as callbacks:
        change_priority(mail_ticket, "normal", actor=agent)

    assert callbacks == []
    assert snapshot(mail_ticket) == before


# --- Tags -------------------------------------------------------------------------------------


def test_tag_names_are_normalized() -> None:
    """Case and inner whitespace fold; blanks and repeats drop; order is kept."""
    assert normalize_tag_names(["  Refund ", "REFUND", "late \t delivery", "", "  ", "vip"]) == [
        "refund",
        "late delivery",
        "vip",
    ]


def test_a_single_string_is_one_tag() -> None:
    """A caller passing "refund" instead of ["refund"] gets one tag, not six letters."""
    assert normalize_tag_names("Refund") == ["refund"]


def test_tag_of_fifty_characters_is_accepted_and_longer_refused() -> None:
    assert normalize_tag_names(["a" * 50]) == ["a" * 50]
    with pytest.raises(TicketError, match="longer than 50 characters"):
        normalize_tag_names(["ok", "b" * 51])


def test_tagging_records_only_the_tags_really_added(mail_ticket: Ticket, agent: User) -> None:
    tag_ticket(mail_ticket, ["Refund"], actor=agent)
    start = last_activity_id()

    ticket = tag_ticket(mail_ticket, [" refund", "Late  Delivery", "late delivery"], actor=agent)

    assert sorted(ticket.tags.values_list("name", flat=True)) == ["late delivery", "refund"]
    assert new_activities(ticket, start) == [(Verb.TAGGED, agent.pk, {"tags": ["late delivery"]})]
    assert Tag.objects.count() == 2


def test_tagging_with_present_tags_writes_and_emits_nothing(
    mail_ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    tag_ticket(mail_ticket, ["refund"], actor=agent)
    before = snapshot(mail_ticket)

    with django_capture_on_commit_callbacks() as callbacks:
        tag_ticket(mail_ticket, ["REFUND", "  "], actor=agent)

    assert callbacks == []
    assert snapshot(mail_ticket) == before


def test_too_long_tag_refuses_the_whole_change(mail_ticket: Ticket, agent: User) -> None:
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="longer than 50"):
        tag_ticket(mail_ticket, ["fine", "x" * 51], actor=agent)

    assert snapshot(mail_ticket) == before
    assert Tag.objects.count() == 0


def test_tagging_a_merged_ticket_is_refused(
    mail_ticket: Ticket, make_ticket: Callable[..., Ticket], agent: User
) -> None:
    merge_tickets(mail_ticket, make_ticket(), actor=agent)
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="was merged"):
        tag_ticket(mail_ticket, ["vip"], actor=agent)

    assert snapshot(mail_ticket) == before


def test_untagging_records_only_the_tags_really_removed(mail_ticket: Ticket, agent: User) -> None:
    tag_ticket(mail_ticket, ["refund", "vip", "late"], actor=agent)
    start = last_activity_id()

    ticket = untag_ticket(mail_ticket, ["VIP", "Refund", "unknown"], actor=agent)

    assert list(ticket.tags.values_list("name", flat=True)) == ["late"]
    assert new_activities(ticket, start) == [(Verb.UNTAGGED, agent.pk, {"tags": ["refund", "vip"]})]
    assert Tag.objects.count() == 3


def test_untagging_absent_tags_writes_and_emits_nothing(
    mail_ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    before = snapshot(mail_ticket)

    with django_capture_on_commit_callbacks() as callbacks:
        untag_ticket(mail_ticket, ["refund"], actor=agent)

    assert callbacks == []
    assert snapshot(mail_ticket) == before


# --- Orders -----------------------------------------------------------------------------------


def test_link_and_unlink_an_order(mail_ticket: Ticket, agent: User) -> None:
    order = make_order(mail_ticket.customer)
    start = last_activity_id()

    link_order(mail_ticket, order, actor=agent)
    assert list(mail_ticket.orders.all()) == [order]
    ticket = unlink_order(mail_ticket, order, actor=agent)

    assert list(ticket.orders.all()) == []
    expected = {"order": {"id": order.pk, "number": "#1001"}}
    assert new_activities(ticket, start) == [
        (Verb.ORDER_LINKED, agent.pk, expected),
        (Verb.ORDER_UNLINKED, agent.pk, expected),
    ]
    assert Order.objects.filter(pk=order.pk).exists()


def test_linking_twice_and_unlinking_an_unlinked_order_change_nothing(
    mail_ticket: Ticket, agent: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    linked = make_order(mail_ticket.customer, "#1001")
    other = make_order(mail_ticket.customer, "#1002")
    link_order(mail_ticket, linked, actor=agent)
    before = snapshot(mail_ticket)

    with django_capture_on_commit_callbacks() as callbacks:
        link_order(mail_ticket, linked, actor=agent)
        unlink_order(mail_ticket, other, actor=agent)

    assert callbacks == []
    assert snapshot(mail_ticket) == before


def test_linking_an_order_to_a_merged_ticket_is_refused(
    mail_ticket: Ticket, make_ticket: Callable[..., Ticket], agent: User
) -> None:
    order = make_order(mail_ticket.customer)
    merge_tickets(mail_ticket, make_ticket(), actor=agent)
    before = snapshot(mail_ticket)

    with pytest.raises(TicketError, match="was merged"):
        link_order(mail_ticket, order, actor=agent)

    assert snapshot(mail_ticket) == before
