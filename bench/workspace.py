"""The agent workspace at a million tickets: page server time and live delivery latency.

    .venv/bin/python -m bench.workspace [--tickets 1000000] [--messages-per-ticket 5]
                                        [--requests 100] [--sockets 50] [--events 200] [--keep]

Creates a fresh PostgreSQL database (dropped at the end unless ``--keep``), migrates it, fills
it with ``bench.fill`` (about five messages per ticket by default: 1,000,000 tickets and
5,000,000 messages), runs VACUUM ANALYZE, and measures:

1. Server time of the workspace pages through Django's real WSGI handler in this process
   (every middleware, the agent's session, the templates), interleaved round by round: the
   inbox's default view, a filtered view, a search, a ticket page with 50 messages and one
   with 5 (their query counts must be equal: constant queries), and a minimal page that
   renders one row through the same session and middleware, as the baseline.
2. Live delivery: ``--sockets`` agents connected over WebSockets to a real uvicorn serving
   ``helpdesk.asgi`` with the Redis channel layer; this process calls ``events.emit()`` for
   ``--events`` ticket updates and each socket records when the push arrives. It prints p50
   and p95 of emit → receipt over every (event, socket) pair and how many pushes were lost.

It exits 0 whatever the verdict: it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import (
    Timed,
    _non_negative,
    _positive,
    add_keep_option,
    add_redis_option,
    add_server_option,
    add_wait_quiet_option,
    percentile,
    run_with_redis_and_database,
    wait_for_quiet,
    wsgi_get,
)
from bench.email_ingest import START_TIMEOUT, Service, _start, free_port

BASELINE_PATH = "/bench/one-row-page/"
INBOX_P95_MS = 50.0
SEARCH_P95_MS = 150.0
TICKET_P95_MS = 80.0
LIVE_P95_MS = 100.0
# Words of the fabricated messages: bench.fill writes from a few dozen sentences, so any
# word is in a tenth of all messages, a far heavier search than a real desk's vocabulary
# gives. The other two searches are what agents type most: a customer's email address and
# an order number.
SEARCH_WORDS = "charged twice"
# A page whose second answer takes this many times its target is reported, not timed.
TOO_SLOW_FACTOR = 10


@dataclass(frozen=True)
class Page:
    label: str
    path: str
    query: str = ""
    limit_ms: float | None = None
    baseline: bool = False
    # Text every answer must contain, so an error page or an empty result is caught
    # instead of timed.
    expect: str = ""


@dataclass
class PageResult(Timed):
    page: Page
    timings_ms: list[float] = field(default_factory=list)
    queries: int = 0
    error: str = ""


class SessionClient:
    """Calls Django's WSGI handler as a WSGI server does, as a signed-in agent's browser."""

    def __init__(self, cookie: str) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()
        self.cookie = cookie

    def get(self, path: str, query: str = "") -> tuple[int, bytes]:
        headers = {"HTTP_ACCEPT": "text/html", "HTTP_COOKIE": self.cookie}
        return wsgi_get(self.handler, path, query, headers)


def session_cookie(user_id: int) -> str:
    """A signed-in session for the agent, as the sign-in page would leave it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from helpdesk.models import User

    user = User.objects.get(pk=user_id)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def filled_agents() -> list[int]:
    from helpdesk.models import User

    return list(
        User.objects.filter(username__startswith="bench-agent-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def filled_summary() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM tickets_ticket), (SELECT count(*) FROM tickets_message)"
        )
        tickets, messages = cursor.fetchone()
    return f"reusing the filled desk: {tickets:,} tickets, {messages:,} messages"


def ticket_with_messages(count: int) -> int:
    """The number of an open ticket holding exactly ``count`` messages (messages are added
    to one that has fewer)."""
    from django.db.models import Count

    from tickets.models import Message, Ticket

    ticket = (
        Ticket.objects.filter(status=Ticket.Status.OPEN)
        .annotate(messages_count=Count("messages"))
        .filter(messages_count__lte=count, messages_count__gte=2)
        .order_by("-id")
        .first()
    )
    if ticket is None:
        raise RuntimeError("no open ticket to grow")
    existing = list(ticket.messages.order_by("id"))
    missing = count - len(existing)
    template = existing[-1]
    Message.objects.bulk_create(
        Message(
            ticket=ticket,
            direction=template.direction if index % 2 else Message.Direction.INBOUND,
            kind=template.kind if index % 2 else Message.Kind.CUSTOMER,
            author_agent_id=template.author_agent_id if index % 2 else None,
            author_customer_id=None if index % 2 else ticket.customer_id,
            channel_account_id=template.channel_account_id,
            text=f"Follow-up {index}: {template.text}",
            html=template.html,
            provider_message_id=f"bench-page-{ticket.pk}-{index}",
        )
        for index in range(missing)
    )
    return ticket.number


def search_samples() -> tuple[str, str]:
    """A customer's email address and an order number that the open view finds."""
    from customers.models import Order
    from tickets.models import Ticket

    open_tickets = Ticket.objects.filter(status=Ticket.Status.OPEN).order_by("-id")
    email = open_tickets.values_list("customer__email", flat=True)[0]
    order = (
        Order.objects.filter(customer__tickets__in=open_tickets[:50])
        .values_list("number", flat=True)
        .first()
    )
    if order is None:
        raise RuntimeError("no order of a customer with an open ticket")
    return email, order


def pages_for(long_ticket: int, short_ticket: int, email: str, order: str) -> list[Page]:
    return [
        Page("minimal page (one row)", BASELINE_PATH, baseline=True, expect="bench-one-row"),
        Page("inbox, default view", "/inbox/", limit_ms=INBOX_P95_MS, expect="ticket-rows"),
        Page(
            "inbox, filtered",
            "/inbox/",
            "view=open&channel=whatsapp&priority=high",
            limit_ms=INBOX_P95_MS,
            expect="ticket-rows",
        ),
        Page(
            "inbox, search: customer email",
            "/inbox/",
            "view=open&" + urlencode({"q": email}),
            limit_ms=SEARCH_P95_MS,
            expect="ticket-rows",
        ),
        Page(
            "inbox, search: order number",
            "/inbox/",
            "view=open&" + urlencode({"q": order}),
            limit_ms=SEARCH_P95_MS,
            expect="ticket-rows",
        ),
        Page(
            "inbox, search: common words",
            "/inbox/",
            "view=open&" + urlencode({"q": SEARCH_WORDS}),
            limit_ms=SEARCH_P95_MS,
            expect="<mark",
        ),
        Page(
            "ticket page, 50 messages",
            f"/tickets/{long_ticket}/",
            limit_ms=TICKET_P95_MS,
            expect="Follow-up 1:",
        ),
        Page("ticket page, 5 messages", f"/tickets/{short_ticket}/", limit_ms=TICKET_P95_MS),
    ]


def measure_pages(
    client: SessionClient, pages: Sequence[Page], *, requests: int, warmup: int
) -> list[PageResult]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = []
    for page in pages:
        client.get(page.path, page.query)  # the first answer compiles templates, warms caches
        started = time.perf_counter()
        status, body = client.get(page.path, page.query)
        first_ms = (time.perf_counter() - started) * 1000
        result = PageResult(page)
        if page.limit_ms is not None and first_ms > TOO_SLOW_FACTOR * page.limit_ms:
            result.error = f"too slow to time: one answer took {first_ms / 1000:.1f} s"
        elif status != 200:
            result.error = f"HTTP {status}: {body[:200].decode(errors='replace')}"
        elif page.expect and page.expect.encode() not in body:
            result.error = f"the answer lacks {page.expect!r}"
        results.append(result)
    live = [result for result in results if not result.error]
    for round_index in range(warmup + requests):
        shift = round_index % len(live) if live else 0
        for result in live[shift:] + live[:shift]:
            started = time.perf_counter()
            client.get(result.page.path, result.page.query)
            elapsed = (time.perf_counter() - started) * 1000
            if round_index >= warmup:
                result.timings_ms.append(elapsed)
    for result in live:
        with CaptureQueriesContext(connection) as captured:
            client.get(result.page.path, result.page.query)
        result.queries = len(captured.captured_queries)
    return results


def format_pages(results: Sequence[PageResult]) -> tuple[str, list[str]]:
    baseline = next((r for r in results if r.page.baseline and not r.error), None)
    width = max(len(r.page.label) for r in results)
    lines = [
        f"{'page':<{width}} {'queries':>7} {'median ms':>9} {'p95 ms':>7} {'p95/min':>7}  target"
    ]
    failures: list[str] = []
    for result in results:
        page = result.page
        if result.error:
            lines.append(f"{page.label:<{width}} {'-':>7} {'-':>9} {'-':>7} {'-':>7}  ERROR")
            failures.append(f"{page.label}: {result.error}")
            continue
        ratio = f"{result.p95_ms / baseline.p95_ms:.2f}×" if baseline else "-"
        if page.limit_ms is None:
            verdict = "baseline"
        elif result.p95_ms < page.limit_ms:
            verdict = f"PASS (< {page.limit_ms:.0f} ms)"
        else:
            verdict = f"FAIL (≥ {page.limit_ms:.0f} ms)"
            failures.append(f"{page.label}: p95 {result.p95_ms:.1f} ms ≥ {page.limit_ms:.0f} ms")
        lines.append(
            f"{page.label:<{width}} {result.queries:>7} {result.median_ms:>9.2f} "
            f"{result.p95_ms:>7.2f} {ratio:>7}  {verdict}"
        )
    tickets = [r for r in results if r.page.label.startswith("ticket page") and not r.error]
    if len(tickets) == 2 and tickets[0].queries != tickets[1].queries:
        failures.append(
            f"ticket page queries grow with messages: {tickets[0].queries} with 50, "
            f"{tickets[1].queries} with 5"
        )
    return "\n".join(lines), failures


# --- Live delivery ----------------------------------------------------------------------------


def start_realtime(environ: dict[str, str], logs: Path, port: int) -> Service:
    """uvicorn as docker-compose.yml's ``realtime`` service runs it, on a loopback port."""
    import http.client

    command = [
        *(sys.executable, "-m", "uvicorn", "helpdesk.asgi:application"),
        *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
    ]
    service = _start("realtime", command, environ, logs)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            probe.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            if probe.getresponse().status == 200:
                return service
        except OSError:
            pass
        if service.process.poll() is not None or time.monotonic() > deadline:
            service.stop()
            raise RuntimeError(f"the realtime server did not start:\n{service.output()}")
        time.sleep(0.2)


@dataclass
class LiveResult:
    latencies_ms: list[float]
    expected: int
    connected: int


async def _listen(
    port: int, cookie: str, sent_at: dict[int, float], received: list[float], ready: Any
) -> None:
    import websockets

    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/agent/",
        additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"},
        open_timeout=30,
    ) as socket:
        ready()
        async for frame in socket:
            arrived = time.perf_counter()
            content = json.loads(frame)
            data = content.get("data") or {}
            ticket_id = data.get("ticket_id")
            if content.get("event") == "ticket.updated" and ticket_id in sent_at:
                received.append((arrived - sent_at[ticket_id]) * 1000)


def measure_live(port: int, cookies: Sequence[str], *, events: int, gap: float) -> LiveResult:
    from helpdesk.events import TicketUpdated, emit

    sent_at: dict[int, float] = {}
    received: list[float] = []
    connected = threading.Semaphore(0)
    counter = {"ready": 0}
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def ready() -> None:
        counter["ready"] += 1
        connected.release()

    async def listen_until_stopped() -> None:
        listeners = [
            asyncio.create_task(_listen(port, cookie, sent_at, received, ready))
            for cookie in cookies
        ]
        await stop.wait()
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)

    thread = threading.Thread(target=loop.run_until_complete, args=(listen_until_stopped(),))
    thread.start()
    deadline = time.monotonic() + 60
    for _ in cookies:
        if not connected.acquire(timeout=max(0.1, deadline - time.monotonic())):
            break
    time.sleep(0.5)  # every consumer has joined its groups
    # Ids far above the filled tickets: the pushes carry ids only, nobody fetches them.
    first_id = 900_000_000
    for index in range(events):
        ticket_id = first_id + index
        sent_at[ticket_id] = time.perf_counter()
        emit(TicketUpdated(ticket_id=ticket_id, fields=("bench",)))
        time.sleep(gap)
    time.sleep(2.0)  # stragglers
    loop.call_soon_threadsafe(stop.set)
    thread.join(timeout=30)
    loop.close()
    return LiveResult(received, events * counter["ready"], counter["ready"])


# --- The command line ----------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.workspace", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--tickets", type=_positive, default=1_000_000)
    parser.add_argument("--messages-per-ticket", type=float, default=5.5)
    parser.add_argument("--requests", type=_positive, default=100, help="timed per page")
    parser.add_argument("--warmup", type=_non_negative, default=10, help="rounds, untimed")
    parser.add_argument("--sockets", type=_positive, default=50)
    parser.add_argument("--events", type=_positive, default=200)
    parser.add_argument("--seed", type=int, default=2024)
    add_server_option(parser)
    add_redis_option(parser)
    add_keep_option(parser)
    parser.add_argument(
        "--reuse",
        metavar="DATABASE",
        help="measure a database an earlier --keep run filled, without filling (kept)",
    )
    add_wait_quiet_option(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    server = args.server.rstrip("/")
    database = args.reuse or f"switchboard_bench_workspace_{os.getpid()}"
    return run_with_redis_and_database(
        server,
        args.redis,
        database,
        lambda url, scratch: _run(args, url, database, scratch),
        scratch_prefix="bench-workspace-",
        keep=args.keep or bool(args.reuse),
        create=not args.reuse,
    )


def _run(args: argparse.Namespace, database_url: str, prefix: str, scratch: Path) -> int:
    environ = {
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "60",
        "REDIS_URL": args.redis,
        "REDIS_KEY_PREFIX": prefix,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(environ)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from bench.fill import fill, vacuum_analyze

    # Only the browsers' push is measured: no consumer task is handed the bench's events.
    settings.EVENT_CONSUMER_TASKS = []
    if args.reuse:
        agents = filled_agents()
        print(filled_summary())
    else:
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        migrated = time.perf_counter()
        desk = fill(args.tickets, seed=args.seed, messages_per_ticket=args.messages_per_ticket)
        agents = list(desk.agent_ids)
        filled = time.perf_counter()
        vacuum_analyze()
        analyzed = time.perf_counter()
        print(
            f"migrate {migrated - started:.1f} s; fill {filled - migrated:.1f} s "
            f"({desk.tickets:,} tickets, {desk.messages:,} messages, {desk.customers:,} "
            f"customers); VACUUM ANALYZE {analyzed - filled:.1f} s"
        )
    long_ticket = ticket_with_messages(50)
    short_ticket = ticket_with_messages(5)
    email, order = search_samples()

    client = SessionClient(session_cookie(agents[-1]))
    wait_for_quiet(args.wait_quiet)
    load_before = os.getloadavg()[0]
    pages = pages_for(long_ticket, short_ticket, email, order)
    results = measure_pages(client, pages, requests=args.requests, warmup=args.warmup)
    load_after = os.getloadavg()[0]
    postgres = getattr(connection, "pg_version", 0) // 10000
    print(
        f"PostgreSQL {postgres}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {os.cpu_count()} CPUs; {args.requests} timed requests "
        f"per page after {args.warmup} warm-up rounds, pages interleaved; session sign-in; "
        f"load average {load_before:.2f} before, {load_after:.2f} after"
    )
    table, failures = format_pages(results)
    print(table)

    cookies = [session_cookie(agents[index % len(agents)]) for index in range(args.sockets)]
    logs = scratch / "logs"
    logs.mkdir(parents=True)
    port = free_port()
    realtime = start_realtime({**os.environ, **environ}, logs, port)
    try:
        live = measure_live(port, cookies, events=args.events, gap=0.02)
    finally:
        realtime.stop()
    lost = live.expected - len(live.latencies_ms)
    print()
    print(
        f"live delivery: {live.connected} of {args.sockets} sockets connected over "
        f"channels_redis; {args.events} events emitted 20 ms apart; "
        f"{len(live.latencies_ms):,} of {live.expected:,} pushes received ({lost} lost)"
    )
    if live.latencies_ms:
        p50 = percentile(live.latencies_ms, 0.50)
        p95 = percentile(live.latencies_ms, 0.95)
        print(
            f"emit → receipt: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p95 < {LIVE_P95_MS:.0f})"
        )
        if p95 >= LIVE_P95_MS:
            failures.append(f"live delivery p95 {p95:.1f} ms ≥ {LIVE_P95_MS:.0f} ms")
    else:
        failures.append(f"no push arrived; see {logs}")
    if live.connected < args.sockets:
        failures.append(f"only {live.connected} of {args.sockets} sockets connected")
    if lost:
        failures.append(f"{lost} pushes lost")
    if failures:
        print(f"VERDICT: FAIL ({len(failures)} problem(s))")
        for failure in failures:
            print(f"  - {failure}")
    else:
        print("VERDICT: PASS: every page and the live delivery within their targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
