"""What the benchmarks share: their command-line options, the run's own PostgreSQL database,
waiting for a quiet machine, the nearest-rank percentile and a GET through Django's WSGI
handler.

Django is imported inside the functions that need it: a bench sets ``DATABASE_URL`` and
``DJANGO_SETTINGS_MODULE`` only once it knows its database.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"


# --- The command line -----------------------------------------------------------------------

# argparse names a type by its function in its errors ("invalid _positive value: 'many'"),
# which the benches' tests and users see: keep these names.


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def add_server_option(parser: argparse.ArgumentParser, *, described: bool = True) -> None:
    """``--server``: the PostgreSQL server the run's database is created on."""
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER),
        help="PostgreSQL server URL without a database name (env BENCH_POSTGRES_URL)"
        if described
        else None,
    )


def add_redis_option(
    parser: argparse.ArgumentParser,
    *,
    help: str = "Redis URL; the run's keys get a prefix of their own (env BENCH_REDIS_URL)",
) -> None:
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS), help=help
    )


def add_keep_option(
    parser: argparse.ArgumentParser, *, help: str = "keep the database afterwards"
) -> None:
    parser.add_argument("--keep", action="store_true", help=help)


def add_wait_quiet_option(parser: argparse.ArgumentParser, *, before: str = "measuring") -> None:
    parser.add_argument(
        "--wait-quiet",
        type=_non_negative,
        default=0,
        metavar="SECONDS",
        help=f"before {before}, wait up to this long for the 1-minute load average to fall "
        "below 1 (a machine shared with other work)",
    )


# --- The run's database ---------------------------------------------------------------------


def _admin_connection(server: str) -> Any:
    import psycopg

    return psycopg.connect(f"{server}/postgres", autocommit=True)


def create_database(server: str, database: str) -> bool:
    """Create the run's database; False, with the reason on stderr, when the server refuses."""
    import psycopg

    try:
        with _admin_connection(server) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
    except psycopg.OperationalError as error:
        print(f"cannot create a database on {server}: {error}", file=sys.stderr)
        return False
    return True


def drop_database(server: str, database: str) -> None:
    with _admin_connection(server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def close_connections() -> None:
    """Close Django's connections, so the database can be dropped."""
    from django.db import connections

    connections.close_all()


def run_in_new_database(
    server: str, database: str, run: Callable[[str], int], *, keep: bool = False
) -> int:
    """Create ``database`` on ``server``, call ``run`` with its URL and drop it afterwards
    (unless ``keep``); 2 when it cannot be created."""
    if not create_database(server, database):
        return 2
    print(f"database {database} on {server}")
    try:
        return run(f"{server}/{database}")
    finally:
        close_connections()
        if keep:
            print(f"kept database {database}")
        else:
            drop_database(server, database)


def run_with_redis_and_database(
    server: str,
    redis_url: str,
    database: str,
    run: Callable[[str, Path], int],
    *,
    scratch_prefix: str,
    keep: bool = False,
    create: bool = True,
    scratch_holds: str = "logs",
) -> int:
    """The run of a bench with services of its own: Redis must answer, ``database`` is
    created (unless not ``create``) and ``run`` gets its URL and a scratch folder.
    Afterwards the run's Redis keys (those under ``database:``) are deleted, and the database
    and the folder too unless ``keep``. 2 when Redis or PostgreSQL refuses."""
    if not redis_reachable(redis_url):
        return 2
    if create and not create_database(server, database):
        return 2
    print(f"database {database} on {server}")
    scratch = Path(tempfile.mkdtemp(prefix=scratch_prefix))
    try:
        return run(f"{server}/{database}", scratch)
    finally:
        close_connections()
        delete_redis_keys(redis_url, database)
        if keep:
            print(f"kept database {database}; {scratch_holds} in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
            drop_database(server, database)


def redis_reachable(url: str) -> bool:
    """Whether Redis answers at ``url``; when not, the reason goes to stderr."""
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as error:
        print(f"cannot reach Redis at {url}: {error}", file=sys.stderr)
        return False
    return True


def delete_redis_keys(url: str, prefix: str) -> None:
    """Delete the run's keys: those under ``prefix:``."""
    import redis

    client = redis.Redis.from_url(url)
    batch = []
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            client.delete(*batch)
            batch = []
    if batch:
        client.delete(*batch)


# --- Measuring ------------------------------------------------------------------------------


def wait_for_quiet(seconds: int, *, threshold: float = 1.0) -> None:
    deadline = time.monotonic() + seconds
    while os.getloadavg()[0] >= threshold and time.monotonic() < deadline:
        time.sleep(5)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Timed:
    """Median and nearest-rank p95 of a result's ``timings_ms``."""

    timings_ms: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.timings_ms)

    @property
    def p95_ms(self) -> float:
        return percentile(self.timings_ms, 0.95)


def wsgi_get(
    handler: Callable[..., Any], path: str, query: str, headers: Mapping[str, str]
) -> tuple[int, bytes]:
    """GET ``path?query`` through a WSGI handler the way a WSGI server calls it; ``headers``
    as WSGI environ keys (``HTTP_ACCEPT``, ``HTTP_COOKIE``...). Gives (status, body)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        **headers,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    statuses: list[str] = []

    def start_response(status: str, response_headers: Any, exc_info: Any = None, /) -> Any:
        statuses.append(status)
        return None

    response = handler(environ, start_response)
    try:
        body = b"".join(response)
    finally:
        # Closing fires request_finished, as a WSGI server does after each response.
        response.close()
    return int(statuses[0].split()[0]), body
