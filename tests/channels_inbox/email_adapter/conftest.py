"""A real SMTP server on loopback that records what our adapter sends it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from helpdesk import ratelimits
from tests.caches import clear_cache


@pytest.fixture(autouse=True)
def _no_counts_left() -> Iterator[None]:
    """The per-sender rate limit counts outlive a test."""
    clear_cache()
    ratelimits.reset()
    yield
    ratelimits.reset()
    clear_cache()


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class SinkHandler:
    """Accepts everything unless told to answer ``rcpt_reply`` at RCPT or ``data_reply``
    after DATA (a real server's 550 or 451)."""

    received: list[Received] = field(default_factory=list)
    rcpt_reply: str = ""
    data_reply: str = ""
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                content=bytes(envelope.original_content or b""),
            )
        )
        return "250 Message accepted"


@dataclass
class Sink:
    host: str
    port: int
    handler: SinkHandler

    @property
    def received(self) -> list[Received]:
        return self.handler.received


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _authenticator(handler: SinkHandler) -> Any:
    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        handler.logins.append((login, password))
        return AuthResult(success=(login, password) == ("mailer", "s3cret"), handled=False)

    return authenticate


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    """An SMTP server that takes every mail (and AUTH as mailer/s3cret without TLS)."""
    handler = SinkHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator(handler),
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield Sink("127.0.0.1", port, handler)
    finally:
        controller.stop()
