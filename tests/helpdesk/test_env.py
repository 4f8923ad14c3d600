"""The typed environment readers behind helpdesk/settings.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from helpdesk.env import env_bool, env_int, env_list, env_str, env_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("True", True),
        (" yes ", True),
        ("on", True),
        ("1", True),
        ("false", False),
        ("FALSE", False),
        ("no", False),
        ("off", False),
        ("0", False),
    ],
)
def test_env_bool_reads_the_usual_words(raw: str, expected: bool) -> None:
    assert env_bool("DEBUG", not expected, environ={"DEBUG": raw}) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "y", "enabled", "truee", "-1"])
def test_env_bool_refuses_anything_else(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured) as error:
        env_bool("DEBUG", True, environ={"DEBUG": raw})

    assert str(error.value) == (
        f"DEBUG must be one of true/false, yes/no, on/off or 1/0; got {raw!r}."
    )


@pytest.mark.parametrize("environ", [{}, {"DEBUG": ""}])
def test_env_bool_unset_or_empty_gives_the_default(environ: dict[str, str]) -> None:
    assert env_bool("DEBUG", True, environ=environ) is True
    assert env_bool("DEBUG", False, environ=environ) is False


def test_env_int_reads_a_whole_number() -> None:
    assert env_int("PORT", 1, environ={"PORT": " 8080 "}) == 8080
    assert env_int("PORT", 1, environ={"PORT": "-3"}) == -3
    assert env_int("PORT", 1, environ={}) == 1


@pytest.mark.parametrize("raw", ["12x", "1.5", "ten", "0x10", "1e3"])
def test_env_int_refuses_what_is_not_a_whole_number(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured) as error:
        env_int("MAX_ATTACHMENT_BYTES", 10, environ={"MAX_ATTACHMENT_BYTES": raw})

    assert str(error.value) == f"MAX_ATTACHMENT_BYTES must be a whole number; got {raw!r}."


def test_env_int_enforces_its_bounds() -> None:
    environ = {"N": "5"}
    assert env_int("N", 1, minimum=5, maximum=5, environ=environ) == 5

    with pytest.raises(ImproperlyConfigured, match=r"^N must be at least 6; got 5\.$"):
        env_int("N", 1, minimum=6, environ=environ)
    with pytest.raises(ImproperlyConfigured, match=r"^N must be at most 4; got 5\.$"):
        env_int("N", 1, maximum=4, environ=environ)


def test_env_list_splits_on_commas_and_drops_blanks() -> None:
    environ = {"ALLOWED_HOSTS": " help.shop.test, ,api.shop.test ,"}

    assert env_list("ALLOWED_HOSTS", ["x"], environ=environ) == ["help.shop.test", "api.shop.test"]
    assert env_list("ALLOWED_HOSTS", ["x"], environ={"ALLOWED_HOSTS": " "}) == ["x"]
    assert env_list("ALLOWED_HOSTS", environ={}) == []


def test_env_str_treats_empty_as_unset() -> None:
    assert env_str("TIME_ZONE", "UTC", environ={"TIME_ZONE": ""}) == "UTC"
    assert env_str("TIME_ZONE", "UTC", environ={"TIME_ZONE": "Europe/Lisbon"}) == "Europe/Lisbon"


def test_a_file_variable_supplies_the_value(tmp_path: Path) -> None:
    """NAME_FILE names a file (a mounted secret) whose stripped content is the value."""
    secret = tmp_path / "secret_key"
    secret.write_text("  from-a-file\n", encoding="utf-8")
    number = tmp_path / "workers"
    number.write_text("7\n", encoding="utf-8")

    assert env_str("SECRET_KEY", environ={"SECRET_KEY_FILE": str(secret)}) == "from-a-file"
    assert env_int("WORKERS", 1, environ={"WORKERS_FILE": str(number)}) == 7


def test_the_file_variable_wins_over_the_plain_one(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("from-the-file", encoding="utf-8")
    environ = {"SECRET_KEY": "from-the-variable", "SECRET_KEY_FILE": str(secret)}

    assert env_str("SECRET_KEY", environ=environ) == "from-the-file"


def test_a_file_variable_naming_no_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"

    with pytest.raises(ImproperlyConfigured) as error:
        env_str("SECRET_KEY", environ={"SECRET_KEY_FILE": str(missing)})

    assert str(error.value) == f"SECRET_KEY_FILE points at {missing}, which is not a file."


def test_a_file_variable_naming_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="which is not a file"):
        env_bool("DEBUG", True, environ={"DEBUG_FILE": str(tmp_path)})


def test_a_bad_value_in_a_file_is_refused_like_a_bad_variable(tmp_path: Path) -> None:
    value = tmp_path / "debug"
    value.write_text("maybe", encoding="utf-8")

    with pytest.raises(ImproperlyConfigured, match="got 'maybe'"):
        env_bool("DEBUG", True, environ={"DEBUG_FILE": str(value)})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("rediss://cache.internal:6380/2/", "rediss://cache.internal:6380/2"),
        ("REDIS://host", "REDIS://host"),
    ],
)
def test_env_url_accepts_its_schemes_and_drops_a_trailing_slash(raw: str, expected: str) -> None:
    assert env_url("REDIS_URL", schemes=("redis", "rediss"), environ={"REDIS_URL": raw}) == (
        expected
    )


@pytest.mark.parametrize(
    "raw",
    ["http://127.0.0.1:6379", "127.0.0.1:6379", "redis:/127.0.0.1", "redis://", "//host:6379"],
)
def test_env_url_refuses_other_schemes_and_non_urls(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured) as error:
        env_url("REDIS_URL", schemes=("redis", "rediss"), environ={"REDIS_URL": raw})

    assert str(error.value) == (
        f"REDIS_URL must be a URL starting with redis://, rediss://; got {raw!r}."
    )


def test_env_url_unset_gives_the_default_or_empty() -> None:
    schemes = ("http", "https")
    assert env_url("PUBLIC_BASE_URL", schemes=schemes, environ={}) == ""
    assert env_url("PUBLIC_BASE_URL", "https://a.test/", schemes=schemes, environ={}) == (
        "https://a.test"
    )
