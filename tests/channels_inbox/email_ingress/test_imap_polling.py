"""IMAP polling against a real Dovecot on loopback, started by the fixture from a generated
configuration; each test gets a mailbox user of its own whose Maildir it fills."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from channels_inbox.email.imap import (
    ImapConfigurationError,
    imap_settings,
    poll_account,
)
from channels_inbox.email.ingress import IngressController
from channels_inbox.email.tasks import poll_imap_account_task, poll_imap_task
from channels_inbox.models import ChannelAccount, InboundEvent, MailboxCursor
from helpdesk.models import Team

DOVECOT = Path("/usr/sbin/dovecot")
# Dovecot refuses to give a mailbox to root; the Maildirs belong to nobody.
MAIL_UID = MAIL_GID = 65534
PASSWORD = "imap-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


DOVECOT_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:~/Maildir
# XOAUTH2 logins: Dovecot asks the token introspection endpoint (a fake of the
# provider's, served by the fixture) whether the bearer token is active and whose it is.
passdb {{
  driver = oauth2
  mechanisms = xoauth2
  args = {root}/oauth2.conf.ext
}}
# Every user has the one password: a test's user exists as soon as its Maildir does.
passdb {{
  driver = static
  args = password={password}
}}
# Failed logins (the wrong-password tests) must not slow the next test's logins down.
auth_failure_delay = 0
login_trusted_networks = 127.0.0.1/32
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


OAUTH2_CONFIG = """\
introspection_mode = post
introspection_url = http://127.0.0.1:{port}/introspect
username_attribute = username
active_attribute = active
active_value = true
force_introspection = yes
"""


class TokenIntrospection(BaseHTTPRequestHandler):
    """RFC 7662 token introspection: a token is active when the server's ``tokens`` maps it
    to a user name."""

    server: IntrospectionServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        token = parse_qs(body.decode()).get("token", [""])[0]
        self.server.seen.append(token)
        user = self.server.tokens.get(token)
        answer = {"active": "true", "username": user} if user else {"active": "false"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class IntrospectionServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), TokenIntrospection)
        self.tokens: dict[str, str] = {}
        self.seen: list[str] = []


@dataclass
class Dovecot:
    root: Path
    port: int
    users: Iterator[int]
    introspection: IntrospectionServer

    def add_user(self) -> Mailbox:
        name = f"user{next(self.users)}@shop.test"
        mailbox = Mailbox(name, self.root / "home" / name / "Maildir")
        for folder in ("cur", "new", "tmp"):
            (mailbox.maildir / folder).mkdir(parents=True)
        chown_tree(self.root / "home" / name)
        return mailbox


@dataclass
class Mailbox:
    user: str
    maildir: Path
    delivered: int = 0

    def deliver(self, raw: bytes) -> None:
        self.delivered += 1
        path = self.maildir / "new" / f"{int(time.time())}.M{self.delivered}.test"
        path.write_bytes(raw)
        os.chown(path, MAIL_UID, MAIL_GID)

    def reset_uidvalidity(self) -> None:
        """Throw away Dovecot's UID list and indexes, as a restored or rebuilt mailbox
        does: the next session sees a new UIDVALIDITY and new UIDs for the same mail."""
        for path in self.maildir.iterdir():
            if path.name.startswith("dovecot"):
                path.unlink()
        # UIDVALIDITY is the time the list is made: make sure it is another second.
        time.sleep(1.1)


def chown_tree(path: Path) -> None:
    os.chown(path, MAIL_UID, MAIL_GID)
    for folder, folders, files in os.walk(path):
        for name in folders + files:
            os.chown(os.path.join(folder, name), MAIL_UID, MAIL_GID)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    if not DOVECOT.exists():
        pytest.skip("Dovecot is not installed (apt-get install -y dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("Dovecot needs root here to switch to the mailbox owner")
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    root.chmod(0o755)
    port = free_port()
    introspection = IntrospectionServer()
    threading.Thread(target=introspection.serve_forever, daemon=True).start()
    (root / "oauth2.conf.ext").write_text(
        OAUTH2_CONFIG.format(port=introspection.server_address[1]), encoding="utf-8"
    )
    (root / "home").mkdir()
    (root / "dovecot.conf").write_text(
        DOVECOT_CONFIG.format(root=root, port=port, uid=MAIL_UID, gid=MAIL_GID, password=PASSWORD),
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                    if connection.recv(100).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.skip(f"Dovecot did not start: {output.strip()[-500:]}")
            time.sleep(0.1)
        yield Dovecot(root, port, itertools.count(1), introspection)
    finally:
        process.terminate()
        process.wait(timeout=10)
        introspection.shutdown()
        introspection.server_close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    return dovecot.add_user()


@pytest.fixture
def imap_account(support_team: Team, dovecot: Dovecot, mailbox: Mailbox) -> ChannelAccount:
    return ChannelAccount.objects.create(
        kind="email",
        name="Support mailbox",
        slug="support-imap",
        address="support@shop.test",
        credentials={
            "imap_host": "127.0.0.1",
            "imap_port": str(dovecot.port),
            "imap_ssl": "false",
            "imap_user": mailbox.user,
            "imap_password": PASSWORD,
        },
        default_team=support_team,
    )


def mail(number: int, *, message_id: bool = True) -> bytes:
    header = f"Message-ID: <mail-{number}@Example.com>\r\n" if message_id else ""
    return (
        f"From: customer{number}@example.com\r\nTo: support@shop.test\r\n"
        f"Subject: Question {number}\r\n{header}\r\nBody of mail {number}.\r\n"
    ).encode()


def stored_keys() -> list[str]:
    return sorted(InboundEvent.objects.values_list("external_id", flat=True))


def test_a_poll_imports_the_mailbox_and_a_second_poll_nothing(
    db: None, imap_account: ChannelAccount, mailbox: Mailbox
) -> None:
    for number in (1, 2, 3):
        mailbox.deliver(mail(number))

    first = poll_account(imap_account)
    second = poll_account(imap_account)

    assert (first.imported, first.duplicates, first.error) == (3, 0, "")
    # Nothing fetched again, not even the newest message that "4:*" still matches.
    assert (second.imported, second.duplicates, second.error) == (0, 0, "")
    assert stored_keys() == [f"mail-{n}@example.com:support@shop.test" for n in (1, 2, 3)]
    event = InboundEvent.objects.get(external_id="mail-2@example.com:support@shop.test")
    assert bytes(event.payload) == mail(2)
    assert event.headers["transport"] == "imap"
    assert event.headers["mailbox"] == "INBOX"
    assert event.headers["uid"] == "2"
    cursor = MailboxCursor.objects.get(channel_account=imap_account)
    assert (cursor.mailbox, cursor.last_uid, cursor.last_error) == ("INBOX", 3, "")
    assert cursor.uidvalidity == int(event.headers["uidvalidity"])
    assert cursor.lease_until is None
    assert cursor.last_polled_at is not None


def test_new_mail_after_a_poll_is_imported_once(
    db: None, imap_account: ChannelAccount, mailbox: Mailbox
) -> None:
    mailbox.deliver(mail(1))
    poll_account(imap_account)
    mailbox.deliver(mail(2, message_id=False))

    result = poll_account(imap_account)

    assert (result.imported, result.duplicates) == (1, 0)
    assert InboundEvent.objects.count() == 2
    assert MailboxCursor.objects.get().last_uid == 2


def test_a_poll_reads_a_bounded_number_of_messages_and_the_next_goes_on(
    db: None, imap_account: ChannelAccount, mailbox: Mailbox
) -> None:
    for number in (1, 2, 3):
        mailbox.deliver(mail(number))

    first = poll_account(imap_account, max_messages=2)
    second = poll_account(imap_account, max_messages=2)

    assert (first.imported, second.imported) == (2, 1)
    assert MailboxCursor.objects.get().last_uid == 3
    assert len(stored_keys()) == 3


def test_a_new_uidvalidity_rescans_without_duplicates(
    db: None, imap_account: ChannelAccount, mailbox: Mailbox
) -> None:
    mailbox.deliver(mail(1))
    mailbox.deliver(mail(2, message_id=False))
    poll_account(imap_account)
    old_uidvalidity = MailboxCursor.objects.get().uidvalidity
    mailbox.reset_uidvalidity()
    mailbox.deliver(mail(3))

    result = poll_account(imap_account)

    assert (result.imported, result.duplicates, result.error) == (1, 2, "")
    assert InboundEvent.objects.count() == 3
    cursor = MailboxCursor.objects.get()
    assert cursor.uidvalidity != old_uidvalidity
    assert cursor.last_uid == 3


@pytest.mark.django_db(transaction=True)
def test_mail_received_by_smtp_is_not_imported_again_by_imap(
    imap_account: ChannelAccount, mailbox: Mailbox
) -> None:
    """Both paths key a message by Message-ID and the account's address."""
    ingress = IngressController(host="127.0.0.1", port=free_port(), server_name="mx.shop.test")
    ingress.start()
    try:
        with smtplib.SMTP(ingress.hostname, ingress.port, timeout=10) as client:
            client.sendmail("customer1@example.com", ["support+t9-x@shop.test"], mail(1))
    finally:
        ingress.stop()
    mailbox.deliver(mail(1))
    mailbox.deliver(mail(2))

    result = poll_account(imap_account)

    assert (result.imported, result.duplicates) == (1, 1)
    assert stored_keys() == [
        "mail-1@example.com:support@shop.test",
        "mail-2@example.com:support@shop.test",
    ]
    assert InboundEvent.objects.get(external_id__startswith="mail-1").headers["transport"] == (
        "smtp"
    )


def test_an_oauth2_token_logs_in_with_xoauth2(
    db: None, dovecot: Dovecot, imap_account: ChannelAccount, mailbox: Mailbox
) -> None:
    dovecot.introspection.tokens["token-of-the-day"] = mailbox.user
    imap_account.credentials = {
        **imap_account.credentials,
        "imap_password": "",
        "imap_oauth2_token": "token-of-the-day",
    }
    imap_account.save()
    mailbox.deliver(mail(1))

    result = poll_account(imap_account)

    assert (result.imported, result.error) == (1, "")
    assert dovecot.introspection.seen[-1] == "token-of-the-day"


def test_an_expired_oauth2_token_is_recorded(
    db: None, dovecot: Dovecot, imap_account: ChannelAccount, mailbox: Mailbox
) -> None:
    imap_account.credentials = {**imap_account.credentials, "imap_oauth2_token": "expired"}
    imap_account.save()
    mailbox.deliver(mail(1))

    result = poll_account(imap_account)

    assert result.imported == 0
    assert result.error.startswith("LoginError")
    assert dovecot.introspection.seen[-1] == "expired"
    assert "expired" not in MailboxCursor.objects.get().last_error


def test_oversized_messages_are_skipped_and_passed(
    db: None, imap_account: ChannelAccount, mailbox: Mailbox
) -> None:
    mailbox.deliver(mail(1) + b"x" * 5000 + b"\r\n")
    mailbox.deliver(mail(2))

    result = poll_account(imap_account, max_bytes=2000)

    assert (result.imported, result.skipped) == (1, 1)
    assert stored_keys() == ["mail-2@example.com:support@shop.test"]
    assert MailboxCursor.objects.get().last_uid == 2


def test_a_wrong_password_is_recorded_on_the_cursor(
    db: None, imap_account: ChannelAccount, mailbox: Mailbox
) -> None:
    mailbox.deliver(mail(1))
    imap_account.credentials = {**imap_account.credentials, "imap_password": "wrong-secret"}
    imap_account.save()

    result = poll_account(imap_account)

    assert result.imported == 0
    assert result.error.startswith("LoginError")
    assert "wrong-secret" not in result.error
    cursor = MailboxCursor.objects.get()
    assert cursor.last_error == result.error
    assert (cursor.last_uid, cursor.lease_until) == (0, None)
    assert InboundEvent.objects.count() == 0


def test_an_unreachable_server_is_recorded(db: None, support_team: Team) -> None:
    account = ChannelAccount.objects.create(
        kind="email",
        name="Gone",
        slug="gone",
        address="gone@shop.test",
        credentials={
            "imap_host": "127.0.0.1",
            "imap_port": str(free_port()),
            "imap_ssl": "false",
            "imap_password": "x",
        },
    )

    result = poll_account(account)

    assert result.error.startswith("ConnectionRefusedError")
    assert MailboxCursor.objects.get(channel_account=account).last_error == result.error


def test_a_mailbox_another_poller_holds_is_left_alone(
    db: None, imap_account: ChannelAccount, mailbox: Mailbox
) -> None:
    mailbox.deliver(mail(1))
    MailboxCursor.objects.create(
        channel_account=imap_account,
        mailbox="INBOX",
        lease_until=timezone.now() + timedelta(minutes=5),
    )

    result = poll_account(imap_account)

    assert result.busy is True
    assert InboundEvent.objects.count() == 0


def test_a_lease_that_ran_out_is_taken_over(
    db: None, imap_account: ChannelAccount, mailbox: Mailbox
) -> None:
    mailbox.deliver(mail(1))
    MailboxCursor.objects.create(
        channel_account=imap_account,
        mailbox="INBOX",
        lease_until=timezone.now() - timedelta(seconds=1),
    )

    assert poll_account(imap_account).imported == 1


def test_another_mailbox_folder_is_polled(
    db: None, imap_account: ChannelAccount, mailbox: Mailbox
) -> None:
    imap_account.credentials = {**imap_account.credentials, "imap_mailbox": "Missing"}
    imap_account.save()

    result = poll_account(imap_account)

    assert result.mailbox == "Missing"
    assert "Missing" in result.error or "exist" in result.error.lower()


def test_the_command_polls_one_account(
    db: None, imap_account: ChannelAccount, mailbox: Mailbox, capsys: pytest.CaptureFixture[str]
) -> None:
    mailbox.deliver(mail(1))

    call_command("poll_imap", "--account", "support-imap")

    assert capsys.readouterr().out == (
        "support-imap (INBOX): 1 imported, 0 already stored, 0 too large.\n"
    )


def test_the_command_refuses_unknown_and_deactivated_accounts(
    db: None, imap_account: ChannelAccount, whatsapp_account: ChannelAccount
) -> None:
    with pytest.raises(CommandError, match="No email channel account with slug 'nope'"):
        call_command("poll_imap", "--account", "nope")
    with pytest.raises(CommandError, match="No email channel account"):
        call_command("poll_imap", "--account", whatsapp_account.slug)
    imap_account.is_active = False
    imap_account.save()
    with pytest.raises(CommandError, match="deactivated"):
        call_command("poll_imap", "--account", "support-imap")


def test_the_command_fails_when_a_poll_fails(
    db: None, imap_account: ChannelAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    imap_account.credentials = {**imap_account.credentials, "imap_password": "wrong"}
    imap_account.save()

    with pytest.raises(CommandError, match="Polling failed for 1 account"):
        call_command("poll_imap")

    assert capsys.readouterr().err.startswith("support-imap: LoginError")


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """``delay()`` runs the task in-process, as on the embedded default, also when the suite
    runs with REDIS_URL set."""
    from helpdesk.celery import app as celery_app

    was_eager = celery_app.conf.get("task_always_eager")
    celery_app.conf.update(task_always_eager=True)
    yield
    celery_app.conf.update(task_always_eager=was_eager)


def test_the_periodic_task_polls_every_imap_account(
    db: None,
    eager_tasks: None,
    imap_account: ChannelAccount,
    email_account: ChannelAccount,
    mailbox: Mailbox,
) -> None:
    """email_account has no imap_host and is not polled; tasks run eagerly in the suite."""
    mailbox.deliver(mail(1))

    assert poll_imap_task.apply().get() == 1
    assert stored_keys() == ["mail-1@example.com:support@shop.test"]
    assert poll_imap_account_task.apply(args=(email_account.pk,)).get() == 0
    assert poll_imap_account_task.apply(args=(10**9,)).get() == 0


# --- Credentials ------------------------------------------------------------------------------


def account_with(credentials: dict[str, str]) -> ChannelAccount:
    return ChannelAccount(kind="email", address="support@shop.test", credentials=credentials)


def test_settings_defaults() -> None:
    config = imap_settings(account_with({"imap_host": "imap.example.com", "imap_password": "pw"}))

    assert config is not None
    assert (config.host, config.port, config.ssl) == ("imap.example.com", 993, True)
    assert (config.user, config.mailbox) == ("support@shop.test", "INBOX")
    assert "pw" not in repr(config)


def test_settings_without_tls_and_with_oauth2() -> None:
    config = imap_settings(
        account_with(
            {"imap_host": "h", "imap_ssl": "false", "imap_oauth2_token": "tok", "imap_user": "u"}
        )
    )

    assert config is not None
    assert (config.port, config.ssl, config.oauth2_token, config.user) == (143, False, "tok", "u")


def test_settings_without_host_are_none() -> None:
    assert imap_settings(account_with({"password": "smtp"})) is None


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({"imap_host": "h", "imap_password": "p", "imap_port": "imap"}, "imap_port"),
        ({"imap_host": "h", "imap_password": "p", "imap_port": "70000"}, "imap_port"),
        ({"imap_host": "h", "imap_password": "p", "imap_port": "0"}, "imap_port"),
        ({"imap_host": "h", "imap_password": "p", "imap_ssl": "maybe"}, "imap_ssl"),
        ({"imap_host": "h"}, "imap_password or imap_oauth2_token"),
    ],
)
def test_bad_settings_are_refused(credentials: dict[str, str], message: str) -> None:
    with pytest.raises(ImapConfigurationError, match=message):
        imap_settings(account_with(credentials))


def test_a_poll_with_bad_settings_reports_them(db: None, email_account: ChannelAccount) -> None:
    email_account.credentials = {"imap_host": "h", "imap_password": "p", "imap_ssl": "maybe"}
    email_account.save()

    result = poll_account(email_account)

    assert result.error == "imap_ssl must be true or false."
    assert MailboxCursor.objects.count() == 0
