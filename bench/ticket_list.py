"""Ticket list latency at 100,000 tickets, against the cheapest DRF endpoint in the same run.

    .venv/bin/python -m bench.ticket_list [--tickets 100000] [--requests 200] [--keep]

Creates a fresh PostgreSQL database (dropped at the end unless ``--keep``), migrates it, fills
it (bench.fill), runs VACUUM ANALYZE, then times each case through Django's real WSGI handler
(every middleware, token authentication, the full DRF cycle, the request_started/finished
signals) in this process, interleaving the cases so drift in the machine hits all of them
alike. It prints median and p95 per case, the SQL queries per request, the ratio of each p95
to the one-row endpoint's p95, and a verdict against the targets. It exits 0 whatever the
verdict: it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.common import (
    Timed,
    _non_negative,
    _positive,
    add_keep_option,
    add_server_option,
    add_wait_quiet_option,
    run_in_new_database,
    wait_for_quiet,
    wsgi_get,
)

if TYPE_CHECKING:
    from bench.fill import FilledDesk

P95_LIMIT_MS = 30.0
RATIO_LIMIT = 3.0
TICKET_LIST_PATH = "/api/v1/tickets/"
BASELINE_PATH = "/bench/one-row/"


@dataclass(frozen=True)
class Case:
    label: str
    path: str
    query: str = ""
    # Values every returned row must have, so a filter the API silently ignored is caught
    # instead of timed.
    expect: dict[str, str] = field(default_factory=dict)
    baseline: bool = False


@dataclass
class CaseResult(Timed):
    case: Case
    timings_ms: list[float]
    queries: int
    rows: int
    error: str = ""
    cpu_ms: list[float] = field(default_factory=list)

    @property
    def cpu_median_ms(self) -> float:
        """This process's CPU per request (PostgreSQL's work excluded): unlike the wall clock,
        it barely moves when other processes compete for the CPU."""
        return statistics.median(self.cpu_ms)


def cases_for(desk: FilledDesk) -> list[Case]:
    return [
        Case("minimal endpoint (one row)", BASELINE_PATH, baseline=True),
        Case("tickets, default first page", TICKET_LIST_PATH),
        Case(
            "tickets, open for one agent",
            TICKET_LIST_PATH,
            f"status=open&assignee={desk.busiest_agent_id}",
            expect={"status": "open"},
        ),
        Case(
            "tickets, pending on WhatsApp",
            TICKET_LIST_PATH,
            "channel=whatsapp&status=pending",
            expect={"status": "pending", "channel": "whatsapp"},
        ),
        Case("tickets, tagged refund", TICKET_LIST_PATH, "tag=refund"),
    ]


class WsgiClient:
    """Calls Django's WSGI handler the way a WSGI server does, with a token header."""

    def __init__(self, token: str) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()
        self.token = token

    def get(self, path: str, query: str = "") -> tuple[int, bytes]:
        headers = {"HTTP_ACCEPT": "application/json", "HTTP_AUTHORIZATION": f"Token {self.token}"}
        return wsgi_get(self.handler, path, query, headers)


def _check_response(case: Case, status: int, body: bytes) -> tuple[int, str]:
    """(rows returned, error or "")."""
    if status != 200:
        return 0, f"HTTP {status}: {body[:300].decode(errors='replace')}"
    payload = json.loads(body)
    if case.baseline:
        return 1, ""
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list):
        return 0, "no results list in the response"
    for row in results:
        for key, value in case.expect.items():
            if key in row and row[key] != value:
                return len(results), f"filter ignored: a row has {key}={row[key]!r}"
    return len(results), ""


def measure(
    client: WsgiClient,
    cases: Sequence[Case],
    *,
    requests: int,
    warmup: int,
    clock: Callable[[], float] = time.perf_counter,
    cpu_clock: Callable[[], float] = time.process_time,
) -> list[CaseResult]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = []
    for case in cases:
        status, body = client.get(case.path, case.query)
        rows, error = _check_response(case, status, body)
        results.append(CaseResult(case, [], 0, rows, error))
    live = [result for result in results if not result.error]

    for round_index in range(warmup + requests):
        # Rotating the order keeps any cost of going first or last off a single case.
        shift = round_index % len(live) if live else 0
        for result in live[shift:] + live[:shift]:
            started, cpu_started = clock(), cpu_clock()
            client.get(result.case.path, result.case.query)
            elapsed, cpu = (clock() - started) * 1000, (cpu_clock() - cpu_started) * 1000
            if round_index >= warmup:
                result.timings_ms.append(elapsed)
                result.cpu_ms.append(cpu)

    for result in live:
        with CaptureQueriesContext(connection) as captured:
            client.get(result.case.path, result.case.query)
        result.queries = len(captured.captured_queries)
    return results


def verdicts(results: Sequence[CaseResult]) -> tuple[dict[str, str], list[str]]:
    """Per-case verdict and the list of failures, against the baseline's p95."""
    baseline = next((r for r in results if r.case.baseline and not r.error), None)
    per_case: dict[str, str] = {}
    failures: list[str] = []
    for result in results:
        label = result.case.label
        if result.error:
            per_case[label] = "ERROR"
            failures.append(f"{label}: {result.error}")
        elif result.case.baseline:
            per_case[label] = "baseline"
        else:
            reasons = []
            if result.p95_ms >= P95_LIMIT_MS:
                reasons.append(f"p95 {result.p95_ms:.2f} ms ≥ {P95_LIMIT_MS:.0f} ms")
            if baseline is None:
                reasons.append("no baseline to compare with")
            elif result.p95_ms / baseline.p95_ms >= RATIO_LIMIT:
                ratio = result.p95_ms / baseline.p95_ms
                reasons.append(f"p95 is {ratio:.2f}× the baseline's (limit {RATIO_LIMIT:.1f}×)")
            per_case[label] = "FAIL" if reasons else "PASS"
            failures.extend(f"{label}: {reason}" for reason in reasons)
    return per_case, failures


def format_table(results: Sequence[CaseResult]) -> str:
    baseline = next((r for r in results if r.case.baseline and not r.error), None)
    per_case, failures = verdicts(results)
    width = max(len(r.case.label) for r in results)
    requests = {
        r.case.label: r.case.path + (f"?{r.case.query}" if r.case.query else "") for r in results
    }
    request_width = max(len(request) for request in requests.values())
    lines = [
        f"{'case':<{width}}  {'request':<{request_width}} {'rows':>4} {'queries':>7} "
        f"{'median ms':>9} {'p95 ms':>7} {'p95/min':>7} {'cpu ms':>6}  verdict",
    ]
    for result in results:
        request = requests[result.case.label]
        if result.error:
            figures = f"{'-':>9} {'-':>7} {'-':>7} {'-':>6}"
        else:
            ratio = f"{result.p95_ms / baseline.p95_ms:.2f}×" if baseline else "-"
            figures = (
                f"{result.median_ms:>9.2f} {result.p95_ms:>7.2f} {ratio:>7} "
                f"{result.cpu_median_ms:>6.2f}"
            )
        lines.append(
            f"{result.case.label:<{width}}  {request:<{request_width}} {result.rows:>4} "
            f"{result.queries:>7} "
            f"{figures}  {per_case[result.case.label]}"
        )
    if failures:
        lines.append(f"VERDICT: FAIL ({len(failures)} problem(s))")
        lines.extend(f"  - {failure}" for failure in failures)
    else:
        lines.append(
            f"VERDICT: PASS: every ticket-list case has p95 < {P95_LIMIT_MS:.0f} ms and within "
            f"{RATIO_LIMIT:.1f}× the minimal endpoint's p95"
        )
    return "\n".join(lines)


def explain(client: WsgiClient, cases: Sequence[Case]) -> str:
    """Every SQL query of each ticket-list case with its EXPLAIN (ANALYZE, BUFFERS) plan."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out = []
    for case in cases:
        if case.baseline:
            continue
        with CaptureQueriesContext(connection) as captured:
            client.get(case.path, case.query)
        out.append(f"=== {case.label}: {case.path}?{case.query}")
        for query in captured.captured_queries:
            sql = query["sql"]
            out.append(f"--- {sql}")
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                out.extend(f"    {line}" for (line,) in cursor.fetchall())
    return "\n".join(out)


def agent_token(agent_id: int) -> str:
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user_id=agent_id)
    return str(token.key)


def auth_summary() -> str:
    from bench.views import ticket_list_view_class

    view = ticket_list_view_class()
    authentication = ", ".join(cls.__name__ for cls in view.authentication_classes)
    permissions = ", ".join(getattr(cls, "__name__", repr(cls)) for cls in view.permission_classes)
    return (
        f"authentication {authentication}; permissions {permissions} "
        "(the ticket list's classes, shared by the minimal endpoint)"
    )


# --- The command line ------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ticket_list", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--tickets", type=_positive, default=100_000)
    parser.add_argument("--requests", type=_positive, default=200, help="timed per case")
    parser.add_argument("--warmup", type=_non_negative, default=20, help="rounds, untimed")
    parser.add_argument("--seed", type=int, default=2024)
    add_server_option(parser)
    add_keep_option(parser)
    add_wait_quiet_option(parser)
    parser.add_argument(
        "--explain", action="store_true", help="print each ticket-list query's plan"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    server = args.server.rstrip("/")
    database = f"switchboard_bench_{os.getpid()}"
    return run_in_new_database(server, database, lambda url: _run(args, url), keep=args.keep)


def _run(args: argparse.Namespace, database_url: str) -> int:
    os.environ["DATABASE_URL"] = database_url
    # Persistent connections, as the production web service (gunicorn) runs them: without
    # them every request pays a new PostgreSQL connection, which would hide the ticket
    # list's own cost behind a fixed one.
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.fill import fill, vacuum_analyze

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrated = time.perf_counter()
    desk = fill(args.tickets, seed=args.seed)
    filled = time.perf_counter()
    vacuum_analyze()
    analyzed = time.perf_counter()
    print(
        f"migrate {migrated - started:.1f} s; fill {filled - migrated:.1f} s "
        f"({desk.tickets:,} tickets, {desk.messages:,} messages, {desk.customers:,} customers); "
        f"VACUUM ANALYZE {analyzed - filled:.1f} s"
    )

    client = WsgiClient(agent_token(desk.measuring_agent_id))
    cases = cases_for(desk)
    wait_for_quiet(args.wait_quiet)
    load_before = os.getloadavg()[0]
    results = measure(client, cases, requests=args.requests, warmup=args.warmup)
    load_after = os.getloadavg()[0]
    postgres = getattr(connection, "pg_version", 0) // 10000
    print(
        f"PostgreSQL {postgres}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {os.cpu_count()} CPUs; {args.requests} timed requests "
        f"per case after {args.warmup} warm-up rounds, cases interleaved; "
        f"DATABASE_CONN_MAX_AGE={os.environ['DATABASE_CONN_MAX_AGE']}"
    )
    print(auth_summary())
    # This run keeps about one CPU busy (Python here, PostgreSQL in turn); more than that
    # means other processes shared the CPUs and the wall-clock figures are inflated.
    busy = max(load_before, load_after)
    print(f"load average {load_before:.2f} before, {load_after:.2f} after measuring", end="")
    print(
        ": WARNING, other processes competed for the CPUs; compare the cpu ms column"
        if busy > 1.5
        else ""
    )
    print()
    print(format_table(results))
    if args.explain:
        print()
        print(explain(client, cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
