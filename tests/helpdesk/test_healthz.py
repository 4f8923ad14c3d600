"""/healthz: for load balancers and compose health checks, so no sign-in and no detail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.helpdesk.environment import ROOT, clean_environment, production_environment

GET_HEALTHZ = """
import json, sys
import django
from django.test import Client
django.setup()
response = Client().get("/healthz", HTTP_HOST=sys.argv[1], HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def healthz_in_a_process(environ: dict[str, str], host: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", GET_HEALTHZ, host],
        cwd=ROOT,
        env={**environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


@pytest.mark.django_db
def test_healthy_service_answers_200_without_sign_in(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    expected = {"status": "ok", "database": "ok"}
    if settings.REDIS_URL:
        expected["redis"] = "ok"
    assert response.json() == expected
    assert response["Cache-Control"] == ("max-age=0, no-cache, no-store, must-revalidate, private")


@pytest.mark.django_db
def test_unreachable_redis_answers_503(client: Client, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "redis": "error"}


@pytest.mark.django_db
def test_healthz_only_answers_get(client: Client) -> None:
    response = client.post("/healthz")

    assert response.status_code == 405


def test_unreachable_database_answers_503(tmp_path: Path) -> None:
    """Nothing listens on port 1, so the connection is refused at once."""
    environ = clean_environment(
        tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere", LOG_LEVEL="CRITICAL"
    )

    answer = healthz_in_a_process(environ, host="127.0.0.1")

    assert answer == {"status": 503, "body": {"status": "error", "database": "error"}}


def test_production_healthz_needs_no_sign_in(tmp_path: Path) -> None:
    """With DEBUG off, behind the proxy's https header, the check still answers."""
    environ = production_environment(tmp_path, LOG_LEVEL="CRITICAL")

    answer = healthz_in_a_process(environ, host="help.shop.test")

    assert answer == {"status": 200, "body": {"status": "ok", "database": "ok"}}
