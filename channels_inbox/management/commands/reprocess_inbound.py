"""``manage.py reprocess_inbound``: run stored inbound events through the pipeline again.

After a fix is deployed (a parser bug, a missing adapter, a ticket rule that refused a
message), the events that failed because of it are still stored raw. This resets them and
processes them in this process, printing each outcome. Processing is idempotent: messages
already threaded are found by their provider id, not saved twice.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.services import reset_inbound_events
from channels_inbox.tasks import process_inbound_event_task


class Command(BaseCommand):
    help = (
        "Process stored inbound events again: every failed event by default, or the events "
        "given with --id, narrowed by --status and --account."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--id", dest="ids", type=int, nargs="+", action="extend", metavar="N", default=[]
        )
        parser.add_argument(
            "--status",
            choices=InboundEvent.Status.values,
            help="Only events in this status (default: failed, unless --id is given).",
        )
        parser.add_argument("--account", metavar="SLUG", help="Only this channel account's events.")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] = options["ids"]
        status: str | None = options["status"]
        account_slug: str | None = options["account"]
        events = InboundEvent.objects.all()
        if ids:
            missing = sorted(set(ids) - set(events.filter(pk__in=ids).values_list("pk", flat=True)))
            if missing:
                raise CommandError(
                    "No inbound event with id " + ", ".join(str(pk) for pk in missing) + "."
                )
            events = events.filter(pk__in=ids)
        elif status is None:
            status = InboundEvent.Status.FAILED
        if status is not None:
            events = events.filter(status=status)
        if account_slug is not None:
            if not ChannelAccount.objects.filter(slug=account_slug).exists():
                raise CommandError(f"No channel account with slug {account_slug!r}.")
            events = events.filter(channel_account__slug=account_slug)
        selected = list(events.order_by("received_at", "id").values_list("pk", flat=True))
        reset = reset_inbound_events(selected)
        busy = sorted(set(selected) - set(reset))
        if busy:
            busy_ids = ", ".join(str(pk) for pk in busy)
            self.stdout.write(f"Left alone (a worker is processing them): {busy_ids}.")
        outcomes: dict[str, int] = {}
        for event_id in reset:
            outcome = process_inbound_event_task(event_id)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            event = InboundEvent.objects.get(pk=event_id)
            line = f"Event {event_id} ({event.external_id}): {event.status}"
            self.stdout.write(f"{line}: {event.error}" if event.error else line)
        if not reset:
            self.stdout.write("No inbound events to reprocess.")
            return
        summary = ", ".join(f"{count} {name}" for name, count in sorted(outcomes.items()))
        self.stdout.write(f"Reprocessed {len(reset)} events: {summary}.")
