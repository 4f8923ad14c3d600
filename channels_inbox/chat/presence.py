"""Who is there: whether a visitor has the chat open, and whether any agent is online.

A visitor counts as connected while at least one of their sockets is open (a counter in the
cache, one per visitor, shared by every process on Redis). Each socket adds one when it
connects and takes one away when it closes; the widget pings every
``VISITOR_PING_SECONDS``, which keeps the counter alive, so a process that dies with
sockets open leaves a count that runs out after ``VISITOR_PRESENCE_TTL`` instead of one that
stays forever. The chat adapter reads it to choose between the socket and email.
"""

from __future__ import annotations

from django.core.cache import cache

from channels_inbox.models import ChannelAccount
from helpdesk.models import User

VISITOR_PING_SECONDS = 25
VISITOR_PRESENCE_TTL = 90
# The widget asks on every page view and ping; agents change their availability rarely.
AGENTS_ONLINE_TTL = 15


def _visitor_key(visitor_id: str) -> str:
    return f"chat:visitor-sockets:{visitor_id}"


def visitor_connected(visitor_id: str) -> None:
    key = _visitor_key(visitor_id)
    if cache.add(key, 1, timeout=VISITOR_PRESENCE_TTL):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between the add and the incr
        cache.set(key, 1, timeout=VISITOR_PRESENCE_TTL)
    cache.touch(key, timeout=VISITOR_PRESENCE_TTL)


def visitor_still_connected(visitor_id: str) -> None:
    """A ping: keep the count alive, or count the socket again if it ran out (a cache
    restart, or a close of another tab that raced this one's connect)."""
    if not cache.touch(_visitor_key(visitor_id), timeout=VISITOR_PRESENCE_TTL):
        cache.add(_visitor_key(visitor_id), 1, timeout=VISITOR_PRESENCE_TTL)


def visitor_disconnected(visitor_id: str) -> None:
    key = _visitor_key(visitor_id)
    try:
        if cache.decr(key) <= 0:
            cache.delete(key)
    except ValueError:  # already expired
        pass


def visitor_socket_count(visitor_id: str) -> int:
    count = cache.get(_visitor_key(visitor_id))
    return count if isinstance(count, int) and count > 0 else 0


def visitor_is_connected(visitor_id: str) -> bool:
    return visitor_socket_count(visitor_id) > 0


def agents_online(account: ChannelAccount) -> bool:
    """Whether someone can answer now: an active agent of the account's default team (any
    active agent when it has none) whose availability is online. Business hours are not
    considered here."""
    key = f"chat:agents-online:{account.default_team_id or 'all'}"
    cached = cache.get(key)
    if isinstance(cached, bool):
        return cached
    agents = User.objects.filter(is_active=True, availability=User.Availability.ONLINE)
    if account.default_team_id is not None:
        agents = agents.filter(teams=account.default_team_id)
    online = agents.exists()
    cache.set(key, online, timeout=AGENTS_ONLINE_TTL)
    return online
