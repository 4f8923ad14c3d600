"""Rate limits of the chat's public endpoints, through the shared fixed-window counters of
``helpdesk.ratelimits`` (Redis in production, so every process counts together). Each is
generous for a person and tight for a script."""

from __future__ import annotations

from helpdesk import ratelimits
from helpdesk.ratelimits import Limit

# Per account and client address: page views that load the widget's settings, and starts
# (a new visitor, or a returning one resuming) of conversations.
CONFIG_LIMIT = Limit("chat-config", 120, 60)
START_LIMIT = Limit("chat-start", 30, 60)
# Per visitor: messages and files together, then files alone.
MESSAGE_LIMIT = Limit("chat-message", 20, 60)
UPLOAD_LIMIT = Limit("chat-upload", 10, 600)


def allow(limit: Limit, *identifiers: object) -> bool:
    """Count one hit; False once the window's hits are used up."""
    return ratelimits.hit(limit, *identifiers).allowed
