from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.data import SHOP_NAME
from demo.seed import login_lines, seed_demo

DEFAULT_CUSTOMERS = 300
DEFAULT_TICKETS = 1000
MAX_CUSTOMERS = 5000
MAX_TICKETS = 20000


def _count(name: str, value: int, *, minimum: int, maximum: int) -> int:
    if not minimum <= value <= maximum:
        raise CommandError(f"--{name} must be between {minimum} and {maximum}; got {value}.")
    return value


class Command(BaseCommand):
    help = (
        f"Fill the help desk with the demo shop {SHOP_NAME}: teams, agents, customers with "
        "orders, seven channel accounts and a history of tickets. Safe to run again: it only "
        "adds what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
        parser.add_argument("--tickets", type=int, default=DEFAULT_TICKETS)

    def handle(self, *args: Any, **options: Any) -> None:
        customers = _count("customers", options["customers"], minimum=1, maximum=MAX_CUSTOMERS)
        tickets = _count("tickets", options["tickets"], minimum=0, maximum=MAX_TICKETS)
        report = seed_demo(customers=customers, tickets=tickets, log=self.stdout.write)
        if report.changed_anything:
            made = ", ".join(f"{count} {what}" for what, count in report.created.items() if count)
            self.stdout.write(self.style.SUCCESS(f"Demo data created: {made}."))
        else:
            self.stdout.write("The demo data is already there; nothing was changed.")
        self.stdout.write(f"Finished in {report.seconds:.1f} s.")
        if report.existing_users and report.created.get("users"):
            names = ", ".join(report.existing_users)
            self.stdout.write(f"These users already existed and keep their passwords: {names}.")
        self.stdout.write("")
        self.stdout.write("Demo log-ins (username / password / role):")
        for username, password, role in login_lines():
            self.stdout.write(f"  {username:<8} {password}  {role}")
