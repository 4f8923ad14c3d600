"""What the settings read from the environment, found in the source, for the tests that keep
.env.example, the README and docker-compose.yml in step with it."""

from __future__ import annotations

import ast
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_READERS = frozenset({"env_str", "env_bool", "env_int", "env_list", "env_url"})
SKIPPED_FOLDERS = frozenset({".venv", "tests", "bench", "migrations", "node_modules", ".git"})
# Filled in by docker compose or read by the process servers, never by Switchboard's code;
# documented beside the settings in .env.example and the README.
COMPOSE_VARIABLES = frozenset(
    {"POSTGRES_PASSWORD", "WEB_CONCURRENCY", "REALTIME_CONCURRENCY", "WORKER_CONCURRENCY"}
)


def _python_files() -> list[Path]:
    return [
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED_FOLDERS.intersection(path.relative_to(ROOT).parts)
    ]


def variables_read_in(path: Path) -> set[str]:
    """Names passed as the first argument of an ``env_*`` reader in one module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        called = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
        if called in ENV_READERS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return names


def settings_variables() -> set[str]:
    """Every variable the running code reads (settings.py and any app module)."""
    names: set[str] = set()
    for path in _python_files():
        names |= variables_read_in(path)
    return names


def strong_secret_key() -> str:
    return secrets.token_urlsafe(50)


def clean_environment(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The process environment without any Switchboard variable, plus ``overrides``, so a
    subprocess sees exactly the configuration a test describes."""
    names = settings_variables()
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in names and key.removesuffix("_FILE") not in names
    }
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    environ["SWITCHBOARD_VAR_DIR"] = str(var_dir)
    environ.update(overrides)
    return environ


def production_environment(var_dir: Path, **overrides: str) -> dict[str, str]:
    """A secure production configuration on the embedded database."""
    production = {
        "DEBUG": "false",
        "SECRET_KEY": strong_secret_key(),
        "ALLOWED_HOSTS": "help.shop.test",
        "PUBLIC_BASE_URL": "https://help.shop.test",
    }
    return clean_environment(var_dir, **{**production, **overrides})
