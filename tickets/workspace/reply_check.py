"""What the ticket's channel allows the agent to send, asked before the agent types.

The answer comes from the channel's adapter (its ``can_send``) through
``settings.REPLY_SEND_CHECK``, a dotted path, so this app imports no channel code; the API's
``can-send`` endpoint asks the same function. The composer shows the reason, keeps free text
off when the channel refuses it, and offers the approved templates instead."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from tickets.models import Ticket

PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True)
class TemplateOption:
    """One approved template as the picker shows it."""

    name: str
    language: str
    body: str
    parameter_count: int

    @property
    def key(self) -> str:
        return f"{self.name}-{self.language}"

    @property
    def parameter_numbers(self) -> range:
        return range(1, self.parameter_count + 1)

    @property
    def body_parts(self) -> list[tuple[str, int | None]]:
        """The body cut at its placeholders: (text, None) and ("", number) pieces, so the
        preview can show each parameter where it goes."""
        parts: list[tuple[str, int | None]] = []
        position = 0
        for match in PLACEHOLDER.finditer(self.body):
            if match.start() > position:
                parts.append((self.body[position : match.start()], None))
            parts.append(("", int(match.group(1))))
            position = match.end()
        if position < len(self.body):
            parts.append((self.body[position:], None))
        return parts


@dataclass(frozen=True)
class ComposerCheck:
    allowed: bool
    reason: str = ""
    templates: list[TemplateOption] = field(default_factory=list)


def _field(check: Any, name: str, default: Any) -> Any:
    if isinstance(check, dict):
        return check.get(name, default)
    return getattr(check, name, default)


def composer_check(ticket: Ticket) -> ComposerCheck:
    """The channel's answer for ``ticket`` now. Allowed without a reason when no check is
    configured; a merged or closed ticket is the composer's own business."""
    path = getattr(settings, "REPLY_SEND_CHECK", "")
    if not path:
        return ComposerCheck(allowed=True)
    check = import_string(path)(ticket)
    templates = []
    for choice in _field(check, "templates", ()) or ():
        data = choice if isinstance(choice, dict) else dataclasses.asdict(choice)
        templates.append(
            TemplateOption(
                name=str(data["name"]),
                language=str(data["language"]),
                body=str(data["body"]),
                parameter_count=int(data["parameter_count"]),
            )
        )
    return ComposerCheck(
        allowed=bool(_field(check, "allowed", True)),
        reason=str(_field(check, "reason", "") or ""),
        templates=templates,
    )


@dataclass(frozen=True)
class TemplateRow:
    """A template in the picker: open after a refused attempt, with what was typed."""

    option: TemplateOption
    open: bool
    fields: list[tuple[int, str]]


def template_rows(
    check: ComposerCheck, *, open_key: str = "", values: list[str] | None = None
) -> list[TemplateRow]:
    rows = []
    for option in check.templates:
        typed = values if option.key == open_key and values is not None else []
        fields = [
            (number, typed[number - 1] if number <= len(typed) else "")
            for number in option.parameter_numbers
        ]
        rows.append(TemplateRow(option, option.key == open_key, fields))
    return rows
