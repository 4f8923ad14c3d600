"""How the timeline cuts quoted text and words each activity."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.models import User
from tickets.models import Ticket, TicketActivity
from tickets.workspace.timeline import describe, split_quoted

Verb = TicketActivity.Verb


@pytest.mark.parametrize(
    ("text", "body", "quoted"),
    [
        ("Thanks, got it.", "Thanks, got it.", ""),
        (
            "Thanks!\n\nOn Mon, 2 Mar 2026 at 10:00, Shop <help@shop.test> wrote:\n> Shipped.",
            "Thanks!",
            "On Mon, 2 Mar 2026 at 10:00, Shop <help@shop.test> wrote:\n> Shipped.",
        ),
        ("Danke\nAm 2. März 2026 schrieb Shop <a@b.c>:\n> Hallo", "Danke", None),
        ("Merci\n\nLe lun. 2 mars 2026, Shop a écrit :\n> Bonjour", "Merci", None),
        ("Ok\n\n-----Original Message-----\nFrom: Shop", "Ok", None),
        ("Yes please.\n\n> Do you want a refund?\n> Or a new one?\n", "Yes please.", None),
        # A quote in the middle is part of the answer (inline replies).
        ("> Size?\nM please.\n", "> Size?\nM please.\n", ""),
        # Nothing but a quote: nothing is hidden.
        ("> only a quote", "> only a quote", ""),
    ],
)
def test_split_quoted(text: str, body: str, quoted: str | None) -> None:
    new, old = split_quoted(text)

    assert new == body
    if quoted is None:
        assert old
        assert (new + "\n" + old).replace("\n", "") in text.replace("\n", "")
    else:
        assert old == quoted


def activity(verb: str, actor: User | None = None, **data: Any) -> TicketActivity:
    return TicketActivity(
        ticket=Ticket(number=7),
        verb=verb,
        actor=actor,
        actor_id=getattr(actor, "pk", None),
        data=data,
    )


@pytest.mark.parametrize(
    ("verb", "data", "text", "number"),
    [
        (Verb.CREATED, {"channel": "whatsapp"}, "opened the ticket on WhatsApp", None),
        (
            Verb.ASSIGNED,
            {"after": {"id": 99, "name": "Carol"}},
            "assigned the ticket to Carol",
            None,
        ),
        (Verb.UNASSIGNED, {"before": {"id": 99, "name": "Carol"}}, "unassigned Carol", None),
        (
            Verb.TEAM_CHANGED,
            {"after": {"id": 1, "name": "Returns"}},
            "moved the ticket to Returns",
            None,
        ),
        (Verb.TEAM_CHANGED, {"after": None}, "removed the team", None),
        (
            Verb.STATUS_CHANGED,
            {"before": "open", "after": "on_hold"},
            "changed status Open → On hold",
            None,
        ),
        (
            Verb.PRIORITY_CHANGED,
            {"before": "low", "after": "urgent"},
            "changed priority Low → Urgent",
            None,
        ),
        (Verb.TAGGED, {"tags": ["refund", "vip"]}, "added tags refund, vip", None),
        (Verb.MERGED_INTO, {"target": {"id": 3, "number": 12}}, "merged this ticket into #12", 12),
        (
            Verb.SPLIT_FROM,
            {"source": {"id": 3, "number": 12}},
            "opened from a message split off #12",
            12,
        ),
        (Verb.FOLLOW_UP_OPENED, {"follow_up_of": 5}, "opened as a follow-up to #5", 5),
        (Verb.ORDER_LINKED, {"order": {"id": 1, "number": "#1042"}}, "linked order #1042", None),
        (
            Verb.MESSAGE_RECEIVED,
            {"attachments_refused": [{"name": "big.zip", "reason": "too large"}]},
            "refused attachments: big.zip (too large)",
            None,
        ),
        (Verb.MESSAGE_RECEIVED, {"message_id": 1}, "", None),
        # Unexpected data from an older row is worded, never a crash.
        (
            Verb.STATUS_CHANGED,
            {"before": "gone", "after": None},
            "changed status gone → None",
            None,
        ),
    ],
)
def test_describe(verb: str, data: dict[str, Any], text: str, number: int | None) -> None:
    assert describe(activity(verb, **data)) == (text, number)


def test_an_agent_who_assigns_themselves_took_the_ticket() -> None:
    bob = User(pk=5, username="bob")

    assert describe(activity(Verb.ASSIGNED, bob, after={"id": 5, "name": "Bob"})) == (
        "took the ticket",
        None,
    )
