"""The variables of macro and auto-acknowledgement bodies: ``{{ customer.first_name }}`` and
five more, nothing else.

Why a small parser of our own and not Django's or Jinja's template engine (even Jinja's
sandbox): those engines are languages. They walk attributes (``{{ customer.__class__ }}``,
``{{ order.customer.email }}``), call methods, apply filters and run tags (``{% load %}``,
``{% include %}``), and a sandbox is a deny-list over that power, which has been bypassed
before. A body here needs only a closed set of names replaced by plain strings, so this
module allows exactly that: a tokenizer finds every ``{{ … }}``, ``{% … %}`` and
``{# … #}`` (and any stray brace pair), and everything that is not one of the known names
is an error at save time. Rendering looks the name up in a dictionary of strings built
from the ticket; no object reaches the template, so there is nothing to walk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.html import escape

if TYPE_CHECKING:
    from customers.models import Order
    from helpdesk.models import User
    from tickets.models import Ticket

# What an agent may use in a macro, with what each one becomes (shown on the settings page).
VARIABLES: dict[str, str] = {
    "customer.first_name": "The customer's first name (the first word of the name)",
    "customer.name": "The customer's full name",
    "order.number": "The number of the ticket's most recent linked order",
    "order.tracking_url": "The first tracking link of that order",
    "agent.name": "The name of the agent applying the macro",
    "ticket.number": "The ticket's number",
}
# Auto-acknowledgements add the expected reply time ("within 2 hours", "on Monday at 9:00").
AUTO_ACK_VARIABLES: dict[str, str] = {
    **VARIABLES,
    "expected_reply": "When we will answer: “within 2 hours” or “on Monday at 9:00”",
}

# Every construct a template language could read as code. The order matters: a full tag is
# matched before a lone brace pair, so "{{ x }}" is one token and "{{" alone is an error.
_TOKEN = re.compile(
    r"\{\{(?P<variable>.*?)\}\}"  # {{ ... }}
    r"|\{%(?P<tag>.*?)%\}"  # {% ... %}
    r"|\{#(?P<comment>.*?)#\}"  # {# ... #}
    r"|(?P<stray>\{\{|\}\}|\{%|%\}|\{#|#\})",  # an opening or closing without its pair
    re.DOTALL,
)
_NAME = re.compile(r"[a-z_]+(?:\.[a-z_]+)?")
MAX_SHOWN = 60


@dataclass(frozen=True)
class _Variable:
    start: int
    end: int
    name: str


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _parse(text: str, allowed: dict[str, str]) -> tuple[list[_Variable], list[str]]:
    """The variables of ``text`` and the problems found (empty when it is valid)."""
    variables: list[_Variable] = []
    problems: list[str] = []
    for match in _TOKEN.finditer(text):
        raw = match.group(0)
        if match.group("tag") is not None:
            problems.append(f"“{_shown(raw)}”: tags ({{% … %}}) are not allowed.")
        elif match.group("comment") is not None:
            problems.append(f"“{_shown(raw)}”: comments ({{# … #}}) are not allowed.")
        elif match.group("stray") is not None:
            problems.append(
                f"“{raw}” without its pair: write variables as {{{{ customer.name }}}}."
            )
        else:
            inner = match.group("variable").strip()
            if "{" in inner or "}" in inner:
                problems.append(f"“{_shown(raw)}”: braces cannot be nested.")
            elif "|" in inner:
                problems.append(f"“{_shown(raw)}”: filters (|) are not allowed.")
            elif not _NAME.fullmatch(inner) or inner not in allowed:
                problems.append(
                    f"“{_shown(raw)}” is not a variable you can use. Use one of: "
                    + ", ".join(allowed)
                    + "."
                )
            else:
                variables.append(_Variable(match.start(), match.end(), inner))
    return variables, problems


def validate_template(text: str, *, variables: dict[str, str] | None = None) -> None:
    """Raise ValidationError naming every unknown variable and every piece of template
    syntax other than the plain ``{{ name }}`` of the allowed variables (``VARIABLES``
    unless ``variables`` says otherwise)."""
    _found, problems = _parse(text, VARIABLES if variables is None else variables)
    if problems:
        raise ValidationError(problems, code="template")


def _latest_order(ticket: Ticket) -> Order | None:
    """The ticket's linked order placed most recently (the one a customer asks about)."""
    return ticket.orders.order_by("-placed_at", "-id").first()


def _tracking_url(order: Order | None) -> str:
    if order is None or not isinstance(order.tracking, list):
        return ""
    for item in order.tracking:
        if isinstance(item, dict) and isinstance(item.get("url"), str) and item["url"]:
            return str(item["url"])
    return ""


def template_values(
    ticket: Ticket, *, agent: User | None = None, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The value of every variable for ``ticket``, as plain strings ("" when unknown)."""
    customer = ticket.customer
    name = (customer.name or "").strip()
    order = _latest_order(ticket)
    values = {
        "customer.first_name": name.split()[0] if name else "",
        "customer.name": name,
        "order.number": order.number if order is not None else "",
        "order.tracking_url": _tracking_url(order),
        "agent.name": agent.name if agent is not None else "",
        "ticket.number": str(ticket.number),
    }
    values.update(extra or {})
    return values


def render_template(
    text: str,
    *,
    ticket: Ticket,
    agent: User | None = None,
    extra: dict[str, str] | None = None,
    html: bool = False,
) -> str:
    """``text`` with its variables replaced by the ticket's values, as plain text (or, with
    ``html``, the whole result escaped for HTML). A template that fails
    ``validate_template`` (with ``extra``'s names allowed too) raises ValidationError: a
    body is validated when it is saved, so this only happens to a row written around the
    model's checks."""
    allowed = {**VARIABLES, **dict.fromkeys(extra or {}, "")}
    found, problems = _parse(text, allowed)
    if problems:
        raise ValidationError(problems, code="template")
    values = template_values(ticket, agent=agent, extra=extra)
    parts: list[str] = []
    position = 0
    for variable in found:
        parts.append(text[position : variable.start])
        parts.append(values.get(variable.name, ""))
        position = variable.end
    parts.append(text[position:])
    rendered = "".join(parts)
    return escape(rendered) if html else rendered
