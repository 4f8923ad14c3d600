"""The one place that knows what a rule's conditions and actions may say.

``validate_rule_definition`` is used by ``Rule.clean``, the settings form and the REST API;
it returns the cleaned definition or raises a ``ValidationError`` keyed by field
(``conditions``, ``actions``, ``trigger_fields``, ``time_minutes`` ...), each message naming
the place in the JSON it is about ("conditions → all[2]: unknown field 'colour'").

Conditions are a tree: a group ``{"all": [...]}`` or ``{"any": [...]}`` whose items are
groups or leaves ``{"field": "priority", "op": "in", "value": ["high", "urgent"]}``. An
empty dict matches every ticket. Actions are an ordered list of
``{"type": "set_status", "status": "pending"}``.

Regular expressions are the one input that could cost real time: a pattern must compile,
is at most ``MAX_REGEX_LENGTH`` characters, may not nest repetition (``(a+)+``, the shape of
catastrophic backtracking), and the engine matches it against at most
``MAX_MATCH_INPUT`` characters of text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

MAX_DEPTH = 4
MAX_LEAVES = 50
MAX_ACTIONS = 20
MAX_TEXT_LENGTH = 200
MAX_REGEX_LENGTH = 200
MAX_MATCH_INPUT = 10_000
MAX_BODY_LENGTH = 5_000
MAX_MINUTES = 60 * 24 * 365

TICKET_UPDATE_FIELDS = ("status", "priority", "assignee", "team", "tags", "orders", "subject")

# Nested repetition: a quantified group that itself contains a quantifier.
_NESTED_REPETITION = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


# --- Choices --------------------------------------------------------------------------------


def _channel_choices() -> list[tuple[str, str]]:
    from helpdesk.channel_kinds import ChannelKind

    return list(ChannelKind.choices)


def _status_choices() -> list[tuple[str, str]]:
    from tickets.models import Ticket

    return list(Ticket.Status.choices)


def _priority_choices() -> list[tuple[str, str]]:
    from tickets.models import Ticket

    return list(Ticket.Priority.choices)


def _financial_choices() -> list[tuple[str, str]]:
    from customers.models import Order

    return list(Order.FinancialStatus.choices)


def _fulfillment_choices() -> list[tuple[str, str]]:
    from customers.models import Order

    return list(Order.FulfillmentStatus.choices)


# Referenced models, by the name used in errors and the builder's option lists.
def _ref_queryset(kind: str) -> Any:
    if kind == "team":
        from helpdesk.models import Team

        return Team.objects.all()
    if kind == "agent":
        from helpdesk.models import User

        return User.objects.filter(is_active=True)
    if kind == "channel_account":
        from channels_inbox.models import ChannelAccount

        return ChannelAccount.objects.all()
    if kind == "business_hours":
        from automation.models import BusinessHours

        return BusinessHours.objects.all()
    if kind == "macro":
        from automation.models import Macro

        return Macro.objects.all()
    raise KeyError(kind)


def ref_options(kind: str) -> list[tuple[int, str]]:
    """(id, label) of the objects a rule may name; empty when the model does not exist yet."""
    try:
        rows = _ref_queryset(kind)
    except (ImportError, AttributeError):
        return []
    return [(row.pk, str(row)) for row in rows.order_by("pk")[:500]]


# --- Fields and operators -------------------------------------------------------------------

LIST_OPS = ("in", "not_in")
EMPTY_OPS = ("is_empty", "is_not_empty")
TEXT_OPS = ("contains", "not_contains", "equals", "starts_with", "ends_with", "matches")
TAG_OPS = ("any_of", "all_of", "none_of")
NUMBER_OPS = ("gt", "gte", "lt", "lte")

OP_LABELS = {
    "in": "is one of",
    "not_in": "is not one of",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
    "contains": "contains",
    "not_contains": "does not contain",
    "equals": "equals",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "matches": "matches the pattern",
    "any_of": "include any of",
    "all_of": "include all of",
    "none_of": "include none of",
    "gt": "more than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "is": "is",
    "open": "is open in",
    "closed": "is closed in",
}


@dataclass(frozen=True)
class FieldSpec:
    label: str
    ops: tuple[str, ...]
    # "choice" (values from ``choices``), "ref" (ids of ``ref``), "text", "tags", "number",
    # "bool", "language", "calendar"
    kind: str
    choices: Callable[[], list[tuple[str, str]]] | None = None
    ref: str = ""
    unit: str = ""


FIELDS: dict[str, FieldSpec] = {
    "channel": FieldSpec("Channel", LIST_OPS, "choice", _channel_choices),
    "channel_account": FieldSpec("Channel account", LIST_OPS, "ref", ref="channel_account"),
    "subject": FieldSpec("Subject", TEXT_OPS, "text"),
    "body": FieldSpec("Latest customer message", TEXT_OPS, "text"),
    "customer_tags": FieldSpec("Customer tags", TAG_OPS, "tags"),
    "customer_identity": FieldSpec(
        "Customer address (email, phone, handle)",
        ("contains", "equals", "ends_with", "matches"),
        "text",
    ),
    "language": FieldSpec("Customer language", LIST_OPS, "language"),
    "priority": FieldSpec("Priority", LIST_OPS, "choice", _priority_choices),
    "status": FieldSpec("Status", LIST_OPS, "choice", _status_choices),
    "team": FieldSpec("Team", LIST_OPS + EMPTY_OPS, "ref", ref="team"),
    "assignee": FieldSpec("Assignee", LIST_OPS + EMPTY_OPS, "ref", ref="agent"),
    "tags": FieldSpec("Ticket tags", TAG_OPS, "tags"),
    "has_order": FieldSpec("Has an order", ("is",), "bool"),
    "order_status": FieldSpec("Order payment status", LIST_OPS, "choice", _financial_choices),
    "fulfillment_status": FieldSpec(
        "Order fulfilment status", LIST_OPS, "choice", _fulfillment_choices
    ),
    "order_total": FieldSpec("Order total", NUMBER_OPS, "number"),
    "days_since_shipped": FieldSpec("Days since shipped", NUMBER_OPS, "number", unit="days"),
    "business_hours": FieldSpec("Now", ("open", "closed"), "calendar", ref="business_hours"),
    "minutes_since_customer_message": FieldSpec(
        "Time since the customer's last message", NUMBER_OPS, "number", unit="minutes"
    ),
    "minutes_since_agent_message": FieldSpec(
        "Time since the last agent reply", NUMBER_OPS, "number", unit="minutes"
    ),
}


# --- Actions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionSpec:
    label: str
    # parameter name → "ref:<kind>", "refs:<kind>", "choice:<status|priority>", "tags",
    # "template", "text", "url"
    params: dict[str, str] = field(default_factory=dict)


ACTIONS: dict[str, ActionSpec] = {
    "assign_agent": ActionSpec("Assign to an agent", {"agent": "ref:agent"}),
    "assign_team": ActionSpec("Assign to a team", {"team": "ref:team"}),
    "run_routing": ActionSpec("Run the team's routing"),
    "set_status": ActionSpec("Set status", {"status": "choice:status"}),
    "set_priority": ActionSpec("Set priority", {"priority": "choice:priority"}),
    "add_tags": ActionSpec("Add tags", {"tags": "tags"}),
    "remove_tags": ActionSpec("Remove tags", {"tags": "tags"}),
    "send_reply": ActionSpec("Send an automatic reply", {"body": "template"}),
    "add_note": ActionSpec("Add an internal note", {"body": "text"}),
    "notify_agents": ActionSpec("Notify agents", {"agents": "refs:agent", "body": "text"}),
    "webhook": ActionSpec("Send a webhook", {"url": "url"}),
    "apply_macro": ActionSpec("Apply a macro", {"macro": "ref:macro"}),
    "escalate": ActionSpec("Escalate to the next tier"),
}


# --- Validation -----------------------------------------------------------------------------


@dataclass
class RuleDefinition:
    trigger_fields: list[str]
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]


@dataclass
class _Collector:
    errors: dict[str, list[str]] = field(default_factory=dict)
    # kind → {id: where it was named}
    refs: dict[str, dict[int, str]] = field(default_factory=dict)

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    def ref(self, kind: str, value: int, where: str) -> None:
        self.refs.setdefault(kind, {}).setdefault(value, where)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_regex(pattern: str) -> str | None:
    if len(pattern) > MAX_REGEX_LENGTH:
        return f"the pattern is longer than {MAX_REGEX_LENGTH} characters"
    try:
        re.compile(pattern)
    except re.error as error:
        return f"the pattern does not compile ({error})"
    if _NESTED_REPETITION.search(pattern):
        return "the pattern repeats a repeated group, which can take very long to match"
    return None


def _text(value: Any, where: str, out: _Collector, key: str, *, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        out.add(key, f"{where}: needs a non-empty text")
        return None
    if len(value) > limit:
        out.add(key, f"{where}: longer than {limit} characters")
        return None
    return value


def _tags(value: Any, where: str, out: _Collector, key: str) -> list[str] | None:
    if isinstance(value, str):
        value = [part for part in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        out.add(key, f"{where}: needs a list of tags")
        return None
    names: list[str] = []
    for raw in value:
        name = " ".join(raw.split()).lower()
        if not name:
            continue
        if len(name) > 50:
            out.add(key, f"{where}: tag {name[:20]!r}… is longer than 50 characters")
            return None
        if name not in names:
            names.append(name)
    if not names:
        out.add(key, f"{where}: needs at least one tag")
        return None
    return names


def _number(value: Any, where: str, out: _Collector, key: str) -> float | int | None:
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except ArithmeticError:
            out.add(key, f"{where}: {value!r} is not a number")
            return None
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        out.add(key, f"{where}: needs a number")
        return None
    if value < 0 or value > 10**9 or value != value:
        out.add(key, f"{where}: needs a number between 0 and 1,000,000,000")
        return None
    return value


def _id(value: Any, where: str, out: _Collector, key: str, kind: str) -> int | None:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not _is_int(value) or value <= 0:
        out.add(key, f"{where}: needs the id of a {kind.replace('_', ' ')}")
        return None
    out.ref(kind, value, where)
    return int(value)


def _ids(value: Any, where: str, out: _Collector, key: str, kind: str) -> list[int] | None:
    if not isinstance(value, list) or not value:
        out.add(key, f"{where}: needs a non-empty list of {kind.replace('_', ' ')} ids")
        return None
    ids = [_id(item, where, out, key, kind) for item in value]
    if any(item is None for item in ids):
        return None
    return sorted({item for item in ids if item is not None})


def _leaf(node: dict[str, Any], where: str, out: _Collector) -> dict[str, Any] | None:
    key = "conditions"
    unknown = set(node) - {"field", "op", "value"}
    if unknown:
        out.add(key, f"{where}: unknown keys {', '.join(sorted(unknown))}")
        return None
    name = node.get("field")
    spec = FIELDS.get(name) if isinstance(name, str) else None
    if spec is None:
        out.add(key, f"{where}: unknown field {name!r}")
        return None
    op = node.get("op")
    if op not in spec.ops:
        allowed = ", ".join(spec.ops)
        out.add(key, f"{where}: {spec.label} has no operator {op!r} (use one of: {allowed})")
        return None
    value = node.get("value")
    where = f"{where} ({spec.label})"
    cleaned: Any
    if op in EMPTY_OPS:
        return {"field": name, "op": op}
    if spec.kind == "choice":
        assert spec.choices is not None
        allowed_values = [code for code, _label in spec.choices()]
        if not isinstance(value, list) or not value:
            out.add(key, f"{where}: needs a non-empty list of values")
            return None
        wrong = [item for item in value if item not in allowed_values]
        if wrong:
            out.add(
                key,
                f"{where}: unknown value {wrong[0]!r} (use one of: {', '.join(allowed_values)})",
            )
            return None
        cleaned = sorted(set(value), key=allowed_values.index)
    elif spec.kind == "ref":
        cleaned = _ids(value, where, out, key, spec.ref)
    elif spec.kind == "language":
        if not isinstance(value, list) or not value:
            out.add(key, f"{where}: needs a non-empty list of language codes such as en, pt-BR")
            return None
        bad = [item for item in value if not isinstance(item, str) or not _LANGUAGE.match(item)]
        if bad:
            out.add(key, f"{where}: {bad[0]!r} is not a language code such as en or pt-BR")
            return None
        cleaned = sorted({item.lower() for item in value})
    elif spec.kind == "text":
        cleaned = _text(value, where, out, key, limit=MAX_TEXT_LENGTH)
        if cleaned is not None and op == "matches":
            problem = _check_regex(cleaned)
            if problem:
                out.add(key, f"{where}: {problem}")
                return None
    elif spec.kind == "tags":
        cleaned = _tags(value, where, out, key)
    elif spec.kind == "number":
        cleaned = _number(value, where, out, key)
    elif spec.kind == "bool":
        if not isinstance(value, bool):
            out.add(key, f"{where}: needs true or false")
            return None
        cleaned = value
    else:  # calendar
        cleaned = _id(value, where, out, key, "business_hours")
    if cleaned is None:
        return None
    return {"field": name, "op": op, "value": cleaned}


def _node(node: Any, where: str, depth: int, out: _Collector, leaves: list[int]) -> Any:
    if not isinstance(node, dict):
        out.add("conditions", f"{where}: needs an object")
        return None
    if "field" in node:
        leaves[0] += 1
        return _leaf(node, where, out)
    if len(node) != 1 or next(iter(node)) not in ("all", "any"):
        out.add("conditions", f"{where}: a group is {{'all': [...]}} or {{'any': [...]}}")
        return None
    if depth >= MAX_DEPTH:
        out.add("conditions", f"{where}: groups nest at most {MAX_DEPTH} deep")
        return None
    mode, items = next(iter(node.items()))
    if not isinstance(items, list):
        out.add("conditions", f"{where}.{mode}: needs a list")
        return None
    children = [
        _node(item, f"{where}.{mode}[{index}]", depth + 1, out, leaves)
        for index, item in enumerate(items)
    ]
    return {mode: children}


def _conditions(value: Any, out: _Collector) -> dict[str, Any]:
    if value in (None, {}, ""):
        return {}
    leaves = [0]
    cleaned = _node(value, "conditions", 0, out, leaves)
    if leaves[0] > MAX_LEAVES:
        out.add("conditions", f"conditions: at most {MAX_LEAVES} conditions per rule")
    return cleaned if isinstance(cleaned, dict) else {}


def _action(item: Any, where: str, out: _Collector) -> dict[str, Any] | None:
    key = "actions"
    if not isinstance(item, dict):
        out.add(key, f"{where}: needs an object")
        return None
    kind = item.get("type")
    spec = ACTIONS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        out.add(key, f"{where}: unknown action {kind!r}")
        return None
    where = f"{where} ({spec.label})"
    unknown = set(item) - {"type", *spec.params}
    if unknown:
        out.add(key, f"{where}: unknown keys {', '.join(sorted(unknown))}")
        return None
    cleaned: dict[str, Any] = {"type": kind}
    for param, param_kind in spec.params.items():
        value = item.get(param)
        result: Any
        if param_kind.startswith("ref:"):
            result = _id(value, f"{where} {param}", out, key, param_kind[4:])
        elif param_kind.startswith("refs:"):
            result = _ids(value, f"{where} {param}", out, key, param_kind[5:])
        elif param_kind.startswith("choice:"):
            choices = _status_choices() if param_kind.endswith("status") else _priority_choices()
            codes = [code for code, _label in choices]
            if value not in codes:
                out.add(key, f"{where}: unknown {param} {value!r} (use one of: {', '.join(codes)})")
                result = None
            else:
                result = value
        elif param_kind == "tags":
            result = _tags(value, f"{where} {param}", out, key)
        elif param_kind == "url":
            result = _text(value, f"{where} {param}", out, key, limit=500)
            if result is not None:
                parts = urlsplit(result)
                if parts.scheme not in ("http", "https") or not parts.hostname:
                    out.add(key, f"{where}: the URL must start with http:// or https://")
                    result = None
        else:  # template, text
            result = _text(value, f"{where} {param}", out, key, limit=MAX_BODY_LENGTH)
            if result is not None and param_kind == "template":
                result = _checked_template(result, where, out)
        if result is None:
            return None
        cleaned[param] = result
    return cleaned


def _checked_template(text: str, where: str, out: _Collector) -> str | None:
    try:
        from automation.macros.templating import validate_template
    except ImportError:  # the macros area is not there yet: the text is sent as written
        return text
    try:
        validate_template(text)
    except ValidationError as error:
        out.add("actions", f"{where}: {' '.join(error.messages)}")
        return None
    return text


def _actions(value: Any, out: _Collector) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        out.add("actions", "actions: a rule needs at least one action")
        return []
    if len(value) > MAX_ACTIONS:
        out.add("actions", f"actions: at most {MAX_ACTIONS} actions per rule")
        return []
    cleaned = [_action(item, f"actions[{index}]", out) for index, item in enumerate(value)]
    return [item for item in cleaned if item is not None]


def _check_refs(out: _Collector) -> None:
    """One query per kind of object named: ids that do not exist are errors."""
    for kind, named in out.refs.items():
        try:
            queryset = _ref_queryset(kind)
        except (ImportError, AttributeError):
            for where in named.values():
                key = "conditions" if where.startswith("conditions") else "actions"
                out.add(key, f"{where}: {kind.replace('_', ' ')} is not available yet")
            continue
        found = set(queryset.filter(pk__in=list(named)).values_list("pk", flat=True))
        for pk, where in named.items():
            if pk not in found:
                key = "conditions" if where.startswith("conditions") else "actions"
                out.add(key, f"{where}: no {kind.replace('_', ' ')} with id {pk}")


def validate_rule_definition(
    *,
    trigger: str,
    trigger_fields: Any,
    time_basis: str,
    time_status: str,
    time_minutes: int | None,
    conditions: Any,
    actions: Any,
) -> RuleDefinition:
    from automation.models import Rule

    out = _Collector()
    if trigger not in Rule.Trigger.values:
        out.add("trigger", f"Unknown trigger {trigger!r}.")
    fields: list[str] = []
    if trigger == Rule.Trigger.TICKET_UPDATED:
        if not isinstance(trigger_fields, list) or not all(
            isinstance(item, str) for item in trigger_fields
        ):
            out.add("trigger_fields", "Needs a list of ticket fields.")
        else:
            wrong = [item for item in trigger_fields if item not in TICKET_UPDATE_FIELDS]
            if wrong:
                out.add(
                    "trigger_fields",
                    f"Unknown field {wrong[0]!r} (use: {', '.join(TICKET_UPDATE_FIELDS)}).",
                )
            fields = sorted(set(trigger_fields))
    elif trigger_fields:
        out.add("trigger_fields", "Only the 'ticket updated' trigger filters on fields.")
    if trigger == Rule.Trigger.TIME_BASED:
        if time_basis not in Rule.TimeBasis.values:
            out.add("time_basis", "Choose what the time is measured from.")
        if time_basis == Rule.TimeBasis.STATUS_FOR:
            from tickets.models import Ticket

            if time_status not in Ticket.Status.values or time_status == Ticket.Status.CLOSED:
                out.add("time_status", "Choose the status (not closed) the ticket stays in.")
        elif time_status:
            out.add("time_status", "Only 'in a status for' takes a status.")
        if not _is_int(time_minutes) or not (1 <= (time_minutes or 0) <= MAX_MINUTES):
            out.add("time_minutes", f"Needs a whole number of minutes from 1 to {MAX_MINUTES}.")
    elif time_basis or time_status or time_minutes is not None:
        out.add("time_basis", "Only the time-based trigger takes a time condition.")
    cleaned_conditions = _conditions(conditions, out)
    cleaned_actions = _actions(actions, out)
    _check_refs(out)
    if out.errors:
        raise ValidationError(out.errors)
    return RuleDefinition(fields, cleaned_conditions, cleaned_actions)


# --- Words ----------------------------------------------------------------------------------


def describe_action(
    action: dict[str, Any], names: dict[tuple[str, int], str], *, would: bool = False
) -> str:
    """A short sentence for the timeline ("set status to Pending", "added tags refund") or,
    with ``would``, for the simulator ("would add tags refund")."""
    kind = action["type"]

    def name(ref: str, pk: int) -> str:
        return names.get((ref, pk), f"#{pk}")

    def say(past: str, base: str) -> str:
        return f"would {base}" if would else past

    if kind == "assign_agent":
        agent = name("agent", action["agent"])
        return say(f"assigned {agent}", f"assign {agent}")
    if kind == "assign_team":
        team = name("team", action["team"])
        return say(f"moved to team {team}", f"move to team {team}")
    if kind == "run_routing":
        return say("ran routing", "run routing")
    if kind == "set_status":
        status = dict(_status_choices())[action["status"]]
        return say(f"set status to {status}", f"set status to {status}")
    if kind == "set_priority":
        priority = dict(_priority_choices())[action["priority"]]
        return say(f"set priority to {priority}", f"set priority to {priority}")
    if kind in ("add_tags", "remove_tags"):
        verb = "add" if kind == "add_tags" else "remove"
        tags = ", ".join(action["tags"])
        return say(f"{verb}ed tags {tags}".replace("removeed", "removed"), f"{verb} tags {tags}")
    if kind == "send_reply":
        return say("sent an automatic reply", "send an automatic reply")
    if kind == "add_note":
        return say("added an internal note", "add an internal note")
    if kind == "notify_agents":
        agents = ", ".join(name("agent", pk) for pk in action["agents"])
        return say(f"notified {agents}", f"notify {agents}")
    if kind == "webhook":
        host = urlsplit(action["url"]).hostname
        return say(f"sent a webhook to {host}", f"send a webhook to {host}")
    if kind == "apply_macro":
        macro = name("macro", action["macro"])
        return say(f"applied macro {macro}", f"apply macro {macro}")
    if kind == "escalate":
        return say("escalated", "escalate")
    return kind


def referenced_names(actions: list[dict[str, Any]]) -> dict[tuple[str, int], str]:
    """Names of the agents, teams and macros the actions refer to, one query per kind."""
    wanted: dict[str, set[int]] = {}
    for action in actions:
        spec = ACTIONS.get(action.get("type", ""))
        if spec is None:
            continue
        for param, kind in spec.params.items():
            if kind.startswith("ref:"):
                wanted.setdefault(kind[4:], set()).add(action[param])
            elif kind.startswith("refs:"):
                wanted.setdefault(kind[5:], set()).update(action[param])
    names: dict[tuple[str, int], str] = {}
    for kind, ids in wanted.items():
        try:
            rows = _ref_queryset(kind).filter(pk__in=ids)
        except (ImportError, AttributeError):
            continue
        for row in rows:
            names[(kind, row.pk)] = str(row)
    return names
