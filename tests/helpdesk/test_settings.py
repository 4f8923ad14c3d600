"""Settings come from the environment alone: a secure production configuration passes
Django's deploy checks, an insecure one refuses to start, and the embedded default runs
SQLite in WAL mode so several processes can write at once."""

from __future__ import annotations

import json
import os
import re
import runpy
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.helpdesk.environment import (
    COMPOSE_VARIABLES,
    ROOT,
    clean_environment,
    production_environment,
    settings_variables,
    strong_secret_key,
)

PRINT_SETTINGS = """
import json, sys
import django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""


def run_python(code: str, environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env={**environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def read_settings(environ: dict[str, str], *names: str) -> dict[str, Any]:
    """Settings as a freshly started process sees them (JSON round trip: tuples are lists)."""
    result = run_python(PRINT_SETTINGS, environ, *names)
    assert result.returncode == 0, result.stderr
    values: dict[str, Any] = json.loads(result.stdout)
    return values


def evaluate_settings(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]) -> dict[str, Any]:
    """Run helpdesk/settings.py in this process under ``environ``: the same code every entry
    point runs first, without the cost of a new interpreter. This process counts as a test
    run (TESTING), so what depends on that is checked in a subprocess instead."""
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "helpdesk" / "settings.py"))


# --- Production ---------------------------------------------------------------------------


def test_secure_production_configuration_passes_the_deploy_checks(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.fullmatch(r"System check identified no issues \(\d+ silenced\)\.\n", result.stdout), (
        result.stdout
    )
    assert result.stderr == ""


def test_production_configuration_turns_on_the_https_protections(tmp_path: Path) -> None:
    values = read_settings(
        production_environment(tmp_path),
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
        "CSRF_TRUSTED_ORIGINS",
        "STORAGES",
    )

    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://help.shop.test"]
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


def test_secret_key_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = strong_secret_key()
    key_file = tmp_path / "secret_key"
    key_file.write_text(key + "\n", encoding="utf-8")
    environ = production_environment(tmp_path)
    del environ["SECRET_KEY"]
    environ["SECRET_KEY_FILE"] = str(key_file)

    assert evaluate_settings(monkeypatch, environ)["SECRET_KEY"] == key


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is required when DEBUG is off."),
        ({"SECRET_KEY": "short-but-secret"}, "SECRET_KEY is too weak for production"),
        ({"SECRET_KEY": "ab" * 30}, "SECRET_KEY is too weak for production"),
        (
            {"SECRET_KEY": "django-insecure-" + strong_secret_key()},
            "SECRET_KEY is too weak for production",
        ),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must list the host names"),
        ({"ALLOWED_HOSTS": "help.shop.test,*"}, "ALLOWED_HOSTS must list the host names"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must list the host names"),
        ({"PUBLIC_BASE_URL": "http://help.shop.test"}, "PUBLIC_BASE_URL must be an https://"),
        ({"PUBLIC_BASE_URL": "help.shop.test"}, "PUBLIC_BASE_URL must be a URL starting with"),
        (
            {"DATABASE_URL": "mysql://shop:hunter2@db/switchboard"},
            "DATABASE_URL must point at PostgreSQL",
        ),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL must point at PostgreSQL"),
        ({"REDIS_URL": "http://127.0.0.1:6379/0"}, "REDIS_URL must be a URL starting with"),
        ({"DEBUG": "maybe"}, "DEBUG must be one of true/false"),
        ({"TIME_ZONE": "Mars/Olympus_Mons"}, "TIME_ZONE 'Mars/Olympus_Mons' is not a known"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR"),
        ({"MAX_ATTACHMENT_BYTES": "25MB"}, "MAX_ATTACHMENT_BYTES must be a whole number"),
        ({"INBOUND_BATCH_WORKERS": "two"}, "INBOUND_BATCH_WORKERS must be a whole number"),
        ({"INBOUND_BATCH_WORKERS": "0"}, "INBOUND_BATCH_WORKERS must be at least 1"),
        ({"EMAIL_URL": "ftp://mail.shop.test"}, "EMAIL_URL must be a URL starting with"),
        ({"WORKER_NICENESS": "low"}, "WORKER_NICENESS must be a whole number"),
        ({"WORKER_NICENESS": "-5"}, "WORKER_NICENESS must be at least 0"),
        ({"WORKER_NICENESS": "20"}, "WORKER_NICENESS must be at most 19"),
    ],
)
def test_insecure_or_invalid_configuration_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured) as error:
        evaluate_settings(monkeypatch, production_environment(tmp_path, **overrides))

    assert str(error.value).startswith(message)
    assert "hunter2" not in str(error.value)


def test_an_insecure_configuration_stops_manage_py_with_the_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=production_environment(tmp_path, ALLOWED_HOSTS="*"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: ALLOWED_HOSTS must list the host names "
        "Switchboard is served on when DEBUG is off (a bare '*' is refused)."
    )


def test_production_refuses_to_invent_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With DEBUG off no key file is read or written: a missing key is an error."""
    environ = production_environment(tmp_path, SECRET_KEY="")

    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is required when DEBUG is off"):
        evaluate_settings(monkeypatch, environ)


# --- Embedded default and the Redis switch --------------------------------------------------


def test_without_redis_tasks_run_eagerly_and_the_channel_layer_is_in_memory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    values = evaluate_settings(monkeypatch, clean_environment(tmp_path))

    assert values["CELERY_TASK_ALWAYS_EAGER"] is True
    assert values["CELERY_BROKER_URL"] == "memory://"
    assert values["CHANNEL_LAYERS"] == {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    }
    assert values["CACHES"]["default"]["BACKEND"] == (
        "django.core.cache.backends.locmem.LocMemCache"
    )
    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "switchboard.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_with_redis_the_broker_cache_and_channel_layer_share_it_under_a_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environ = clean_environment(
        tmp_path, REDIS_URL="redis://cache.internal:6379/3", REDIS_KEY_PREFIX="shop-a"
    )

    values = evaluate_settings(monkeypatch, environ)

    assert values["CELERY_TASK_ALWAYS_EAGER"] is False
    assert values["CELERY_BROKER_URL"] == "redis://cache.internal:6379/3"
    assert values["CELERY_RESULT_BACKEND"] == "redis://cache.internal:6379/3"
    assert values["CELERY_BROKER_TRANSPORT_OPTIONS"] == {"global_keyprefix": "shop-a:celery:"}
    assert values["CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS"] == {
        "global_keyprefix": "shop-a:celery:"
    }
    assert values["CHANNEL_LAYERS"] == {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py's pool of 100 fails at about 100 simultaneous WebSocket connects.
                "hosts": [{"address": "redis://cache.internal:6379/3", "max_connections": 1000}],
                "prefix": "shop-a:asgi",
            },
        }
    }
    assert values["CACHES"]["default"] == {
        "BACKEND": "helpdesk.cache.RedisCache",
        "LOCATION": "redis://cache.internal:6379/3",
        "KEY_PREFIX": "shop-a",
    }


def test_postgres_url_configures_psycopg_with_health_checks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environ = clean_environment(
        tmp_path,
        DATABASE_URL="postgres://desk:s3cret@db.internal:5433/switchboard",
        DATABASE_CONN_MAX_AGE="60",
    )

    database = evaluate_settings(monkeypatch, environ)["DATABASES"]["default"]

    assert {key: database[key] for key in ("ENGINE", "NAME", "USER", "HOST", "PORT")} == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "switchboard",
        "USER": "desk",
        "HOST": "db.internal",
        "PORT": 5433,
    }
    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is True


def test_persistent_database_connections_are_off_unless_asked_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Django under ASGI must not keep connections between requests."""
    environ = clean_environment(tmp_path, DATABASE_URL="postgres://desk@db.internal/switchboard")

    database = evaluate_settings(monkeypatch, environ)["DATABASES"]["default"]

    assert database["CONN_MAX_AGE"] == 0


# --- SQLite: WAL and concurrent writers ----------------------------------------------------

SQLITE_PRAGMAS = """
import django
from django.db import connection
django.setup()
with connection.cursor() as cursor:
    for pragma in ("journal_mode", "busy_timeout", "synchronous"):
        cursor.execute(f"PRAGMA {pragma}")
        print(pragma, cursor.fetchone()[0])
print("file", connection.settings_dict["NAME"])
"""

WRITER = """
import sys, time
import django
from django.db import connection, transaction
django.setup()
from pathlib import Path
name, folder, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
connection.ensure_connection()
(folder / f"{name}.ready").touch()
deadline = time.monotonic() + 60
while not (folder / "go").exists() and time.monotonic() < deadline:
    time.sleep(0.005)
for number in range(count):
    # Read, then write in the same transaction: the pattern that fails with "database is
    # locked" when a deferred transaction upgrades its read lock while another one writes.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM writes WHERE writer = %s", [name])
            seen = cursor.fetchone()[0]
            cursor.execute("INSERT INTO writes (writer, seen) VALUES (%s, %s)", [name, seen])
print("done", name)
"""


def test_embedded_database_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    result = run_python(SQLITE_PRAGMAS, clean_environment(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "journal_mode wal",
        "busy_timeout 20000",
        "synchronous 1",
        f"file {tmp_path / 'switchboard.sqlite3'}",
    ]


def test_two_processes_write_the_embedded_database_at_once(tmp_path: Path) -> None:
    """Two writers interleave 150 read-then-write transactions each without a lock error."""
    database = tmp_path / "switchboard.sqlite3"
    with sqlite3.connect(database) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE writes (writer TEXT NOT NULL, seen INTEGER NOT NULL)")
    environ = {**clean_environment(tmp_path), "DJANGO_SETTINGS_MODULE": "helpdesk.settings"}
    names = ("web", "ingress")

    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, name, str(tmp_path), "150"],
            cwd=ROOT,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    # Both are connected and waiting before either writes, so their transactions overlap.
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"{name}.ready").exists() for name in names):
        assert time.monotonic() < deadline, "the writers did not start"
        time.sleep(0.01)
    (tmp_path / "go").touch()
    outputs = [writer.communicate(timeout=120) for writer in writers]

    for writer, (_stdout, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr
        assert "database is locked" not in stderr
    assert [stdout for stdout, _ in outputs] == ["done web\n", "done ingress\n"]
    with sqlite3.connect(database) as check:
        rows = check.execute(
            "SELECT writer, COUNT(*), MAX(seen) FROM writes GROUP BY writer ORDER BY writer"
        ).fetchall()
    assert rows == [("ingress", 150, 149), ("web", 150, 149)]


# --- Documentation of every variable -------------------------------------------------------


def documented_in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def documented_in_readme() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def test_settings_read_a_known_set_of_variables() -> None:
    """Guards the source scan the documentation tests rely on."""
    names = settings_variables()

    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"} <= names
    assert "DJANGO_SETTINGS_MODULE" not in names


def test_every_variable_is_in_env_example_and_nothing_else() -> None:
    assert documented_in_env_example() == settings_variables() | COMPOSE_VARIABLES


def test_every_variable_is_in_the_readme_configuration_table_and_nothing_else() -> None:
    assert documented_in_readme() == settings_variables() | COMPOSE_VARIABLES


def test_readme_lists_the_demo_log_ins_that_seed_demo_creates() -> None:
    from demo.seed import login_lines

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Demo log-ins", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([a-z]+)` \| (.+?) \|$", section, flags=re.MULTILINE)

    assert rows == [(username, role) for username, _password, role in login_lines()]
    assert {password for _username, password, _role in login_lines()} == {"switchboard-demo"}
    assert "password `switchboard-demo`" in section
