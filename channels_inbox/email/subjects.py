"""Subjects as threading sees them: reply and forward prefixes off, our ticket tag read.

Normalizing is the tickets' own rule (``tickets.services.normalize_thread_subject``): a
ticket's subject and an email's thread subject must normalize alike for a subject match, so
there is one prefix list, kept with the threading that compares them.
"""

from __future__ import annotations

import re

from tickets.services import normalize_thread_subject

TICKET_TAG = re.compile(r"\[#([0-9]{1,9})\]")


def normalize_subject(subject: str) -> str:
    """The subject two mails of one conversation share: reply/forward prefixes in any
    language and our "[#1234]" tag removed, whitespace collapsed, casefolded. Idempotent."""
    return normalize_thread_subject(subject or "")


def subject_ticket_number(subject: str) -> int | None:
    """The ticket number in a "[#1234]" tag (the last one when there are several)."""
    found = TICKET_TAG.findall(subject or "")
    number = int(found[-1]) if found else 0
    return number or None
