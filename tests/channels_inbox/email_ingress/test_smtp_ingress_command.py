"""``manage.py smtp_ingress`` as the mail server's side of a deployment sees it: a process
that listens, stores what it receives, and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.helpdesk.environment import ROOT, clean_environment

MESSAGE = (
    b"From: ana@example.com\r\nTo: support@shop.test\r\nSubject: Hi\r\n"
    b"Message-ID: <command@example.com>\r\n\r\nHello.\r\n"
)
# Straight into the migrated database: one Django process fewer to start.
CREATE_ACCOUNT = """
INSERT INTO channels_inbox_channelaccount
    (kind, name, slug, address, credentials, options, is_active, created_at, updated_at)
VALUES ('email', 'Support', 'support', 'support@shop.test', '{}', '{}', 1,
        '2026-01-01 00:00:00', '2026-01-01 00:00:00')
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_command_receives_mail_until_sigterm(tmp_path: Path) -> None:
    environ = clean_environment(tmp_path, PYTHONUNBUFFERED="1")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run(
        [*manage, "migrate", "--noinput"],
        env=environ,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with sqlite3.connect(tmp_path / "switchboard.sqlite3") as database:
        database.execute(CREATE_ACCOUNT)
    port = free_port()
    process = subprocess.Popen(
        [*manage, "smtp_ingress", "--port", str(port), "--lmtp", "--max-bytes", "100000"],
        env=environ,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        with smtplib.LMTP("127.0.0.1", port) as client:
            refused = client.sendmail("ana@example.com", ["support@shop.test"], MESSAGE)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _errors = process.communicate(timeout=30)

    assert ready == (
        f"Receiving mail by LMTP on 127.0.0.1:{port} (messages up to 100000 bytes). "
        "Stop with Ctrl-C or SIGTERM.\n"
    )
    assert refused == {}
    assert (process.returncode, output) == (0, "Stopped.\n")
    with sqlite3.connect(tmp_path / "switchboard.sqlite3") as database:
        rows = database.execute(
            "SELECT external_id, payload FROM channels_inbox_inboundevent"
        ).fetchall()
    assert rows == [("command@example.com:support@shop.test", MESSAGE)]


def test_a_port_in_use_is_refused() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(CommandError, match=f"Could not listen on 127.0.0.1:{port}"):
            call_command("smtp_ingress", "--port", str(port))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--port", "0"], "--port must be between 1 and 65535; got 0."),
        (["--port", "70000"], "--port must be between 1 and 65535; got 70000."),
        (["--max-bytes", "100"], "--max-bytes must be at least 1024; got 100."),
    ],
)
def test_bad_options_are_refused(arguments: list[str], message: str) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("smtp_ingress", *arguments)

    assert str(refused.value) == message
