"""docker-compose.yml, the Dockerfile and the proxy match the code: no Docker engine runs
here, so the files are read, and the web and realtime commands are started for real."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from celery.app.utils import find_app

from tests.helpdesk.environment import (
    COMPOSE_VARIABLES,
    ROOT,
    production_environment,
    settings_variables,
)

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "realtime", "worker", "beat", "ingress")
# Read by the process servers themselves (gunicorn and uvicorn: number of processes).
SERVER_VARIABLES = {"WEB_CONCURRENCY"}
# Only meaningful on a developer's checkout or in the test suite.
DEVELOPMENT_VARIABLES = {"SWITCHBOARD_VAR_DIR", "SWITCHBOARD_TESTING", "MEDIA_ROOT"}
# Read by the worker alone: set on its service, not in the shared environment.
WORKER_VARIABLES = {"WORKER_NICENESS"}
INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")


def command_of(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    assert isinstance(command, list), f"{service}: write the command as a list"
    return [str(part) for part in command]


def option(command: list[str], name: str) -> str:
    values = [part.split("=", 1)[1] for part in command if part.startswith(f"{name}=")]
    assert len(values) == 1, f"{name} appears {len(values)} times in {command}"
    return values[0]


def test_the_stack_has_the_production_services() -> None:
    assert set(SERVICES) == {*APP_SERVICES, "postgres", "redis", "proxy"}
    assert SERVICES["postgres"]["image"].startswith(("postgres:16", "postgres:15"))
    assert SERVICES["redis"]["image"].startswith("redis:7")
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert SERVICES["proxy"]["profiles"] == ["proxy"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_run_the_image_built_from_this_repository(service: str) -> None:
    assert SERVICES[service]["build"] == "."
    assert SERVICES[service]["image"] == "switchboard:latest"


def test_web_serves_wsgi_with_gunicorn() -> None:
    command = command_of("web")

    assert command[:2] == ["gunicorn", "helpdesk.wsgi:application"]
    assert option(command, "--bind") == "0.0.0.0:8000"
    assert SERVICES["web"]["environment"]["WEB_CONCURRENCY"] == "${WEB_CONCURRENCY:-4}"


def test_realtime_serves_asgi_with_uvicorn_without_persistent_connections() -> None:
    command = command_of("realtime")

    assert command[:2] == ["uvicorn", "helpdesk.asgi:application"]
    assert option(command, "--port") == "8001"
    assert option(command, "--lifespan") == "off"
    environment = SERVICES["realtime"]["environment"]
    assert environment["DATABASE_CONN_MAX_AGE"] == "0"
    assert environment["WEB_CONCURRENCY"] == "${REALTIME_CONCURRENCY:-2}"


def test_worker_yields_the_cpus_to_the_web_server_as_the_benchmarks_run_it() -> None:
    from bench.email_ingest import COMPOSE_WORKER_NICENESS

    environment = SERVICES["worker"]["environment"]
    assert environment["WORKER_NICENESS"] == f"${{WORKER_NICENESS:-{COMPOSE_WORKER_NICENESS}}}"
    assert 0 < COMPOSE_WORKER_NICENESS <= 19
    for service in set(APP_SERVICES) - {"worker"}:
        assert "WORKER_NICENESS" not in SERVICES[service]["environment"], service


def test_worker_beat_and_migrate_run_the_projects_entry_points() -> None:
    assert command_of("worker")[:4] == ["celery", "-A", "helpdesk", "worker"]
    assert command_of("beat")[:4] == ["celery", "-A", "helpdesk", "beat"]
    assert command_of("migrate") == ["python", "manage.py", "migrate", "--noinput"]
    assert SERVICES["migrate"]["restart"] == "no"


def test_the_entry_points_named_in_compose_exist() -> None:
    from channels.routing import ProtocolTypeRouter

    from helpdesk.asgi import application as asgi_application
    from helpdesk.celery import app as celery_app
    from helpdesk.wsgi import application as wsgi_application

    assert callable(wsgi_application)
    assert isinstance(asgi_application, ProtocolTypeRouter)
    assert set(asgi_application.application_mapping) == {"http", "websocket"}
    # What `celery -A helpdesk` loads.
    assert find_app("helpdesk") is celery_app


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_read_only_variables_the_settings_know(service: str) -> None:
    environment = set(SERVICES[service]["environment"])
    unknown = environment - settings_variables() - SERVER_VARIABLES

    assert unknown == set(), f"{service} sets variables no code reads"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_pass_every_production_setting(service: str) -> None:
    """A variable added to the settings must be added to docker-compose.yml too."""
    not_for_this = set() if service == "worker" else WORKER_VARIABLES
    missing = (
        settings_variables()
        - DEVELOPMENT_VARIABLES
        - not_for_this
        - set(SERVICES[service]["environment"])
    )

    assert missing == set()


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_are_configured_for_production(service: str) -> None:
    environment = SERVICES[service]["environment"]

    assert environment["DEBUG"] == "false"
    for required in ("SECRET_KEY", "ALLOWED_HOSTS", "PUBLIC_BASE_URL"):
        assert environment[required].startswith(f"${{{required}:?required"), required
    assert environment["DATABASE_URL"] == (
        "postgres://switchboard:${POSTGRES_PASSWORD:?required}@postgres:5432/switchboard"
    )
    assert environment["REDIS_URL"] == "redis://redis:6379/0"


def test_postgres_credentials_match_the_database_url() -> None:
    environment = SERVICES["postgres"]["environment"]

    assert environment["POSTGRES_DB"] == "switchboard"
    assert environment["POSTGRES_USER"] == "switchboard"
    assert environment["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?required")


def test_every_interpolated_variable_is_a_setting_or_a_compose_variable() -> None:
    lines = (ROOT / "docker-compose.yml").read_text("utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    used = set(INTERPOLATION.findall(text))

    assert used - settings_variables() == COMPOSE_VARIABLES


@pytest.mark.parametrize(
    ("service", "probe"),
    [
        ("postgres", "pg_isready"),
        ("redis", "redis-cli"),
        ("web", "http://127.0.0.1:8000/healthz"),
        ("realtime", "http://127.0.0.1:8001/healthz"),
        ("worker", "inspect ping"),
        ("beat", "ping()"),
    ],
)
def test_long_running_services_have_a_health_check(service: str, probe: str) -> None:
    test = SERVICES[service]["healthcheck"]["test"]

    assert test[0] in ("CMD", "CMD-SHELL")
    assert probe in " ".join(test)


@pytest.mark.parametrize("service", ["web", "realtime", "worker", "beat"])
def test_app_services_wait_for_the_database_redis_and_migrations(service: str) -> None:
    assert SERVICES[service]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_attachments_live_on_a_volume_shared_by_every_app_service() -> None:
    for service in ("web", "realtime", "worker"):
        assert "media:/app/var/media" in SERVICES[service]["volumes"]
    assert set(COMPOSE["volumes"]) == {"postgres-data", "redis-data", "media", "caddy-data"}


def test_dockerfile_installs_from_the_hashed_base_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")

    assert "FROM python:3.11-" in dockerfile
    assert "pip install --require-hashes --no-deps -r requirements/base.lock" in dockerfile
    assert "python manage.py collectstatic --noinput" in dockerfile
    assert "USER switchboard" in dockerfile
    assert 'CMD ["gunicorn", "helpdesk.wsgi:application"' in dockerfile


def test_docker_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text("utf-8").split()

    assert {".git", ".venv", ".env", ".secret_key", "var/"} <= set(ignored)


def test_proxy_sends_websockets_to_realtime_and_the_rest_to_web() -> None:
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text("utf-8")
    routes = re.findall(r"handle( /ws/\*)? \{\s*reverse_proxy (\S+)\s*\}", caddyfile)

    assert routes == [(" /ws/*", "realtime:8001"), ("", "web:8000")]
    assert caddyfile.splitlines()[3] == "{$PUBLIC_BASE_URL} {"
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in SERVICES["proxy"]["volumes"]


# --- The commands really start --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def healthcheck_script(service: str, port: int) -> str:
    script = SERVICES[service]["healthcheck"]["test"][3]
    default_port = "8000" if service == "web" else "8001"
    return str(script).replace(f"127.0.0.1:{default_port}", f"127.0.0.1:{port}")


@pytest.fixture
def server_environment(tmp_path: Path) -> dict[str, str]:
    return production_environment(tmp_path, WEB_CONCURRENCY="1", LOG_LEVEL="WARNING")


def start(command: list[str], environment: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )


def wait_until_healthy(
    process: subprocess.Popen[bytes], script: str, environment: dict[str, str], log: Path
) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log.read_text("utf-8", errors="replace")
        check = subprocess.run(
            [sys.executable, "-c", script],
            env=environment,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if check.returncode == 0 or time.monotonic() > deadline:
            return check
        time.sleep(0.3)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture
def web_server(server_environment: dict[str, str], tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    command = [
        part if not part.startswith("--bind=") else f"--bind=127.0.0.1:{port}"
        for part in command_of("web")
    ]
    log = tmp_path / "web.log"
    process = start(
        [str(Path(sys.executable).parent / command[0]), *command[1:]], server_environment, log
    )
    try:
        check = wait_until_healthy(
            process, healthcheck_script("web", port), server_environment, log
        )
        assert check.returncode == 0, check.stderr + log.read_text("utf-8", errors="replace")
        yield port, log
    finally:
        stop(process)


def test_web_command_starts_gunicorn_and_passes_its_health_check(
    web_server: tuple[int, Path],
) -> None:
    port, _log = web_server
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Host": "help.shop.test"}
    )

    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Server"].startswith("gunicorn")


def test_realtime_command_starts_uvicorn_that_refuses_anonymous_websockets(
    server_environment: dict[str, str], tmp_path: Path
) -> None:
    import asyncio

    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    port = free_port()
    command = [
        part if not part.startswith("--port=") else f"--port={port}"
        for part in command_of("realtime")
    ]
    command = [part if not part.startswith("--host=") else "--host=127.0.0.1" for part in command]
    log = tmp_path / "realtime.log"
    process = start(
        [str(Path(sys.executable).parent / command[0]), *command[1:]], server_environment, log
    )
    try:
        check = wait_until_healthy(
            process, healthcheck_script("realtime", port), server_environment, log
        )
        assert check.returncode == 0, check.stderr + log.read_text("utf-8", errors="replace")

        async def open_socket() -> int:
            try:
                async with connect(
                    f"ws://127.0.0.1:{port}/ws/agent/",
                    origin="https://help.shop.test",  # type: ignore[arg-type]
                    additional_headers={"Host": "help.shop.test"},
                    open_timeout=10,
                ):
                    return 101
            except InvalidStatus as refused:
                return refused.response.status_code

        assert asyncio.run(open_socket()) == 403
    finally:
        stop(process)
