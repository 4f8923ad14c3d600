"""Rule evaluation throughput: events/s per worker with 200 active rules against none.

    .venv/bin/python -m bench.rule_eval [--rules 200] [--events 3000] [--tickets 300]
                                        [--postgres] [--server postgres://...] [--keep]

Creates a fresh database (a temporary SQLite file by default; with ``--postgres`` a new
PostgreSQL database on ``--server`` / ``BENCH_POSTGRES_URL``, dropped at the end unless
``--keep``), migrates it, adds tickets (customers with tags and locales, orders on some) and
``--rules`` realistic active rules spread over the triggers, most of which do not match most
events: channel, subject and body keywords, regexes, tags, priority, order facts, language,
customer tags. Then it feeds one mixed stream of events (customer messages, ticket updates,
ticket creations) through the real handler, ``automation.rules.handlers.handle_event``, in
this one process, as a worker would: first with the rules active, then with every rule
switched off, in alternating rounds so drift in the machine hits both alike. It prints
events/s for each, the ratio, how many rule firings the stream caused, and a verdict
against the target (500 events/s with 200 rules). Exits 0 whatever the verdict.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import _positive, add_keep_option, add_server_option, run_in_new_database

TARGET_PER_SECOND = 500.0

CHANNELS = ["email", "chat", "whatsapp", "sms", "messenger", "instagram", "telegram"]
WORDS = [
    "refund", "broken", "late", "invoice", "cancel", "address", "size", "exchange", "coupon",
    "tracking", "damaged", "missing", "warranty", "payment", "login", "subscription",
]  # fmt: skip


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.rule_eval", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rules", type=_positive, default=200)
    parser.add_argument("--events", type=_positive, default=3000, help="per measured pass")
    parser.add_argument("--rounds", type=_positive, default=3, help="alternating passes each")
    parser.add_argument("--tickets", type=_positive, default=300)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    add_server_option(parser, described=False)
    add_keep_option(parser, help="keep the PostgreSQL database")
    return parser.parse_args(argv)


# --- Data -----------------------------------------------------------------------------------


def _rule_definitions(count: int, rng: random.Random, ids: dict[str, Any]) -> list[dict[str, Any]]:
    """Rules an online shop might have: narrow conditions, so most events match none."""
    triggers = (
        ["customer_message"] * 8 + ["ticket_created"] * 6 + ["ticket_updated"] * 5
        + ["agent_reply"] * 1
    )  # fmt: skip
    rules = []
    for index in range(count):
        trigger = triggers[index % len(triggers)]
        word = WORDS[index % len(WORDS)]
        channel = CHANNELS[index % len(CHANNELS)]
        shape = index % 8
        conditions: dict[str, Any]
        if shape == 0:
            conditions = {"all": [
                {"field": "channel", "op": "in", "value": [channel]},
                {"field": "body", "op": "contains", "value": f"{word}-{index}"},
            ]}  # fmt: skip
        elif shape == 1:
            conditions = {"all": [
                {"field": "subject", "op": "matches", "value": rf"\b{word}\s+#?\d{{4,}}-{index}"},
            ]}  # fmt: skip
        elif shape == 2:
            conditions = {"all": [
                {"field": "priority", "op": "in", "value": ["urgent"]},
                {"field": "tags", "op": "any_of", "value": [f"{word}-{index}"]},
            ]}  # fmt: skip
        elif shape == 3:
            conditions = {"all": [
                {"field": "customer_tags", "op": "any_of", "value": [f"segment-{index}"]},
                {"field": "has_order", "op": "is", "value": True},
            ]}  # fmt: skip
        elif shape == 4:
            conditions = {"all": [
                {"field": "status", "op": "in", "value": ["pending"]},
                {"field": "language", "op": "in", "value": ["de"]},
                {"field": "subject", "op": "contains", "value": f"{word}-{index}"},
            ]}  # fmt: skip
        elif shape == 5:
            conditions = {"any": [
                {"field": "body", "op": "matches", "value": rf"order\s+{word}-{index}"},
                {"field": "subject", "op": "starts_with", "value": f"[{word}-{index}]"},
            ]}  # fmt: skip
        elif shape == 6:
            conditions = {"all": [
                {"field": "channel", "op": "in", "value": [channel]},
                {"field": "team", "op": "is_empty"},
                {"field": "order_total", "op": "gt", "value": 5000 + index},
            ]}  # fmt: skip
        else:
            conditions = {"all": [
                {"field": "assignee", "op": "in", "value": [ids["agent"]]},
                {"field": "fulfillment_status", "op": "in", "value": ["returned"]},
                {"field": "body", "op": "contains", "value": f"{word}-{index}"},
            ]}  # fmt: skip
        choices: list[list[dict[str, Any]]] = [
            [{"type": "add_tags", "tags": [word]}],
            [{"type": "set_priority", "priority": "high"}],
            [{"type": "assign_team", "team": ids["team"]}],
            [{"type": "add_note", "body": f"Check the {word} policy"}],
        ]
        actions = choices[index % 4]
        rules.append(
            {
                "name": f"{trigger} {word} #{index}",
                "trigger": trigger,
                "trigger_fields": ["status", "tags"] if trigger == "ticket_updated" else [],
                "conditions": conditions,
                "actions": actions,
            }
        )
    # Two broad rules that do match often (a tag on chat tickets, urgent words): firing has a
    # cost too, and a real desk has a few such rules.
    rules[0] = {
        "name": "Chat tickets are tagged",
        "trigger": "customer_message",
        "trigger_fields": [],
        "conditions": {"all": [{"field": "channel", "op": "in", "value": ["chat"]}]},
        "actions": [{"type": "add_tags", "tags": ["chat"]}],
    }
    rules[1] = {
        "name": "Chargebacks are urgent",
        "trigger": "customer_message",
        "trigger_fields": [],
        "conditions": {"all": [{"field": "body", "op": "contains", "value": "chargeback"}]},
        "actions": [{"type": "set_priority", "priority": "urgent"}],
    }
    rng.shuffle(rules)
    return rules


def _fill(args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    from decimal import Decimal

    from django.utils import timezone

    from automation.models import Rule
    from automation.rules.services import save_rule
    from customers.models import Customer, Order
    from helpdesk.models import Sequence as Counter
    from helpdesk.models import Team, User
    from tickets.models import Message, Ticket

    admin = User.objects.create_user("bench-admin", role=User.Role.ADMIN)
    agent = User.objects.create_user("bench-agent", role=User.Role.AGENT)
    team = Team.objects.create(name="Support", slug="support")
    tickets = []
    messages = []
    for index in range(args.tickets):
        customer = Customer.objects.create(
            name=f"Customer {index}",
            email=f"c{index}@example.com",
            locale=rng.choice(["en", "de", "pt-BR", "fr", ""]),
            tags=rng.sample(["vip", "wholesale", "new", "returning"], k=rng.randint(0, 2)),
        )
        if index % 3 == 0:
            Order.objects.create(
                customer=customer,
                store="shop",
                external_id=str(index),
                number=f"#{1000 + index}",
                placed_at=timezone.now(),
                currency="EUR",
                total=Decimal(rng.randint(10, 400)),
                fulfillment_status=rng.choice(["fulfilled", "unfulfilled"]),
            )
        word = rng.choice(WORDS)
        # Inserted directly: the bench measures rules, not threading.
        ticket = Ticket.objects.create(
            number=Counter.next_value("ticket"),
            customer=customer,
            channel=rng.choice(CHANNELS),
            subject=f"Question about {word} {rng.randint(100, 999)}",
        )
        body = f"Hello, my {word} issue with order {rng.randint(1000, 9999)}"
        if index % 50 == 0:
            body += " or I will file a chargeback"
        message = Message.objects.create(
            ticket=ticket, direction="inbound", kind="customer", text=body
        )
        tickets.append(ticket.pk)
        messages.append((ticket.pk, message.pk))
    ids = {"agent": agent.pk, "team": team.pk}
    for definition in _rule_definitions(args.rules, rng, ids):
        save_rule(Rule(active=True, **definition), actor=admin)
    return {"tickets": tickets, "messages": messages}


def _events(data: dict[str, Any], count: int, rng: random.Random) -> list[Any]:
    from helpdesk.events import MessageCreated, TicketCreated, TicketUpdated

    events: list[Any] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.45:
            ticket_id, message_id = rng.choice(data["messages"])
            events.append(
                MessageCreated(ticket_id=ticket_id, message_id=message_id, kind="customer")
            )
        elif roll < 0.85:
            fields = rng.choice([("status",), ("tags",), ("assignee",), ("priority",)])
            events.append(TicketUpdated(ticket_id=rng.choice(data["tickets"]), fields=fields))
        else:
            events.append(TicketCreated(ticket_id=rng.choice(data["tickets"])))
    return events


def _pass(events: list[Any]) -> tuple[float, float]:
    """Wall-clock and this process's CPU seconds for the events."""
    from automation.rules.handlers import handle_event

    started, cpu = time.perf_counter(), time.process_time()
    for event in events:
        # In autocommit, as the worker's task runs it (the engine opens a transaction per
        # rule that fires).
        handle_event(event)
    return time.perf_counter() - started, time.process_time() - cpu


def _calibration() -> float:
    """Seconds this machine takes for 1,000,000 iterations of a Python loop (about 0.03 s on
    an idle current laptop): a way to compare figures taken under different loads."""
    started = time.perf_counter()
    total = 0
    for number in range(1_000_000):
        total += number
    return time.perf_counter() - started


def _set_active(active: bool) -> None:
    from automation.models import Rule
    from automation.rules.engine import invalidate_rules

    Rule.objects.update(active=active)
    invalidate_rules()


def _run(args: argparse.Namespace, database_url: str) -> int:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command

    from automation.models import Rule, RuleFiring

    rng = random.Random(args.seed)
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrated = time.perf_counter()
    data = _fill(args, rng)
    filled = time.perf_counter()
    print(
        f"migrate {migrated - started:.1f} s; fill {filled - migrated:.1f} s "
        f"({len(data['tickets'])} tickets, {Rule.objects.filter(active=True).count()} rules)"
    )
    events = _events(data, args.events, rng)
    # Warm up both states (compiles the rules, loads the modules).
    _pass(events[:100])
    _set_active(False)
    _pass(events[:100])
    firings_before = RuleFiring.objects.count()
    with_rules: list[tuple[float, float]] = []
    without_rules: list[tuple[float, float]] = []
    for _ in range(args.rounds):
        _set_active(True)
        before = RuleFiring.objects.count()
        with_rules.append(_pass(events))
        fired = RuleFiring.objects.count() - before
        _set_active(False)
        without_rules.append(_pass(events))
    total = len(events) * args.rounds
    rate_rules = total / sum(wall for wall, _cpu in with_rules)
    rate_none = total / sum(wall for wall, _cpu in without_rules)
    cpu_rules = total / sum(cpu for _wall, cpu in with_rules)
    cpu_none = total / sum(cpu for _wall, cpu in without_rules)
    vendor = django.db.connection.vendor
    print(
        f"{vendor}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}, calibration loop {_calibration():.3f} s"
    )
    print(f"events per pass {len(events)}, passes {args.rounds} each (alternating)")
    print(f"with {args.rules} active rules: {rate_rules:,.0f} events/s")
    print(f"with zero rules:             {rate_none:,.0f} events/s")
    print(f"ratio (200 rules / none):    {rate_rules / rate_none:.3f}")
    print(
        f"per CPU-second of this process: {cpu_rules:,.0f} events/s with rules, "
        f"{cpu_none:,.0f} without (the database's own CPU not counted)"
    )
    print(
        f"rule firings in the last measured pass: {fired} "
        f"(all passes: {RuleFiring.objects.count() - firings_before})"
    )
    verdict = "PASS" if rate_rules >= TARGET_PER_SECOND else "FAIL"
    print(f"target ≥ {TARGET_PER_SECOND:.0f} events/s with {args.rules} rules: {verdict}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    os.environ.pop("REDIS_URL", None)  # one process, in-memory cache and eager tasks
    logging.disable(logging.INFO)  # eager tasks log each run; the figures are what counts
    if not args.postgres:
        with tempfile.TemporaryDirectory() as folder:
            return _run(args, f"sqlite:///{Path(folder) / 'rules.sqlite3'}")
    server = args.server.rstrip("/")
    database = f"switchboard_bench_rules_{os.getpid()}"
    return run_in_new_database(server, database, lambda url: _run(args, url), keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
