"""Webhook ingest: signed provider webhooks over HTTP to tickets, against a minimal view.

    .venv/bin/python -m bench.webhook_ingest [--webhooks 20000] [--connections 4]

Creates a fresh PostgreSQL database (dropped at the end unless ``--keep``), migrates it and
adds one account per messaging channel (WhatsApp, SMS, Messenger when the build has it,
Telegram). Starts the web server and a real ``celery -A helpdesk worker`` as
``docker-compose.yml`` runs them: gunicorn's sync workers (``--web-workers``, compose's
``WEB_CONCURRENCY`` default of 4) with DEBUG off, persistent database connections and the
access log, and the worker with ``--pool=prefork --concurrency=2``; Redis under a key prefix
of this run's own. Requests come as the proxy in front passes them on: the public host name
and ``X-Forwarded-Proto: https``. The providers' APIs are a fake on loopback
(``FakeProviderApi``): the Messenger adapter looks each new customer's name up there.

The client keeps ``--connections`` sockets (each a thread sending prepared HTTP/1.1
requests), so it costs a few microseconds per request. First it posts to a minimal view
(bench.views.webhook_baseline: an HMAC-SHA256 check and one INSERT) as many requests with
the same bodies, then the generated webhooks (bench.webhook_fixtures), and waits until every
one is a ticket message. Prints the throughput and the p50/p95 latency at the HTTP edge for
both, per provider, the end-to-end messages/s (first webhook posted → last message stored),
the counts that prove nothing was lost, duplicated or split over tickets, the CPU each
process used, and a verdict. Exits 0 whatever the verdict (2 when PostgreSQL or Redis
cannot be reached).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import secrets
import socket
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.common import (
    _positive,
    add_keep_option,
    add_redis_option,
    add_server_option,
    add_wait_quiet_option,
    percentile,
    run_with_redis_and_database,
    wait_for_quiet,
)
from bench.email_ingest import (
    START_TIMEOUT,
    Service,
    _cpu_seconds,
    _descendants,
    _postgres_backends,
    _redis_pids,
    _start,
    free_port,
    start_worker,
    worker_niceness,
)
from bench.webhook_fixtures import ACCOUNTS, PROVIDERS, GeneratedWebhook, generate, meta_signature

P95_LIMIT_MS = 25.0
# Webhook acceptance must reach this share of the minimal view's throughput.
RATIO_LIMIT = 0.5
TARGET_PER_SECOND = 300.0
PUBLIC_HOST = "help.shop.bench"
PUBLIC_BASE_URL = f"https://{PUBLIC_HOST}"
BASELINE_PATH = "/bench/webhook-baseline/"
GRAPH_VERSION = "v21.0"
POLL_SECONDS = 0.25
WARMUP_REQUESTS = 200
# Kept of each kind of problem, to print.
EXAMPLES = 5


# --- The client -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedRequest:
    label: str  # the provider, or "baseline"
    data: bytes  # the whole HTTP/1.1 request, head and body


def prepare(path: str, content_type: str, headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {PUBLIC_HOST}",
        "X-Forwarded-Proto: https",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def webhook_request(webhook: GeneratedWebhook) -> PreparedRequest:
    data = prepare(webhook.path, webhook.content_type, webhook.headers, webhook.body)
    return PreparedRequest(webhook.provider, data)


def baseline_request(webhook: GeneratedWebhook) -> PreparedRequest:
    """The same body, posted to the minimal view and signed with its secret."""
    from bench.views import WEBHOOK_BASELINE_HEADER, WEBHOOK_BASELINE_SECRET

    signature = meta_signature(WEBHOOK_BASELINE_SECRET, webhook.body)
    headers = ((WEBHOOK_BASELINE_HEADER, signature),)
    return PreparedRequest(
        "baseline", prepare(BASELINE_PATH, webhook.content_type, headers, webhook.body)
    )


class ServerClosed(ConnectionError):
    """The server closed the connection before a whole answer arrived."""


def _receive(sock: socket.socket, pending: bytearray) -> None:
    chunk = sock.recv(65536)
    if not chunk:
        raise ServerClosed("the server closed the connection before answering")
    pending += chunk


def read_response(sock: socket.socket, pending: bytearray) -> tuple[int, bool, bytes]:
    """(status, whether the server closes the connection, body) of one HTTP/1.1 answer;
    ``pending`` holds bytes received beyond it."""
    while (end := pending.find(b"\r\n\r\n")) < 0:
        _receive(sock, pending)
    head = bytes(pending[:end]).split(b"\r\n")
    del pending[: end + 4]
    status = int(head[0].split(b" ", 2)[1])
    length: int | None = None
    closes = chunked = False
    for line in head[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            closes = value == b"close"
        elif name == b"transfer-encoding":
            chunked = value == b"chunked"
    if chunked:
        chunks = bytearray()
        while True:
            while (line_end := pending.find(b"\r\n")) < 0:
                _receive(sock, pending)
            size = int(bytes(pending[:line_end]).split(b";")[0], 16)
            while len(pending) < line_end + 2 + size + 2:
                _receive(sock, pending)
            chunks += pending[line_end + 2 : line_end + 2 + size]
            del pending[: line_end + 2 + size + 2]
            if size == 0:
                return status, closes, bytes(chunks)
    if length is None:  # the body ends with the connection
        try:
            while True:
                _receive(sock, pending)
        except ServerClosed:
            body = bytes(pending)
            pending.clear()
            return status, True, body
    while len(pending) < length:
        _receive(sock, pending)
    body = bytes(pending[:length])
    del pending[:length]
    return status, closes, body


@dataclass
class PostResult:
    statuses: list[int]
    latencies_ms: list[float]
    problems: list[str] = field(default_factory=list)  # the first few, to print
    first_sent: float = 0.0  # time.time()
    last_answered: float = 0.0

    @property
    def seconds(self) -> float:
        return self.last_answered - self.first_sent


def post_all(requests: Sequence[PreparedRequest], *, port: int, connections: int) -> PostResult:
    """Send ``requests`` over ``connections`` sockets, each taking the next request in turn,
    so they go out in order. A socket is kept between requests unless the server closes it
    (gunicorn's sync workers close after every answer; the client then connects again, as
    a provider does). Latency runs from before connecting to the last byte of the answer."""
    result = PostResult(statuses=[0] * len(requests), latencies_ms=[0.0] * len(requests))
    counter = itertools.count()
    lock = threading.Lock()
    barrier = threading.Barrier(connections + 1)

    def run() -> None:
        sock: socket.socket | None = None
        pending = bytearray()
        barrier.wait()
        while True:
            with lock:
                index = next(counter)
            if index >= len(requests):
                break
            data = requests[index].data
            started = time.perf_counter()
            status, closes, body = 0, True, b""
            for attempt in (1, 2):
                reused = sock is not None
                try:
                    if sock is None:
                        sock = socket.create_connection(("127.0.0.1", port), timeout=120)
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sock.sendall(data)
                    status, closes, body = read_response(sock, pending)
                    break
                except OSError as error:
                    if sock is not None:
                        sock.close()
                    sock = None
                    pending.clear()
                    # A kept connection the server dropped while idle: connect again once.
                    if not (reused and attempt == 1):
                        status, closes, body = 0, True, str(error).encode()
                        break
            result.latencies_ms[index] = 1000 * (time.perf_counter() - started)
            result.statuses[index] = status
            if status != 200 and len(result.problems) < EXAMPLES:
                excerpt = " ".join(body[:300].decode("utf-8", "replace").split())[:120]
                result.problems.append(f"{requests[index].label} #{index}: {status} {excerpt}")
            if closes and sock is not None:
                sock.close()
                sock = None
                pending.clear()
        if sock is not None:
            sock.close()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    barrier.wait()
    result.first_sent = time.time()
    for thread in threads:
        thread.join()
    result.last_answered = time.time()
    return result


# --- Processes ------------------------------------------------------------------------------


def start_web(environ: dict[str, str], logs: Path, *, port: int, workers: int) -> Service:
    """gunicorn as docker-compose.yml's ``web`` service runs it, on a loopback port."""
    command = [
        *(sys.executable, "-m", "gunicorn", "helpdesk.wsgi:application"),
        *(f"--bind=127.0.0.1:{port}", "--forwarded-allow-ips=*", "--access-logfile=-"),
        "--timeout=60",
    ]
    service = _start("web", command, {**environ, "WEB_CONCURRENCY": str(workers)}, logs)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            probe.request(
                "GET", "/healthz", headers={"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https"}
            )
            if probe.getresponse().status == 200:
                return service
        except OSError:
            pass
        if service.process.poll() is not None or time.monotonic() > deadline:
            service.stop()
            raise RuntimeError(f"the web server did not start:\n{service.output()}")
        time.sleep(0.2)


class FakeProviderApi:
    """The providers' APIs on a loopback port (every ``*_API_BASE_URL`` points here), for
    what taking messages in calls. Graph's user profile endpoint answers with the
    customer's name (the Messenger adapter names a new customer through it); any other call
    is counted and answered 404, so one the benchmark did not expect shows in the report
    instead of going to the internet."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # PSID -> "first last"
        self.calls: Counter[str] = Counter()
        self.unexpected: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.partition("?")[0]
                user_id = path.rpartition("/")[2]
                if path == f"/{GRAPH_VERSION}/{user_id}" and user_id in fake.names:
                    fake.calls["Graph user profile"] += 1
                    first, _, last = fake.names[user_id].partition(" ")
                    self._answer(200, {"first_name": first, "last_name": last, "id": user_id})
                else:
                    self._unexpected()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._unexpected()

            def _unexpected(self) -> None:
                fake.calls["other"] += 1
                if len(fake.unexpected) < EXAMPLES:
                    fake.unexpected.append(f"{self.command} {self.path}")
                self._answer(404, {"error": {"message": "Not found", "code": 803}})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class CpuMeter:
    """CPU seconds per part of the system, sampled at moments of the run. PostgreSQL is this
    database's backends only; Redis is the whole server (other users included)."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups

    def sample(self) -> dict[str, dict[int, float]]:
        return {
            name: {pid: _cpu_seconds(pid) for pid in pids()} for name, pids in self.groups.items()
        }

    @staticmethod
    def used(
        before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
    ) -> dict[str, float]:
        # A process born in between counts from zero.
        return {
            name: sum(value - before.get(name, {}).get(pid, 0.0) for pid, value in now.items())
            for name, now in after.items()
        }


# --- Waiting and counting -------------------------------------------------------------------


def _unfinished_events(account_ids: Sequence[int]) -> int:
    from django.db.models import Q

    from channels_inbox.models import InboundEvent

    # Pending, or failed with a retry scheduled: the worker is not done with it.
    return (
        InboundEvent.objects.filter(channel_account_id__in=account_ids)
        .filter(Q(status="pending") | Q(status="failed", next_attempt_at__isnull=False))
        .count()
    )


def wait_until_stored(account_ids: Sequence[int], expected: int, timeout: float) -> bool:
    """Whether every accepted webhook became a message (or its event finished otherwise)
    before ``timeout``."""
    from channels_inbox.models import InboundEvent
    from tickets.models import Message

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        stored = Message.objects.filter(
            channel_account_id__in=account_ids, direction="inbound"
        ).count()
        unfinished = _unfinished_events(account_ids)
        events = InboundEvent.objects.filter(channel_account_id__in=account_ids).count()
        if unfinished == 0 and (stored >= expected or events - unfinished >= expected):
            return True
        time.sleep(POLL_SECONDS)
    return False


@dataclass
class Counts:
    events: Counter[str]
    messages: int
    distinct_ids: int
    lost: list[str]
    duplicated: int
    unexpected: int
    stored_by_provider: Counter[str]
    tickets: int
    expected_tickets: int  # one per customer
    split_customers: int  # customers whose messages are on more than one ticket
    last_created: float  # time.time() of the last inbound message stored
    event_errors: list[str]
    stored_while_posting: int = 0  # by the time the last webhook was answered


def count(
    accounts: dict[str, int], webhooks: Sequence[GeneratedWebhook], *, posted_until: float
) -> Counts:
    from datetime import UTC, datetime

    from django.db.models import Max

    from channels_inbox.models import InboundEvent
    from tickets.models import Message, Ticket

    provider_of = {account_id: provider for provider, account_id in accounts.items()}
    messages = Message.objects.filter(channel_account_id__in=accounts.values(), direction="inbound")
    rows = list(
        messages.values_list(
            "provider_message_id", "channel_account_id", "ticket_id", "author_customer_id"
        )
    )
    stored = {(provider_of[account_id], provider_id) for provider_id, account_id, _t, _c in rows}
    expected = {(webhook.provider, webhook.provider_message_id) for webhook in webhooks}
    tickets_of: dict[int | None, set[int]] = defaultdict(set)
    for _provider_id, _account_id, ticket_id, customer_id in rows:
        tickets_of[customer_id].add(ticket_id)
    last = messages.aggregate(last=Max("created_at"))["last"]
    events = InboundEvent.objects.filter(channel_account_id__in=accounts.values())
    errors = list(events.exclude(status="processed").values_list("external_id", "error")[:EXAMPLES])
    return Counts(
        events=Counter(events.values_list("status", flat=True)),
        messages=len(rows),
        distinct_ids=len(stored),
        lost=sorted(f"{provider} {key}" for provider, key in expected - stored),
        duplicated=len(rows) - len(stored),
        unexpected=len(stored - expected),
        stored_by_provider=Counter(provider for provider, _key in stored & expected),
        tickets=Ticket.objects.filter(channel_account_id__in=accounts.values()).count(),
        expected_tickets=len({(webhook.provider, webhook.sender) for webhook in webhooks}),
        split_customers=sum(1 for tickets in tickets_of.values() if len(tickets) > 1),
        last_created=last.timestamp() if last else 0.0,
        event_errors=[f"{key}: {error[:200]}" for key, error in errors],
        stored_while_posting=messages.filter(
            created_at__lte=datetime.fromtimestamp(posted_until, UTC)
        ).count(),
    )


# --- Report ---------------------------------------------------------------------------------


@dataclass
class Edge:
    """What the HTTP edge did for one kind of request."""

    label: str
    requests: int
    accepted: int  # answered 200
    latencies_ms: list[float]
    seconds: float | None = None  # None for a provider's share of an interleaved run
    web_cpu_seconds: float | None = None

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 0.50)

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies_ms, 0.95)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 0.99)


def edge(
    label: str,
    requests: Sequence[PreparedRequest],
    result: PostResult,
    *,
    web_cpu_seconds: float | None = None,
    only: str | None = None,
) -> Edge:
    indexes = [n for n, request in enumerate(requests) if only is None or request.label == only]
    return Edge(
        label=label,
        requests=len(indexes),
        accepted=sum(1 for n in indexes if result.statuses[n] == 200),
        latencies_ms=[result.latencies_ms[n] for n in indexes],
        seconds=result.seconds if only is None else None,
        web_cpu_seconds=web_cpu_seconds,
    )


@dataclass
class Run:
    providers: list[str]
    customers: int
    baseline: Edge
    webhooks: Edge
    per_provider: list[Edge]
    first_sent: float
    last_answered: float
    complete: bool
    counts: Counts
    cpu: dict[str, float]  # over the end-to-end window
    problems: list[str] = field(default_factory=list)  # refusals, to print
    provider_api_calls: Counter[str] = field(default_factory=Counter)
    unexpected_api_calls: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.webhooks.rate / self.baseline.rate if self.baseline.rate else 0.0

    @property
    def cpu_ratio(self) -> float:
        """What the throughput ratio comes to when the web server has the CPUs to itself
        (no worker, no other load): the inverse of their CPU costs per request."""
        baseline, webhooks = self.baseline.web_cpu_seconds, self.webhooks.web_cpu_seconds
        if not (baseline and webhooks and self.baseline.requests and self.webhooks.requests):
            return 0.0
        return (baseline / self.baseline.requests) / (webhooks / self.webhooks.requests)

    @property
    def end_to_end_seconds(self) -> float:
        return max(self.counts.last_created, self.last_answered) - self.first_sent

    @property
    def end_to_end_rate(self) -> float:
        stored = self.counts.distinct_ids - self.counts.unexpected
        seconds = self.end_to_end_seconds
        return stored / seconds if seconds > 0 else 0.0

    @property
    def drain_rate(self) -> float:
        """Messages/s stored after the last webhook was answered: the worker with the web
        server idle."""
        seconds = self.counts.last_created - self.last_answered
        stored = self.counts.messages - self.counts.stored_while_posting
        return stored / seconds if seconds > 0 and stored > 0 else 0.0

    @property
    def lost(self) -> int:
        return len(self.counts.lost)

    @property
    def duplicated(self) -> int:
        return self.counts.duplicated + self.counts.unexpected


def _edge_line(figures: Edge) -> str:
    seconds = f"{figures.seconds:.2f}" if figures.seconds is not None else ""
    rate = f"{figures.rate:.1f}" if figures.seconds is not None else ""
    cpu = (
        f"{1000 * figures.web_cpu_seconds / max(1, figures.requests):.2f}"
        if figures.web_cpu_seconds is not None
        else ""
    )
    return (
        f"{figures.label:<30} {figures.requests:>8,} {figures.accepted:>8,} {seconds:>8} "
        f"{rate:>8} {figures.p50_ms:>7.2f} {figures.p95_ms:>7.2f} {figures.p99_ms:>7.2f} "
        f"{max(figures.latencies_ms, default=0.0):>7.1f} {cpu:>7}"
    )


def format_report(run: Run) -> str:
    counts = run.counts
    lines = [
        f"{'HTTP edge':<30} {'requests':>8} {'200 OK':>8} {'seconds':>8} {'req/s':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'web cpu':>7}",
        _edge_line(run.baseline),
        _edge_line(run.webhooks),
        *(_edge_line(figures) for figures in run.per_provider),
        "(web cpu: the web server's CPU milliseconds per request)",
        "",
        f"{'figure':<52} {'value':>12}",
        f"{'customers (providers taking part)':<52} {run.customers:>12,}  "
        + ", ".join(run.providers),
        f"{'acceptance / minimal view throughput':<52} {f'{run.ratio:.3f}×':>12}",
        f"{'  minimal view / webhook web-server CPU per request':<52} "
        f"{f'{run.cpu_ratio:.3f}×':>12}",
        f"{'end-to-end seconds (first posted → last stored)':<52} {run.end_to_end_seconds:>12.2f}",
        f"{'end-to-end messages/s':<52} {run.end_to_end_rate:>12.1f}",
        f"{'  stored while posting (by the last 200 OK)':<52} {counts.stored_while_posting:>12,}",
        f"{'  messages/s after posting (web server idle)':<52} {run.drain_rate:>12.1f}",
        f"{'inbound events (by status)':<52} {sum(counts.events.values()):>12,}  "
        + ", ".join(f"{status} {number}" for status, number in sorted(counts.events.items())),
        f"{'inbound messages stored':<52} {counts.messages:>12,}  "
        + ", ".join(
            f"{provider} {counts.stored_by_provider[provider]}" for provider in run.providers
        ),
        f"{'distinct provider message ids':<52} {counts.distinct_ids:>12,}",
        f"{'lost (posted, never a ticket message)':<52} {run.lost:>12,}"
        + ("" if run.complete else f"  (wait timed out: {counts.events['pending']:,} pending)"),
        f"{'duplicated (extra rows or unknown ids)':<52} {run.duplicated:>12,}",
        f"{'tickets (expected: one per customer)':<52} "
        f"{f'{counts.tickets:,} / {counts.expected_tickets:,}':>12}",
        f"{'customers with messages on several tickets':<52} {counts.split_customers:>12,}",
        f"{'provider API calls by the pipeline (fake, loopback)':<52} "
        f"{sum(run.provider_api_calls.values()):>12,}  "
        + ", ".join(f"{kind} {number}" for kind, number in sorted(run.provider_api_calls.items())),
    ]
    window = run.end_to_end_seconds
    if run.cpu and window > 0:
        lines.append(
            f"CPU seconds during the {window:.1f} s end-to-end run (2 cores = {2 * window:.0f} s):"
        )
        for name, seconds in run.cpu.items():
            per_message = 1000 * seconds / max(1, counts.messages)
            lines.append(f"  {name:<32} {seconds:>8.1f} s  {per_message:>6.2f} ms/message")
    for problem in run.problems[:EXAMPLES]:
        lines.append(f"  not accepted: {problem}")
    for call in run.unexpected_api_calls:
        lines.append(f"  unexpected provider API call: {call}")
    for error in counts.event_errors:
        lines.append(f"  event not processed: {error}")
    if counts.lost:
        lines.append(f"  lost, first ones: {', '.join(counts.lost[:EXAMPLES])}")

    problems = []
    if not run.complete:
        problems.append("timed out before every message was stored")
    refused = run.webhooks.requests - run.webhooks.accepted
    if refused:
        problems.append(f"{refused} webhooks not accepted")
    if run.baseline.accepted < run.baseline.requests:
        problems.append(
            f"{run.baseline.requests - run.baseline.accepted} minimal-view requests failed"
        )
    if run.webhooks.p95_ms >= P95_LIMIT_MS:
        problems.append(f"webhook p95 {run.webhooks.p95_ms:.1f} ms ≥ {P95_LIMIT_MS:.0f} ms")
    if run.ratio < RATIO_LIMIT:
        problems.append(
            f"acceptance {run.webhooks.rate:.0f}/s is {run.ratio:.2f}× the minimal view's "
            f"{run.baseline.rate:.0f}/s (< {RATIO_LIMIT}×)"
        )
    if run.end_to_end_rate < TARGET_PER_SECOND:
        problems.append(
            f"end-to-end {run.end_to_end_rate:.1f} messages/s < {TARGET_PER_SECOND:.0f}"
        )
    if run.lost:
        problems.append(f"{run.lost} lost")
    if run.duplicated:
        problems.append(f"{run.duplicated} duplicated")
    if problems:
        lines.append(f"VERDICT: FAIL ({'; '.join(problems)})")
    else:
        lines.append(
            f"VERDICT: PASS: webhook p95 {run.webhooks.p95_ms:.1f} ms < {P95_LIMIT_MS:.0f}, "
            f"acceptance {run.ratio:.2f}× the minimal view, end-to-end "
            f"{run.end_to_end_rate:.1f} messages/s ≥ {TARGET_PER_SECOND:.0f}, none lost, "
            "none duplicated"
        )
    return "\n".join(lines)


# --- The command line -----------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.webhook_ingest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--webhooks", type=_positive, default=20_000)
    parser.add_argument("--connections", type=_positive, default=4, help="parallel HTTP clients")
    parser.add_argument(
        "--web-workers", type=_positive, default=4, help="gunicorn workers (WEB_CONCURRENCY)"
    )
    parser.add_argument("--concurrency", type=_positive, default=2, help="Celery processes")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "solo", "threads"])
    parser.add_argument("--timeout", type=_positive, default=1800, help="seconds to wait")
    parser.add_argument("--seed", type=int, default=2024)
    add_server_option(parser)
    add_redis_option(parser)
    add_keep_option(parser)
    add_wait_quiet_option(parser, before="sending")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    server = args.server.rstrip("/")
    database = f"switchboard_bench_webhooks_{os.getpid()}"
    # The run's Redis keys are prefixed with the database's name.
    return run_with_redis_and_database(
        server,
        args.redis,
        database,
        lambda url, scratch: _run(args, url, database, database, scratch),
        scratch_prefix="bench-webhooks-",
        keep=args.keep,
    )


def available_providers() -> list[str]:
    """The providers this build can take in: an adapter registered for the channel and a
    webhook at the path the fixtures post to."""
    from django.urls import Resolver404, resolve

    from channels_inbox.adapters import ADAPTER_PATHS

    available = []
    for provider in PROVIDERS:
        try:
            resolve(ACCOUNTS[provider].path)
        except Resolver404:
            continue
        if provider in ADAPTER_PATHS:
            available.append(provider)
    return available


def _create_accounts(providers: Sequence[str]) -> dict[str, int]:
    from bench.views import WEBHOOK_BASELINE_SLUG
    from channels_inbox.models import ChannelAccount

    # Bench fixtures, as bench.fill writes its rows: no admin actor to authorize them.
    ChannelAccount.objects.create(
        kind="whatsapp",
        name="Minimal view baseline",
        slug=WEBHOOK_BASELINE_SLUG,
        address="+15550000000",
        is_active=False,
    )
    accounts = {}
    for provider in providers:
        spec = ACCOUNTS[provider]
        account = ChannelAccount.objects.create(
            kind=spec.kind,
            name=spec.name,
            slug=spec.slug,
            address=spec.address,
            credentials=spec.credentials,
        )
        accounts[provider] = account.pk
    return accounts


def _warm_up(port: int, connections: int, providers: Sequence[str]) -> None:
    """Every gunicorn worker connects to the database and runs each view once before the
    clock starts: signed posts to the minimal view, and unsigned posts the webhooks refuse
    (403, nothing stored)."""
    from bench.views import WEBHOOK_BASELINE_HEADER, WEBHOOK_BASELINE_SECRET

    requests = []
    for number in range(WARMUP_REQUESTS):
        body = f'{{"warm-up": {number}}}'.encode()
        signature = meta_signature(WEBHOOK_BASELINE_SECRET, body)
        headers = ((WEBHOOK_BASELINE_HEADER, signature),)
        requests.append(
            PreparedRequest("warm-up", prepare(BASELINE_PATH, "application/json", headers, body))
        )
    for provider in providers:
        spec = ACCOUNTS[provider]
        requests += [
            PreparedRequest("warm-up", prepare(spec.path, "application/json", (), b"{}"))
            for _ in range(WARMUP_REQUESTS // 4)
        ]
    post_all(requests, port=port, connections=connections)


def _run(
    args: argparse.Namespace, database_url: str, database: str, prefix: str, scratch: Path
) -> int:
    provider_api = FakeProviderApi()
    try:
        return _measure(args, database_url, database, prefix, scratch, provider_api)
    finally:
        provider_api.close()


def _measure(
    args: argparse.Namespace,
    database_url: str,
    database: str,
    prefix: str,
    scratch: Path,
    provider_api: FakeProviderApi,
) -> int:
    environ = {
        # As docker-compose.yml runs the web server and the worker: DEBUG off, persistent
        # connections, the public address behind a TLS proxy.
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": PUBLIC_HOST,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "60",
        "REDIS_URL": args.redis,
        "REDIS_KEY_PREFIX": prefix,
        "MEDIA_ROOT": str(scratch / "media"),
        "META_GRAPH_API_URL": f"{provider_api.url}/{GRAPH_VERSION}",
        "TWILIO_API_BASE_URL": provider_api.url,
        "TELEGRAM_API_BASE_URL": provider_api.url,
        # The product's URLs plus the minimal view.
        "DJANGO_SETTINGS_MODULE": "bench.settings",
    }
    os.environ.update(environ)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    providers = available_providers()
    accounts = _create_accounts(providers)
    migrated = time.perf_counter()
    webhooks = generate(
        args.webhooks, seed=args.seed, public_base_url=PUBLIC_BASE_URL, providers=providers
    )
    provider_api.names.update((webhook.sender, webhook.sender_name) for webhook in webhooks)
    webhook_requests = [webhook_request(webhook) for webhook in webhooks]
    baseline_requests = [baseline_request(webhook) for webhook in webhooks]
    generated = time.perf_counter()
    customers = len({(webhook.provider, webhook.sender) for webhook in webhooks})
    print(
        f"migrate {migrated - started:.1f} s; generated {len(webhooks):,} webhooks "
        f"({customers:,} customers, "
        f"{sum(len(webhook.body) for webhook in webhooks) / len(webhooks):.0f} bytes on "
        f"average) in {generated - migrated:.1f} s"
    )
    missing = [provider for provider in PROVIDERS if provider not in providers]
    if missing:
        print(f"not in this build, left out: {', '.join(missing)}")

    child_environ = {**os.environ, **environ}
    logs = scratch / "logs"
    logs.mkdir(parents=True)
    port = free_port()
    web = start_web(child_environ, logs, port=port, workers=args.web_workers)
    worker: Service | None = None
    try:
        worker = celery = start_worker(
            child_environ,
            logs,
            concurrency=args.concurrency,
            pool=args.pool,
            hostname=f"bench-webhooks-{os.getpid()}@localhost",
        )
        meter = CpuMeter(
            {
                "web server (gunicorn)": lambda: _descendants(web.process.pid),
                "celery worker": lambda: _descendants(celery.process.pid),
                "postgresql (this database)": lambda: _postgres_backends(database),
                "redis-server": _redis_pids,
                "this process (clients, fake APIs)": lambda: [os.getpid()],
            }
        )
        _warm_up(port, args.connections, providers)
        wait_for_quiet(args.wait_quiet)
        loads = [os.getloadavg()[0]]
        before_baseline = meter.sample()
        baseline = post_all(baseline_requests, port=port, connections=args.connections)
        after_baseline = meter.sample()
        posted = post_all(webhook_requests, port=port, connections=args.connections)
        after_posting = meter.sample()
        loads.append(os.getloadavg()[0])
        accepted = sum(1 for status in posted.statuses if status == 200)
        complete = wait_until_stored(list(accounts.values()), accepted, args.timeout)
        after_processing = meter.sample()
        loads.append(os.getloadavg()[0])
        counts = count(accounts, webhooks, posted_until=posted.last_answered)
    finally:
        if worker is not None:
            worker.stop()
        web.stop()

    web_group = "web server (gunicorn)"
    run = Run(
        providers=providers,
        customers=customers,
        baseline=edge(
            "minimal view (HMAC + 1 row)",
            baseline_requests,
            baseline,
            web_cpu_seconds=CpuMeter.used(before_baseline, after_baseline)[web_group],
        ),
        webhooks=edge(
            "webhooks, all",
            webhook_requests,
            posted,
            web_cpu_seconds=CpuMeter.used(after_baseline, after_posting)[web_group],
        ),
        per_provider=[
            edge(f"  {provider}", webhook_requests, posted, only=provider) for provider in providers
        ],
        first_sent=posted.first_sent,
        last_answered=posted.last_answered,
        complete=complete,
        counts=counts,
        cpu=CpuMeter.used(after_baseline, after_processing),
        problems=baseline.problems + posted.problems,
        provider_api_calls=Counter(provider_api.calls),
        unexpected_api_calls=list(provider_api.unexpected),
    )
    postgres = getattr(connection, "pg_version", 0) // 10000
    print(
        f"PostgreSQL {postgres}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {os.cpu_count()} CPUs; {args.connections} HTTP "
        f"connections; gunicorn {args.web_workers} sync workers; celery worker "
        f"--pool={args.pool} --concurrency={args.concurrency} (niceness {worker_niceness()}); "
        "DATABASE_CONN_MAX_AGE=60, DEBUG off"
    )
    print(
        "1-minute load average: "
        + ", ".join(f"{load:.2f}" for load in loads)
        + " (before the minimal view, after posting the webhooks, after the last message)"
    )
    print()
    print(format_report(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
