"""The SMS keywords a customer sends to opt out of messages, back in, or for help.

These are Twilio's defaults for long codes (the carriers' rules in the US and Canada):
the whole message is the one word, in any case; surrounding spaces and a final full stop
or exclamation mark are allowed. With Twilio's Advanced Opt-Out the post also names what
it matched in ``OptOutType`` (the account's own keywords, other languages), which wins.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
MAX_KEYWORD_LENGTH = 32


class KeywordAction(enum.StrEnum):
    OPT_OUT = "STOP"
    OPT_IN = "START"
    HELP = "HELP"


@dataclass(frozen=True)
class Keyword:
    action: KeywordAction
    word: str  # what the customer sent, upper case


def keyword_of(body: str, opt_out_type: str = "") -> Keyword | None:
    """The keyword ``body`` is, or None for an ordinary message."""
    word = body.strip().rstrip(".!").strip().upper()
    typed = opt_out_type.strip().upper()
    if typed in {action.value for action in KeywordAction}:
        return Keyword(KeywordAction(typed), (word or typed)[:MAX_KEYWORD_LENGTH])
    for action, words in (
        (KeywordAction.OPT_OUT, OPT_OUT_WORDS),
        (KeywordAction.OPT_IN, OPT_IN_WORDS),
        (KeywordAction.HELP, HELP_WORDS),
    ):
        if word in words:
            return Keyword(action, word)
    return None
