"""The rules engine: compiled rules, evaluation and firing, with loop protection.

**Compiled rules.** Active rules are compiled once (``conditions.compile_conditions``) and
kept per process, grouped by trigger in position order. The cache is keyed by a version
token in Django's cache (``RULES_VERSION_KEY``); saving or deleting a rule replaces the
token (``invalidate_rules``, called by ``Rule.save``/``delete`` and again on commit), so
every worker recompiles on its next event. An event for a trigger no rule uses costs one
cache read and no query.

**Firing.** For a matching rule the engine, in one transaction: records a ``RuleFiring``
(unique per rule, ticket and event key when the event has one, so a retried task or a
repeated event fires a rule once), applies the actions in order through
``tickets.services`` and the areas' services, and writes a ``RULE_APPLIED`` activity
naming the rule and what it did. A refusal (``TicketError``, e.g. the ticket was closed
meanwhile) rolls that rule back and is written on the timeline as a failure; the next
rules still run. "Stop processing" ends the event's evaluation after a rule fires.

**Loop protection.** A rule's changes emit events that come back to the engine (inline
under the eager Celery of the embedded setup, on a worker otherwise). Two guards:

1. *Not on its own events.* While a rule's actions run, its id is in a context variable
   (``_rules_in_progress``) that nested handling inherits: events caused by a rule's own
   changes, delivered inline, never evaluate that rule again, and a chain A → B → A stops
   at the second A. This covers the eager setup completely.
2. *A cap per rule and ticket.* Across processes (a worker handling the event later) the
   context does not travel, so a rule fires at most ``MAX_FIRINGS_PER_WINDOW`` times on one
   ticket within ``FIRING_WINDOW``, counted from ``RuleFiring`` rows; past the cap it is
   skipped and logged. Two rules that undo each other therefore stop after a few rounds
   instead of running forever.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from automation.batch import once_per_task
from automation.rules.conditions import Predicate, compile_conditions
from automation.rules.context import TicketContext
from automation.rules.schema import referenced_names

logger = logging.getLogger(__name__)

RULES_VERSION_KEY = "automation:rules:version"
MAX_FIRINGS_PER_WINDOW = 5
FIRING_WINDOW = timedelta(hours=1)

_rules_in_progress: ContextVar[frozenset[int]] = ContextVar(
    "rules_in_progress", default=frozenset()
)


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    trigger: str
    trigger_fields: frozenset[str]
    time_basis: str
    time_status: str
    time_minutes: int | None
    stop_processing: bool
    actions: tuple[dict[str, Any], ...]
    matches: Predicate
    created_by_id: int | None
    names: dict[tuple[str, int], str] = field(default_factory=dict)


def compile_rule(rule: Any, *, names: dict[tuple[str, int], str] | None = None) -> CompiledRule:
    """``rule`` is a ``Rule`` (saved or not) whose definition passed validation."""
    return CompiledRule(
        id=rule.pk or 0,
        name=rule.name,
        trigger=rule.trigger,
        trigger_fields=frozenset(rule.trigger_fields or ()),
        time_basis=rule.time_basis,
        time_status=rule.time_status,
        time_minutes=rule.time_minutes,
        stop_processing=rule.stop_processing,
        actions=tuple(rule.actions),
        matches=compile_conditions(rule.conditions or {}),
        created_by_id=rule.created_by_id,
        names=names if names is not None else referenced_names(list(rule.actions)),
    )


# --- The compiled-rules cache -----------------------------------------------------------------

_compiled: dict[str, Any] = {"version": None, "by_trigger": {}, "at": 0.0}
COMPILED_MAX_AGE = 60.0


def invalidate_rules() -> None:
    cache.set(RULES_VERSION_KEY, uuid.uuid4().hex, None)


def _current_version() -> str:
    return once_per_task("rules.version", _read_version)


def _read_version() -> str:
    version = cache.get(RULES_VERSION_KEY)
    if version is None:
        cache.add(RULES_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(RULES_VERSION_KEY) or "unknown"
    return str(version)


def active_rules(trigger: str) -> list[CompiledRule]:
    """The active rules of ``trigger`` in order, compiled; recompiled when a rule changed."""
    version = _current_version()
    # Recompiled when a rule changed, and at least every COMPILED_MAX_AGE seconds: the
    # version key can be lost (a cache restart) without any rule being saved.
    if _compiled["version"] != version or time.monotonic() - _compiled["at"] > COMPILED_MAX_AGE:
        from automation.models import Rule

        by_trigger: dict[str, list[CompiledRule]] = {}
        rules = list(Rule.objects.filter(active=True).order_by("position", "id"))
        names = referenced_names([action for rule in rules for action in rule.actions])
        for rule in rules:
            try:
                compiled = compile_rule(rule, names=names)
            except Exception:  # a row written around validation: skip it, keep the others
                logger.exception("Rule %s cannot be compiled; it is skipped", rule.pk)
                continue
            by_trigger.setdefault(rule.trigger, []).append(compiled)
        _compiled["by_trigger"] = by_trigger
        _compiled["version"] = version
        _compiled["at"] = time.monotonic()
    return list(_compiled["by_trigger"].get(trigger, ()))


# --- Firing ---------------------------------------------------------------------------------


@contextmanager
def _running(rule: CompiledRule) -> Iterator[None]:
    token = _rules_in_progress.set(_rules_in_progress.get() | {rule.id})
    try:
        yield
    finally:
        _rules_in_progress.reset(token)


def rules_in_progress() -> frozenset[int]:
    return _rules_in_progress.get()


def _over_cap(rule: CompiledRule, ticket_id: int, now: Any) -> bool:
    from automation.models import RuleFiring

    recent = RuleFiring.objects.filter(
        rule_id=rule.id, ticket_id=ticket_id, fired_at__gte=now - FIRING_WINDOW
    )[:MAX_FIRINGS_PER_WINDOW].count()
    return recent >= MAX_FIRINGS_PER_WINDOW


def fire_rule(rule: CompiledRule, ctx: TicketContext, *, event_key: str = "") -> bool:
    """Apply ``rule``'s actions to the ticket and record it; False when the rule was held
    back (its cap, this event already handled) or refused."""
    from automation.models import RuleFiring
    from automation.rules.actions import apply_action
    from tickets.models import TicketActivity
    from tickets.services import TicketError, record_automation_activity

    ticket = ctx.ticket
    if _over_cap(rule, ticket.pk, timezone.now()):
        logger.warning(
            "Rule %s fired %s times on ticket %s within %s; held back (loop protection)",
            rule.id,
            MAX_FIRINGS_PER_WINDOW,
            ticket.pk,
            FIRING_WINDOW,
        )
        return False
    done: list[str] = []
    try:
        with _running(rule), transaction.atomic():
            try:
                with transaction.atomic():
                    firing = RuleFiring.objects.create(
                        rule_id=rule.id, ticket_id=ticket.pk, event_key=event_key
                    )
            except IntegrityError:
                return False  # this event already fired the rule (a retry, a repeat)
            for action in rule.actions:
                done.append(apply_action(rule, ctx, action))
            firing.actions_done = done
            firing.save(update_fields=["actions_done"])
            record_automation_activity(
                ticket,
                TicketActivity.Verb.RULE_APPLIED,
                # The timeline puts "Switchboard" before it: "Switchboard applied the rule …".
                f"applied the rule “{rule.name}”: {', '.join(done)}",
                rule={"id": rule.id, "name": rule.name},
                actions=done,
            )
    except TicketError as error:
        logger.info("Rule %s refused on ticket %s: %s", rule.id, ticket.pk, error)
        record_automation_activity(
            ticket,
            TicketActivity.Verb.RULE_APPLIED,
            f"could not apply the rule “{rule.name}”: {error}",
            rule={"id": rule.id, "name": rule.name},
            actions=[],
            error=str(error),
        )
        return False
    ctx.refresh()
    return True


def _still_active(rule: CompiledRule) -> bool:
    """A matching rule is checked against its row before it acts: a rule switched off or
    deleted in a transaction this process's cache has not heard of (rolled back, or a
    cache that lost the version key) never fires. Matches are rare, so this costs little;
    a stale cache is thrown away."""
    from automation.models import Rule

    if Rule.objects.filter(pk=rule.id, active=True).exists():
        return True
    _compiled["version"] = None
    return False


def run_rules(
    ctx: TicketContext, rules: Iterable[CompiledRule], *, event_key: str = ""
) -> list[int]:
    """Evaluate ``rules`` in order on one ticket and fire those that match; returns the ids
    of the rules that fired."""
    fired: list[int] = []
    skip = _rules_in_progress.get()
    for rule in rules:
        if rule.id in skip:
            continue
        if ctx.ticket.status == "closed" or not rule.matches(ctx):
            continue
        if not _still_active(rule):
            continue
        if fire_rule(rule, ctx, event_key=event_key):
            fired.append(rule.id)
        if rule.stop_processing:
            break
    return fired
