"""@mentions in internal notes: who a note's text names, and the agent's own mentions."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from helpdesk.models import User
from tickets.models import Message

# "@bob", "@ana.souza", "@j-r", "@ben+ops"; not "ana@example.com" (a word before the @).
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]{1,150})")
# A note naming more people than this is a list, not a mention; the rest are ignored.
MAX_MENTIONS = 20
MENTIONS_PAGE_SIZE = 50


def mentioned_handles(text: str) -> list[str]:
    """The usernames ``text`` @mentions, lower-cased, in order, without repeats (a full
    stop or hyphen that ends the sentence is not part of the name)."""
    handles: list[str] = []
    for match in MENTION.finditer(text):
        handle = match.group(1).rstrip(".-+").lower()
        if handle and handle not in handles:
            handles.append(handle)
    return handles[:MAX_MENTIONS]


def mentioned_agent_ids(text: str) -> list[int]:
    """The active agents ``text`` @mentions by username; unknown names are ignored."""
    handles = mentioned_handles(text)
    if not handles:
        return []
    query = Q()
    for handle in handles:
        query |= Q(username__iexact=handle)
    return list(
        User.objects.filter(query, is_active=True).order_by("pk").values_list("pk", flat=True)
    )


def mention_choices(agents: list[User]) -> list[dict[str, str]]:
    """What the note composer suggests after "@": every active agent."""
    return [{"username": agent.username, "name": agent.name} for agent in agents]


def mentions_of(user: User) -> QuerySet[Message]:
    """Notes that mention ``user``, newest first, with their tickets and authors."""
    return (
        Message.objects.filter(mentions=user, kind=Message.Kind.NOTE)
        .select_related("ticket", "author_agent")
        .order_by("-created_at", "-id")[:MENTIONS_PAGE_SIZE]
    )
