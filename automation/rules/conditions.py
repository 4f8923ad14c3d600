"""Conditions compiled to plain functions of a ``TicketContext``.

A rule's tree is compiled once per rule version (``engine.active_rules`` caches it), so
evaluating 200 rules is 200 calls of small closures over the context; nothing is parsed or
looked up per event. The tree is trusted: ``schema.validate_rule_definition`` checked it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from automation.rules.context import TicketContext
from automation.rules.schema import MAX_MATCH_INPUT

Predicate = Callable[[TicketContext], bool]


def _always(ctx: TicketContext) -> bool:
    return True


def _text_test(op: str, value: str) -> Callable[[str], bool]:
    if op == "matches":
        pattern = re.compile(value, re.IGNORECASE)
        return lambda text: pattern.search(text[:MAX_MATCH_INPUT]) is not None
    needle = value.lower()
    if op == "contains":
        return lambda text: needle in text.lower()
    if op == "not_contains":
        return lambda text: needle not in text.lower()
    if op == "equals":
        return lambda text: text.strip().lower() == needle.strip()
    if op == "starts_with":
        return lambda text: text.lower().startswith(needle)
    return lambda text: text.lower().endswith(needle)  # ends_with


def _number_test(op: str, value: float | int) -> Callable[[float | Decimal | None], bool]:
    limit = Decimal(str(value))

    def test(amount: float | Decimal | None) -> bool:
        if amount is None:
            return False
        number = Decimal(str(amount))
        if op == "gt":
            return number > limit
        if op == "gte":
            return number >= limit
        if op == "lt":
            return number < limit
        return number <= limit

    return test


def _minutes_since(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else (now - moment).total_seconds() / 60


def _shipped_at(ctx: TicketContext) -> datetime | None:
    """When the latest order shipped: the newest ``shipped_at`` among its tracking entries,
    else (a fulfilled order whose store sends no date) when the order last changed."""
    order = ctx.order
    if order is None:
        return None
    from django.utils.dateparse import parse_datetime

    dates = []
    for item in order.tracking or []:
        raw = item.get("shipped_at") if isinstance(item, dict) else None
        parsed = parse_datetime(raw) if isinstance(raw, str) else None
        if parsed is not None and parsed.tzinfo is not None:
            dates.append(parsed)
    if dates:
        return max(dates)
    if order.fulfillment_status in ("fulfilled", "partial"):
        return order.updated_at
    return None


def _list_test(op: str, values: list[Any], get: Callable[[TicketContext], Any]) -> Predicate:
    wanted = frozenset(values)
    if op == "in":
        return lambda ctx: get(ctx) in wanted
    return lambda ctx: get(ctx) not in wanted


def _tag_test(
    op: str, values: list[str], get: Callable[[TicketContext], frozenset[str]]
) -> Predicate:
    wanted = frozenset(values)
    if op == "any_of":
        return lambda ctx: not wanted.isdisjoint(get(ctx))
    if op == "all_of":
        return lambda ctx: wanted <= get(ctx)
    return lambda ctx: wanted.isdisjoint(get(ctx))


def _business_hours_test(op: str, hours_id: int) -> Predicate:
    cache: dict[str, Any] = {}

    def test(ctx: TicketContext) -> bool:
        from automation.sla.calendar import is_open

        if "hours" not in cache:
            from automation.models import BusinessHours

            cache["hours"] = BusinessHours.objects.filter(pk=hours_id).first()
        if cache["hours"] is None:  # deleted since the rule was saved: never matches
            return False
        opened = bool(is_open(cache["hours"], ctx.now))
        return opened if op == "open" else not opened

    return test


def _leaf(node: dict[str, Any]) -> Predicate:
    name, op = node["field"], node["op"]
    value: Any = node.get("value")
    if name == "channel":
        return _list_test(op, value, lambda ctx: ctx.ticket.channel)
    if name == "channel_account":
        return _list_test(op, value, lambda ctx: ctx.ticket.channel_account_id)
    if name in ("subject", "body", "customer_identity"):
        test = _text_test(op, value)
        if name == "subject":
            return lambda ctx: test(ctx.ticket.subject)
        if name == "body":
            return lambda ctx: test(ctx.body)
        if op == "not_contains":
            return lambda ctx: all(test(address) for address in ctx.addresses)
        return lambda ctx: any(test(address) for address in ctx.addresses)
    if name == "customer_tags":
        return _tag_test(op, value, lambda ctx: ctx.customer_tags)
    if name == "tags":
        return _tag_test(op, value, lambda ctx: ctx.tag_names)
    if name == "language":
        wanted = frozenset(value)

        def language_matches(ctx: TicketContext) -> bool:
            language = ctx.language
            return language in wanted or language.split("-")[0] in wanted

        if op == "in":
            return language_matches
        return lambda ctx: not language_matches(ctx)
    if name == "priority":
        return _list_test(op, value, lambda ctx: ctx.ticket.priority)
    if name == "status":
        return _list_test(op, value, lambda ctx: ctx.ticket.status)
    if name in ("team", "assignee"):
        attribute = "team_id" if name == "team" else "assignee_id"
        if op == "is_empty":
            return lambda ctx: getattr(ctx.ticket, attribute) is None
        if op == "is_not_empty":
            return lambda ctx: getattr(ctx.ticket, attribute) is not None
        return _list_test(op, value, lambda ctx: getattr(ctx.ticket, attribute))
    if name == "has_order":
        return lambda ctx: (ctx.order is not None) is value
    if name == "order_status":
        inner = _list_test(op, value, lambda ctx: ctx.order.financial_status)  # type: ignore[union-attr]
        return lambda ctx: ctx.order is not None and inner(ctx)
    if name == "fulfillment_status":
        inner = _list_test(op, value, lambda ctx: ctx.order.fulfillment_status)  # type: ignore[union-attr]
        return lambda ctx: ctx.order is not None and inner(ctx)
    number = _number_test(op, value) if op in ("gt", "gte", "lt", "lte") else None
    if name == "order_total":
        assert number is not None
        return lambda ctx: ctx.order is not None and number(ctx.order.total)
    if name == "days_since_shipped":
        assert number is not None

        def days(ctx: TicketContext) -> float | None:
            shipped = _shipped_at(ctx)
            return None if shipped is None else (ctx.now - shipped).total_seconds() / 86400

        return lambda ctx: number(days(ctx))
    if name == "minutes_since_customer_message":
        assert number is not None
        return lambda ctx: number(_minutes_since(ctx.ticket.last_customer_message_at, ctx.now))
    if name == "minutes_since_agent_message":
        assert number is not None
        return lambda ctx: number(_minutes_since(ctx.ticket.last_agent_message_at, ctx.now))
    if name == "business_hours":
        return _business_hours_test(op, value)
    raise ValueError(f"Unknown condition field {name!r}")


# What a field costs to evaluate: 0 reads the loaded ticket and customer, 1 the message
# text (one query, shared by every rule of the event), 2 a query of its own the first time.
_FIELD_COST = {
    "body": 1,
    "tags": 2,
    "customer_identity": 2,
    "has_order": 2,
    "order_status": 2,
    "fulfillment_status": 2,
    "order_total": 2,
    "days_since_shipped": 2,
    "business_hours": 3,
}


def _cost(node: dict[str, Any]) -> int:
    if not node:
        return 0
    if "field" in node:
        return _FIELD_COST.get(node["field"], 0)
    return max((_cost(item) for item in next(iter(node.values()))), default=0)


def compile_conditions(node: dict[str, Any]) -> Predicate:
    """A predicate for a validated tree; the empty tree matches everything.

    The items of a group are evaluated cheapest first (conditions have no side effects, so
    the order does not change the result): a rule about WhatsApp tickets mentioning a refund
    rejects an email ticket on its channel before anything is loaded for its body."""
    if not node:
        return _always
    if "field" in node:
        return _leaf(node)
    mode, items = next(iter(node.items()))
    children = tuple(compile_conditions(item) for item in sorted(items, key=_cost))
    if not children:
        return _always
    if mode == "all":
        return lambda ctx: all(child(ctx) for child in children)
    return lambda ctx: any(child(ctx) for child in children)
