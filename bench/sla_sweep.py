"""The SLA sweep over 1,000,000 open tickets with SLA clocks, against a plain indexed count
of the due tickets in the same run.

    .venv/bin/python -m bench.sla_sweep [--tickets 1000000] [--due 1000] [--keep]

Creates a fresh PostgreSQL database (dropped at the end unless ``--keep``), migrates it and
fills it in SQL (``generate_series``): the tickets, one ``TicketSla`` per ticket and two
clocks per ticket (first response and resolution), with ``--due`` tickets whose moment has
come (half of them a warning, half a breach) and the rest spread over the coming week, as a
help desk with a week of targets ahead sees them. Then VACUUM ANALYZE, the baseline (``SELECT
count(*)`` of the due rows through the ``next_check_at`` index, median of 5), and one sweep
(``automation.sla.services.sweep_sla``): each due ticket locked, its clocks marked with a
conditional UPDATE, its timeline line written and its event emitted. Event consumers are
not run here (``EVENT_CONSUMER_TASKS`` empty: in production the sweep only enqueues them);
the realtime push goes to the in-memory channel layer. It prints both times, the ratio and a
verdict against the 5 s target, and exits 0 whatever the verdict: it is a measurement.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.common import _positive, add_keep_option, add_server_option, run_in_new_database

TARGET_SECONDS = 5.0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sla_sweep", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--tickets", type=_positive, default=1_000_000)
    parser.add_argument("--due", type=_positive, default=1_000, help="tickets due at the sweep")
    add_server_option(parser)
    add_keep_option(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.due > args.tickets:
        print("--due cannot exceed --tickets", file=sys.stderr)
        return 2
    server = args.server.rstrip("/")
    database = f"switchboard_bench_sla_{os.getpid()}"
    return run_in_new_database(server, database, lambda url: _run(args, url), keep=args.keep)


def _sql_defaults(model: Any, given: Sequence[str]) -> tuple[list[str], list[Any]]:
    """Columns and values for the model's required fields the fill does not name (their
    defaults), so a column added later does not break the benchmark."""
    from django.db.models import NOT_PROVIDED
    from psycopg.types.json import Jsonb

    columns: list[str] = []
    values: list[Any] = []
    for field in model._meta.concrete_fields:
        if field.column in given or field.primary_key or field.null:
            continue
        if field.db_default is not NOT_PROVIDED:
            continue
        value = field.get_default()
        if value is None:
            raise RuntimeError(f"bench.sla_sweep does not fill {model.__name__}.{field.name}")
        columns.append(field.column)
        values.append(Jsonb(value) if isinstance(value, dict | list) else value)
    return columns, values


def fill(tickets: int, due: int) -> tuple[int, Any]:
    """Fill in SQL; returns the number of clocks and the sweep's ``now``."""
    from django.db import connection
    from django.utils import timezone

    from automation.models import SlaClock, SlaPolicy, TicketSla
    from customers.models import Customer
    from tickets.models import Ticket

    now = timezone.now()
    customer = Customer.objects.create(name="Bench customer", email="bench@example.com")
    policy = SlaPolicy.objects.create(
        name="Bench", first_response_minutes=60, resolution_minutes=2880, warning_minutes=15
    )
    step = max(1, tickets // due)
    given = [
        "number",
        "subject",
        "customer_id",
        "status",
        "priority",
        "channel",
        "created_at",
        "updated_at",
    ]
    extra_columns, extra_values = _sql_defaults(Ticket, given)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in [*given, *extra_columns])
    placeholders = "".join(", %s" for _ in extra_values)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Ticket._meta.db_table} ({columns}) "  # noqa: S608  (model names)
            "SELECT g, 'Ticket ' || g, %s, 'open', 'normal', 'email', "
            f"%s - make_interval(mins => g %% 600), %s{placeholders} "
            "FROM generate_series(1, %s) AS g",
            [customer.pk, now, now, *extra_values, tickets],
        )
        # The due tickets: every ``step``-th one, up to ``due`` of them, with a next check in
        # the last five minutes; the others over the next week.
        cursor.execute(
            f"INSERT INTO {TicketSla._meta.db_table} "  # noqa: S608  (model names)
            "(ticket_id, policy_id, paused, next_check_at, updated_at) "
            "SELECT t.id, %s, false, "
            "  CASE WHEN t.number %% %s = 0 AND t.number / %s <= %s "
            "       THEN %s - make_interval(secs => 1 + (t.number %% 300)) "
            "       ELSE %s + make_interval(mins => 1 + (t.number %% 10080)) END, "
            "  %s "
            f"FROM {Ticket._meta.db_table} t",
            [policy.pk, step, step, due, now, now, now],
        )
        # Clocks: the first response is what is due (even tickets: the warning, odd: the
        # breach), the resolution two days later.
        clock_columns = (
            "ticket_id, policy_id, target, cycle, target_minutes, state, started_at, "
            "due_at, warn_at, elapsed_minutes"
        )
        cursor.execute(
            f"INSERT INTO {SlaClock._meta.db_table} ({clock_columns}) "  # noqa: S608
            "SELECT s.ticket_id, s.policy_id, 'first_response', 0, 60, 'running', t.created_at, "
            "  CASE WHEN s.next_check_at <= %s AND (t.number / %s) %% 2 = 0 "
            "       THEN s.next_check_at + interval '15 minutes' ELSE s.next_check_at END, "
            "  CASE WHEN s.next_check_at <= %s AND (t.number / %s) %% 2 = 0 "
            "       THEN s.next_check_at ELSE s.next_check_at - interval '15 minutes' END, "
            "  0 "
            f"FROM {TicketSla._meta.db_table} s "
            f"JOIN {Ticket._meta.db_table} t ON t.id = s.ticket_id",
            [now, step, now, step],
        )
        cursor.execute(
            f"INSERT INTO {SlaClock._meta.db_table} ({clock_columns}) "  # noqa: S608
            "SELECT s.ticket_id, s.policy_id, 'resolution', 0, 2880, 'running', t.created_at, "
            "  s.next_check_at + interval '2 days', "
            "  s.next_check_at + interval '2 days' - interval '15 minutes', 0 "
            f"FROM {TicketSla._meta.db_table} s "
            f"JOIN {Ticket._meta.db_table} t ON t.id = s.ticket_id"
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM "  # noqa: S608
            f"{Ticket._meta.db_table}))",
            [Ticket._meta.db_table],
        )
    return SlaClock.objects.count(), now


def _run(args: argparse.Namespace, database_url: str) -> int:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from automation.models import TicketSla
    from automation.sla.services import sweep_sla
    from tickets.models import TicketActivity

    settings.EVENT_CONSUMER_TASKS = []
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrated = time.perf_counter()
    clocks, now = fill(args.tickets, args.due)
    filled = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    analyzed = time.perf_counter()
    print(
        f"migrate {migrated - started:.1f} s; fill {filled - migrated:.1f} s "
        f"({args.tickets:,} open tickets with SLA state, {clocks:,} clocks); "
        f"VACUUM ANALYZE {analyzed - filled:.1f} s"
    )

    due_rows = TicketSla.objects.filter(next_check_at__lte=now)
    with connection.cursor() as cursor:
        sql, params = due_rows.values("pk").query.sql_with_params()
        cursor.execute(f"EXPLAIN SELECT count(*) FROM ({sql}) AS due", params)  # noqa: S608
        plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
    print(f"plan of the due count:\n{plan}")

    timings = []
    count = 0
    for _ in range(5):
        begin = time.perf_counter()
        count = due_rows.count()
        timings.append(time.perf_counter() - begin)
    baseline = statistics.median(timings)

    begin = time.perf_counter()
    result = sweep_sla(now=now)
    sweep = time.perf_counter() - begin
    left = due_rows.count()
    lines = TicketActivity.objects.filter(
        verb__in=(TicketActivity.Verb.SLA_WARNING, TicketActivity.Verb.SLA_BREACHED)
    ).count()

    postgres = getattr(connection, "pg_version", 0) // 10000
    print(
        f"PostgreSQL {postgres}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"due tickets: {count:,} of {args.tickets:,} ({count / args.tickets:.2%})")
    print(f"baseline  indexed count of due tickets   {baseline * 1000:9.2f} ms (median of 5)")
    print(
        f"sweep     {result.tickets:,} tickets, {result.warnings:,} warnings, "
        f"{result.breaches:,} breaches   {sweep * 1000:9.1f} ms "
        f"({sweep / max(result.tickets, 1) * 1000:.2f} ms per ticket)"
    )
    print(f"ratio     sweep / baseline = {sweep / baseline:,.0f}x")
    print(f"after the sweep: {left} due tickets left, {lines:,} warning/breach timeline lines")
    verdict = "PASS" if sweep < TARGET_SECONDS else "FAIL"
    print(f"verdict   {verdict}: sweep {sweep:.2f} s (target < {TARGET_SECONDS:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
