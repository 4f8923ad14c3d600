"""Email ingest throughput: generated mail over SMTP to tickets, against a plain ORM loop.

    .venv/bin/python -m bench.email_ingest [--emails 5000] [--connections 4] [--concurrency 2]

Creates a fresh PostgreSQL database (dropped at the end unless ``--keep``), migrates it and
adds one active email account (support@shop.bench). Starts ``manage.py smtp_ingress`` on a
free port and a real ``celery -A helpdesk worker``, both on that database and on Redis under
a key prefix of this run's own, as production runs them (DEBUG off, persistent database
connections). Sends the generated mails (bench.email_fixtures) over a few parallel SMTP
connections, then waits until every one is a ticket message. Prints the SMTP edge's accepted
messages/s, the end-to-end messages/s (first mail sent → last message stored), the counts
that prove nothing was lost, duplicated or threaded wrong, the CPU each process used, and the
ratio against the same number of ``Message`` rows inserted by a plain ORM loop in the same
run. Exits 0 whatever the verdict (2 when PostgreSQL or Redis cannot be reached).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    _positive,
    add_keep_option,
    add_redis_option,
    add_server_option,
    add_wait_quiet_option,
    run_with_redis_and_database,
    wait_for_quiet,
)
from bench.email_fixtures import GeneratedMail, generate

ROOT = Path(__file__).resolve().parents[1]
TARGET_PER_SECOND = 150.0
ACCOUNT_ADDRESS = "support@shop.bench"
START_TIMEOUT = 60.0
# The worker's WORKER_NICENESS in docker-compose.yml (a test keeps the two equal).
COMPOSE_WORKER_NICENESS = 19
POLL_SECONDS = 0.25
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- Processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            # TERM: the worker finishes the task at hand; the ingress closes its listener.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _start(name: str, command: list[str], environ: dict[str, str], logs: Path) -> Service:
    log = logs / f"{name}.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environ, stdout=log_file, stderr=subprocess.STDOUT
        )
    return Service(name, process, log)


def start_ingress(environ: dict[str, str], logs: Path, port: int) -> Service:
    command = [sys.executable, "manage.py", "smtp_ingress", "--host", "127.0.0.1"]
    service = _start("ingress", [*command, "--port", str(port)], environ, logs)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as probe:
                probe.noop()
            return service
        except OSError:
            if service.process.poll() is not None or time.monotonic() > deadline:
                service.stop()
                raise RuntimeError(f"the SMTP ingress did not start:\n{service.output()}") from None
            time.sleep(0.2)


def worker_niceness() -> str:
    return os.environ.get("WORKER_NICENESS") or str(COMPOSE_WORKER_NICENESS)


def start_worker(
    environ: dict[str, str], logs: Path, *, concurrency: int, pool: str, hostname: str
) -> Service:
    """A Celery worker as docker-compose.yml's runs: at its niceness unless the environment
    names another (``WORKER_NICENESS=0`` gives web and worker an equal share)."""
    from helpdesk.celery import app

    environ = {**environ, "WORKER_NICENESS": worker_niceness()}

    command = [
        *(sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "-Q", "default"),
        *(f"--pool={pool}", f"--concurrency={concurrency}", "--loglevel=INFO"),
        *("--hostname", hostname, "--without-mingle", "--without-gossip"),
    ]
    service = _start("worker", command, environ, logs)
    deadline = time.monotonic() + START_TIMEOUT
    while not any(hostname in reply for reply in app.control.ping([hostname], timeout=1.0) or []):
        if service.process.poll() is not None or time.monotonic() > deadline:
            service.stop()
            raise RuntimeError(f"the Celery worker did not start:\n{service.output()}")
    return service


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _postgres_backends(database: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if title.startswith("postgres:") and f" {database} " in title:
                pids.append(int(entry.name))
    return pids


def _redis_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "redis-server":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU seconds per part of the system between ``start()`` and ``stop()``. PostgreSQL is
    this database's backends only; Redis is the whole server (other users included)."""

    def __init__(self, worker: Service, ingress: Service, database: str) -> None:
        self.groups = {
            "celery worker": lambda: _descendants(worker.process.pid),
            "smtp ingress": lambda: _descendants(ingress.process.pid),
            "postgresql (this database)": lambda: _postgres_backends(database),
            "redis-server": _redis_pids,
            "this process (SMTP clients)": lambda: [os.getpid()],
        }
        self.started: dict[str, dict[int, float]] = {}
        self.used: dict[str, float] = {}

    def _sample(self) -> dict[str, dict[int, float]]:
        return {
            name: {pid: _cpu_seconds(pid) for pid in pids()} for name, pids in self.groups.items()
        }

    def start(self) -> None:
        self.started = self._sample()

    def stop(self) -> None:
        for name, now in self._sample().items():
            before = self.started.get(name, {})
            # A process born during the run counts from zero.
            self.used[name] = sum(value - before.get(pid, 0.0) for pid, value in now.items())


# --- Sending --------------------------------------------------------------------------------


@dataclass
class SendResult:
    accepted: int = 0
    refused: list[str] = field(default_factory=list)
    first_sent: float = 0.0  # time.time()
    last_accepted: float = 0.0


def send_all(mails: Sequence[GeneratedMail], *, port: int, connections: int) -> SendResult:
    """Each connection sends every ``connections``-th mail, reusing its SMTP session, so the
    mails arrive roughly in order (replies after the mail they answer)."""
    result = SendResult()
    lock = threading.Lock()
    barrier = threading.Barrier(connections + 1)

    def run(share: Sequence[GeneratedMail]) -> None:
        accepted, refused = 0, []
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
            client.ehlo("bench.client")
            barrier.wait()
            for mail in share:
                try:
                    client.sendmail(mail.sender, [ACCOUNT_ADDRESS], mail.raw)
                    accepted += 1
                except smtplib.SMTPException as error:
                    refused.append(f"{mail.message_id}: {error}")
                    client.rset()
        with lock:
            result.accepted += accepted
            result.refused.extend(refused)

    threads = [
        threading.Thread(target=run, args=(mails[number::connections],), daemon=True)
        for number in range(connections)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    result.first_sent = time.time()
    for thread in threads:
        thread.join()
    result.last_accepted = time.time()
    return result


# --- Waiting and counting -------------------------------------------------------------------


def inbound_messages(account_id: int) -> Any:
    from tickets.models import Message

    return Message.objects.filter(channel_account_id=account_id, direction="inbound")


def wait_until_stored(account_id: int, expected: int, timeout: float) -> tuple[bool, float]:
    """(every message arrived, seconds waited); also waits for every event to be finished."""
    from django.db.models import Q

    from channels_inbox.models import InboundEvent

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        stored = inbound_messages(account_id).count()
        # Pending, or failed with a retry scheduled: the worker is not done with it.
        unfinished = InboundEvent.objects.filter(
            Q(status="pending") | Q(status="failed", next_attempt_at__isnull=False)
        ).count()
        finished = InboundEvent.objects.count() - unfinished
        if unfinished == 0 and (stored >= expected or finished >= expected):
            return True, time.monotonic() - started
        time.sleep(POLL_SECONDS)
    return False, time.monotonic() - started


@dataclass
class Counts:
    events: Counter[str]
    messages: int
    distinct_ids: int
    lost: list[str]
    duplicated: int
    unexpected: int
    tickets: int
    expected_tickets: int
    misthreaded: int
    reasons: Counter[str]
    attachments: int
    last_created: float  # time.time() of the last inbound message stored
    event_errors: list[str]


def count(account_id: int, mails: Sequence[GeneratedMail]) -> Counts:
    from django.db.models import Max

    from channels_inbox.models import InboundEvent
    from tickets.models import Attachment, Ticket

    messages = inbound_messages(account_id)
    rows = list(messages.values_list("provider_message_id", "ticket_id", "threading_reason"))
    ticket_of: dict[str, int] = {}
    for provider_id, ticket_id, _reason in rows:
        ticket_of.setdefault(provider_id, ticket_id)
    expected = {mail.message_id for mail in mails}
    by_index = {mail.index: mail for mail in mails}

    def root(mail: GeneratedMail) -> GeneratedMail:
        while mail.parent is not None:
            mail = by_index[mail.parent]
        return mail

    misthreaded = sum(
        1
        for mail in mails
        if mail.is_reply
        and mail.message_id in ticket_of
        and ticket_of[mail.message_id] != ticket_of.get(root(mail).message_id)
    )
    last = messages.aggregate(last=Max("created_at"))["last"]
    errors = list(
        InboundEvent.objects.exclude(status="processed").values_list("external_id", "error")[:5]
    )
    return Counts(
        events=Counter(InboundEvent.objects.values_list("status", flat=True)),
        messages=len(rows),
        distinct_ids=len(ticket_of),
        lost=sorted(expected - ticket_of.keys()),
        duplicated=len(rows) - len(ticket_of),
        unexpected=len(ticket_of.keys() - expected),
        tickets=Ticket.objects.filter(channel_account_id=account_id).count(),
        expected_tickets=sum(1 for mail in mails if not mail.is_reply),
        misthreaded=misthreaded,
        reasons=Counter(reason for _id, _ticket, reason in rows),
        attachments=Attachment.objects.filter(message__in=messages).count(),
        last_created=last.timestamp() if last else 0.0,
        event_errors=[f"{key}: {error[:200]}" for key, error in errors],
    )


# --- Baseline -------------------------------------------------------------------------------


def baseline(account_id: int, mails: Sequence[GeneratedMail]) -> tuple[float, int]:
    """(seconds, rows): one ``Message.objects.create`` per mail in autocommit, with the text
    and HTML the pipeline stored for it, onto tickets made beforehand (one per thread, by
    ``bulk_create``, untimed). The same rows without parsing, threading, attachments,
    activities, events or any queue: what the pipeline's work costs on top of the insert."""
    from django.db.models import Max

    from tickets.models import Message, Ticket

    stored = {
        provider_id: (ticket_id, customer_id, text, html)
        for provider_id, ticket_id, customer_id, text, html in inbound_messages(
            account_id
        ).values_list("provider_message_id", "ticket_id", "author_customer_id", "text", "html")
    }
    next_number = (Ticket.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    rows = [(mail, stored[mail.message_id]) for mail in mails if mail.message_id in stored]
    roots = [(mail, row) for mail, row in rows if not mail.is_reply]
    tickets = Ticket.objects.bulk_create(
        Ticket(
            number=next_number + position,
            subject="baseline",
            customer_id=row[1],
            channel="email",
            channel_account_id=account_id,
        )
        for position, (_mail, row) in enumerate(roots)
    )
    ticket_by_root = {
        mail.index: ticket.pk for (mail, _row), ticket in zip(roots, tickets, strict=True)
    }
    by_index = {mail.index: mail for mail in mails}

    def root_index(mail: GeneratedMail) -> int:
        while mail.parent is not None:
            mail = by_index[mail.parent]
        return mail.index

    started = time.perf_counter()
    for mail, (_ticket_id, customer_id, text, html) in rows:
        Message.objects.create(
            ticket_id=ticket_by_root[root_index(mail)],
            direction=Message.Direction.INBOUND,
            kind=Message.Kind.CUSTOMER,
            author_customer_id=customer_id,
            channel_account_id=account_id,
            text=text,
            html=html,
            provider_message_id=f"baseline:{mail.message_id}",
            threading_reason=Message.ThreadingReason.NEW_CONVERSATION,
        )
    return time.perf_counter() - started, len(rows)


# --- Report ---------------------------------------------------------------------------------


@dataclass
class Run:
    emails: int
    replies: int
    send: SendResult
    complete: bool
    counts: Counts
    baseline_seconds: float
    baseline_rows: int
    cpu: dict[str, float]
    loads: list[float]

    @property
    def smtp_seconds(self) -> float:
        return self.send.last_accepted - self.send.first_sent

    @property
    def end_to_end_seconds(self) -> float:
        return max(self.counts.last_created, self.send.last_accepted) - self.send.first_sent

    @property
    def smtp_rate(self) -> float:
        return self.send.accepted / self.smtp_seconds if self.smtp_seconds > 0 else 0.0

    @property
    def end_to_end_rate(self) -> float:
        stored = self.counts.distinct_ids - self.counts.unexpected
        seconds = self.end_to_end_seconds
        return stored / seconds if seconds > 0 else 0.0

    @property
    def baseline_rate(self) -> float:
        return self.baseline_rows / self.baseline_seconds if self.baseline_seconds > 0 else 0.0

    @property
    def lost(self) -> int:
        return len(self.counts.lost)

    @property
    def duplicated(self) -> int:
        return self.counts.duplicated + self.counts.unexpected


def format_report(run: Run) -> str:
    counts = run.counts
    ratio = run.end_to_end_rate / run.baseline_rate if run.baseline_rate else 0.0
    lines = [
        f"{'figure':<44} {'value':>12}",
        f"{'mails sent (replies)':<44} {f'{run.emails:,} ({run.replies:,})':>12}",
        f"{'accepted with 250 at the SMTP edge':<44} {run.send.accepted:>12,}",
        f"{'refused at the SMTP edge':<44} {len(run.send.refused):>12,}",
        f"{'SMTP edge seconds':<44} {run.smtp_seconds:>12.2f}",
        f"{'SMTP edge accepted messages/s':<44} {run.smtp_rate:>12.1f}",
        f"{'end-to-end seconds (first sent → last stored)':<44} {run.end_to_end_seconds:>12.2f}",
        f"{'end-to-end messages/s':<44} {run.end_to_end_rate:>12.1f}",
        f"{'baseline: plain ORM Message.create, rows/s':<44} {run.baseline_rate:>12.1f}",
        f"{'end-to-end / baseline':<44} {f'{ratio:.3f}×':>12}",
        f"{'inbound events (by status)':<44} {sum(counts.events.values()):>12,}  "
        + ", ".join(f"{status} {number}" for status, number in sorted(counts.events.items())),
        f"{'inbound messages stored':<44} {counts.messages:>12,}",
        f"{'distinct provider message ids':<44} {counts.distinct_ids:>12,}",
        f"{'lost (sent, never a ticket message)':<44} {run.lost:>12,}"
        + ("" if run.complete else f"  (wait timed out: {counts.events['pending']:,} pending)"),
        f"{'duplicated (extra rows or unknown ids)':<44} {run.duplicated:>12,}",
        f"{'tickets (expected: one per non-reply)':<44} "
        f"{f'{counts.tickets:,} / {counts.expected_tickets:,}':>12}",
        f"{'replies on the wrong ticket':<44} {counts.misthreaded:>12,}",
        f"{'attachments stored (original.eml included)':<44} {counts.attachments:>12,}",
        "threading reasons: "
        + ", ".join(f"{reason} {number}" for reason, number in sorted(counts.reasons.items())),
    ]
    window = run.end_to_end_seconds
    if run.cpu and window > 0:
        lines.append(f"CPU seconds during the {window:.1f} s run (2 cores = {2 * window:.0f} s):")
        for name, seconds in run.cpu.items():
            per_message = 1000 * seconds / max(1, counts.messages)
            lines.append(f"  {name:<30} {seconds:>8.1f} s  {per_message:>6.2f} ms/message")
    for refusal in run.send.refused[:5]:
        lines.append(f"  refused: {refusal}")
    for error in counts.event_errors:
        lines.append(f"  unfinished event: {error}")
    if counts.lost:
        lines.append(f"  lost, first ones: {', '.join(counts.lost[:5])}")

    problems = []
    if not run.complete:
        problems.append("timed out before every message was stored")
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
            f"VERDICT: PASS: end-to-end {run.end_to_end_rate:.1f} messages/s ≥ "
            f"{TARGET_PER_SECOND:.0f}, none lost, none duplicated"
        )
    return "\n".join(lines)


# --- The command line -----------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.email_ingest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--emails", type=_positive, default=5000)
    parser.add_argument("--connections", type=_positive, default=4, help="parallel SMTP clients")
    parser.add_argument("--concurrency", type=_positive, default=2, help="Celery processes")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "solo", "threads"])
    parser.add_argument("--timeout", type=_positive, default=600, help="seconds to wait")
    parser.add_argument("--seed", type=int, default=2024)
    add_server_option(parser)
    add_redis_option(parser)
    add_keep_option(parser)
    add_wait_quiet_option(parser, before="sending")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    server = args.server.rstrip("/")
    database = f"switchboard_bench_email_{os.getpid()}"
    # The run's Redis keys are prefixed with the database's name.
    return run_with_redis_and_database(
        server,
        args.redis,
        database,
        lambda url, scratch: _run(args, url, database, database, scratch),
        scratch_prefix="bench-email-",
        keep=args.keep,
        scratch_holds="logs and media",
    )


def _run(
    args: argparse.Namespace, database_url: str, database: str, prefix: str, scratch: Path
) -> int:
    environ = {
        "DATABASE_URL": database_url,
        # As docker-compose.yml runs the worker and the ingress.
        "DATABASE_CONN_MAX_AGE": "60",
        "REDIS_URL": args.redis,
        "REDIS_KEY_PREFIX": prefix,
        "MEDIA_ROOT": str(scratch / "media"),
        # DEBUG off, as production: no query log growing in the worker.
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(environ)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from channels_inbox.models import ChannelAccount

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    # A bench fixture, as bench.fill writes its rows: no admin actor to authorize it.
    account = ChannelAccount.objects.create(
        kind="email", name="Shop support", slug="support", address=ACCOUNT_ADDRESS
    )
    migrated = time.perf_counter()
    mails = generate(args.emails, seed=args.seed, to=ACCOUNT_ADDRESS)
    generated = time.perf_counter()
    replies = sum(1 for mail in mails if mail.is_reply)
    print(
        f"migrate {migrated - started:.1f} s; generated {len(mails):,} mails "
        f"({replies:,} replies, {len({mail.sender for mail in mails}):,} senders, "
        f"{sum(len(mail.raw) for mail in mails) / len(mails) / 1024:.1f} KiB on average) "
        f"in {generated - migrated:.1f} s"
    )

    child_environ = {**os.environ, **environ}
    logs = scratch / "logs"
    logs.mkdir(parents=True)
    port = free_port()
    ingress = start_ingress(child_environ, logs, port)
    worker: Service | None = None
    try:
        worker = start_worker(
            child_environ,
            logs,
            concurrency=args.concurrency,
            pool=args.pool,
            hostname=f"bench-email-{os.getpid()}@localhost",
        )
        wait_for_quiet(args.wait_quiet)
        meter = CpuMeter(worker, ingress, database)
        loads = [os.getloadavg()[0]]
        meter.start()
        send = send_all(mails, port=port, connections=args.connections)
        loads.append(os.getloadavg()[0])
        complete, _waited = wait_until_stored(account.pk, send.accepted, args.timeout)
        meter.stop()
        loads.append(os.getloadavg()[0])
        counts = count(account.pk, mails)
    finally:
        if worker is not None:
            worker.stop()
        ingress.stop()

    baseline_seconds, baseline_rows = baseline(account.pk, mails)
    run = Run(
        emails=len(mails),
        replies=replies,
        send=send,
        complete=complete,
        counts=counts,
        baseline_seconds=baseline_seconds,
        baseline_rows=baseline_rows,
        cpu=meter.used,
        loads=loads,
    )
    postgres = getattr(connection, "pg_version", 0) // 10000
    print(
        f"PostgreSQL {postgres}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {os.cpu_count()} CPUs; {args.connections} SMTP "
        f"connections; celery worker --pool={args.pool} --concurrency={args.concurrency} "
        f"(niceness {worker_niceness()}); DATABASE_CONN_MAX_AGE=60, DEBUG off"
    )
    print(
        "1-minute load average: "
        + ", ".join(f"{load:.2f}" for load in loads)
        + " (before sending, after sending, after the last message)"
    )
    print()
    print(format_report(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
