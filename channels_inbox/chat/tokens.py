"""Visitor ids and the signed tokens that carry them.

A visitor's token is ``django.core.signing`` over ``{"a": account id, "v": visitor id}``:
whoever holds it is that visitor on that account, for ``VISITOR_TOKEN_MAX_AGE`` after it
was issued. The widget keeps it in localStorage, so a reload or a second tab continues the
same conversation, and asks for a fresh one each time it starts, so a visitor who comes
back within the window never loses the conversation. Nothing is stored per token: a page
view costs no row, and a token cannot be revoked except by rotating SECRET_KEY.

Attachment links given to a visitor are signed the same way over the attachment and the
visitor, so a link works for that visitor only and only for ``FILE_LINK_MAX_AGE``.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.core import signing

VISITOR_TOKEN_SALT = "channels_inbox.chat.visitor"  # noqa: S105 - a salt, not a secret
FILE_LINK_SALT = "channels_inbox.chat.file"
VISITOR_TOKEN_MAX_AGE = timedelta(days=30)
# History is sent again on every connect, with fresh links.
FILE_LINK_MAX_AGE = timedelta(days=1)
# "v" and 24 URL-safe characters (144 random bits): safe in a channel-layer group name.
VISITOR_ID = re.compile(r"v[A-Za-z0-9_-]{24}")
MAX_TOKEN_LENGTH = 500


def new_visitor_id() -> str:
    return "v" + secrets.token_urlsafe(18)


def issue_visitor_token(account_id: int, visitor_id: str) -> str:
    return signing.dumps({"a": account_id, "v": visitor_id}, salt=VISITOR_TOKEN_SALT)


def read_visitor_token(account_id: int, token: str) -> str | None:
    """The visitor id in ``token`` when it is genuine, unexpired and issued for this
    account; None otherwise (the caller does not need to know which)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        data = signing.loads(token, salt=VISITOR_TOKEN_SALT, max_age=VISITOR_TOKEN_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or data.get("a") != account_id:
        return None
    visitor_id = data.get("v")
    if not isinstance(visitor_id, str) or not VISITOR_ID.fullmatch(visitor_id):
        return None
    return visitor_id


def sign_file_link(attachment_id: int, visitor_id: str) -> str:
    return signing.dumps({"f": attachment_id, "v": visitor_id}, salt=FILE_LINK_SALT)


def read_file_link(value: str) -> tuple[int, str] | None:
    """``(attachment id, visitor id)`` from a genuine, unexpired link; None otherwise."""
    if len(value) > MAX_TOKEN_LENGTH:
        return None
    try:
        data = signing.loads(value, salt=FILE_LINK_SALT, max_age=FILE_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    attachment_id, visitor_id = data.get("f"), data.get("v")
    if not isinstance(attachment_id, int) or not isinstance(visitor_id, str):
        return None
    return attachment_id, visitor_id
