"""Subjects as threading sees them: reply and forward prefixes off, our ticket tag read."""

from __future__ import annotations

import re
import unicodedata

# Reply and forward prefixes of mail clients in many languages (providers.md §5.3), with
# counters such as "Re[2]:" or "Re^2:" and full-width colons.
REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|fw|aw|wg|sv|vs|vl|antw|antwort|r|rif|i|r[ée]f\.?|ref|tr|rv|enc|res|odp|pd|"
    r"ynt|ilt|doorst|atb|"
    r"回复|回覆|答复|转发|轉寄|返信|転送)\s*(?:\[\d{1,4}\]|\^\d{1,4}|\(\d{1,4}\))?\s*[:：]|"
    r"\[(?:ext|external|extern)\])\s*",
    re.I,
)
TICKET_TAG = re.compile(r"\[#([0-9]{1,9})\]")
SPACES = re.compile(r"\s+")
MAX_ROUNDS = 20


def strip_prefixes(subject: str) -> str:
    previous = None
    while previous != subject:
        previous = subject
        subject = REPLY_PREFIX.sub("", subject, count=1)
    return subject


def normalization_round(subject: str) -> str:
    subject = unicodedata.normalize("NFKC", subject)
    subject = TICKET_TAG.sub(" ", subject)
    subject = strip_prefixes(SPACES.sub(" ", subject).strip())
    return SPACES.sub(" ", subject).strip().casefold()


def normalize_subject(subject: str) -> str:
    """The subject two mails of one conversation share: reply/forward prefixes in any
    language and our "[#1234]" tag removed, whitespace collapsed, casefolded. Idempotent."""
    subject = subject or ""
    for _ in range(MAX_ROUNDS):
        normalized = normalization_round(subject)
        if normalized == subject:
            break
        subject = normalized
    return subject


def subject_ticket_number(subject: str) -> int | None:
    """The ticket number in a "[#1234]" tag (the last one when there are several)."""
    found = TICKET_TAG.findall(subject or "")
    number = int(found[-1]) if found else 0
    return number or None
