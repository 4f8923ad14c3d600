"""``manage.py smtp_ingress``: receive mail from the mail server by SMTP or LMTP."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels_inbox.email.ingress import IngressController, default_max_message_bytes


class Command(BaseCommand):
    help = (
        "Receive customer mail for the active email channel accounts by SMTP (or LMTP with "
        "--lmtp) and store it for processing. Put it behind your mail server (Postfix "
        "transport_maps); mail for other addresses is refused with 550."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=2525, help="Port to listen on.")
        parser.add_argument(
            "--lmtp", action="store_true", help="Speak LMTP (RFC 2033) instead of SMTP."
        )
        parser.add_argument(
            "--max-bytes",
            type=int,
            default=None,
            help="Largest message accepted (default: room for one MAX_ATTACHMENT_BYTES file).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535; got {port}.")
        max_bytes = options["max_bytes"] or default_max_message_bytes()
        if max_bytes < 1024:
            raise CommandError(f"--max-bytes must be at least 1024; got {max_bytes}.")
        controller = IngressController(
            host=options["host"], port=port, lmtp=options["lmtp"], max_bytes=max_bytes
        )
        try:
            controller.start()
        except (OSError, RuntimeError) as error:
            raise CommandError(f"Could not listen on {options['host']}:{port}: {error}") from None
        protocol = "LMTP" if options["lmtp"] else "SMTP"
        self.stdout.write(
            f"Receiving mail by {protocol} on {options['host']}:{port} "
            f"(messages up to {max_bytes} bytes). Stop with Ctrl-C or SIGTERM."
        )
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        try:
            stopping.wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
        self.stdout.write("Stopped.")
