"""Turn the demo plans into rows, through the same services the product uses.

Idempotent per object: teams, users and channel accounts by slug or username, customers by
their email handle, orders by ``(store, external_id)``, tickets by the provider id of their
first message. Each customer and each ticket conversation is one transaction, so a run that
stops half-way leaves whole objects behind and the next run completes the rest.

The services stamp every row with the current time. A demo whose history all happened in the
last two minutes is useless, so after each service call this module back-dates the rows it
just made with queryset ``update()`` calls. That is fabrication of demo history, done here
and nowhere else in the product.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from channels_inbox.services import create_channel_account
from customers.models import Customer, Identity, Order
from customers.services import OrderLineData, add_identity, create_customer, upsert_order
from demo.automation import seed_automation
from demo.data import ADMIN, AGENTS, CHANNEL_ACCOUNTS, DEMO_PASSWORD, STORE, TEAMS
from demo.help_center import seed_help_center
from demo.plans import (
    CustomerPlan,
    OrderPlan,
    Step,
    TicketPlan,
    plan_customers,
    plan_tickets,
)
from helpdesk.models import Team, User
from helpdesk.services import create_agent, create_team
from tickets.models import Message, Ticket, TicketActivity
from tickets.services import (
    InboundMessage,
    add_note,
    add_reply,
    assign_team,
    assign_ticket,
    change_priority,
    change_status,
    link_order,
    merge_tickets,
    receive_message,
    tag_ticket,
)

Verb = TicketActivity.Verb
PROVIDER_ID_PREFIX = "demo-"
# What a delivered reply looks like on each channel: email has no delivery receipts.
DELIVERED_AS = {
    "email": Message.DeliveryStatus.SENT,
    "sms": Message.DeliveryStatus.DELIVERED,
}


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    # Demo usernames that were already taken; their passwords were left alone.
    existing_users: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, what: str, count: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + count

    @property
    def changed_anything(self) -> bool:
        return any(self.created.values())


Log = Callable[[str], None]


def seed_demo(*, customers: int, tickets: int, log: Log = lambda line: None) -> SeedReport:
    """Create what is missing of the demo shop; returns how many of each thing it created."""
    started = timezone.now()
    report = SeedReport()
    admin = _seed_admin(report)
    teams = _seed_teams(admin, report)
    users = _seed_staff(admin, teams, report)
    accounts = _seed_channel_accounts(admin, teams, report)
    report.add("help center articles", seed_help_center(admin))
    customer_plans = plan_customers(customers, started)
    _seed_customers(customer_plans, report, log)
    ticket_plans = plan_tickets(customer_plans, tickets, started)
    _seed_tickets(ticket_plans, users, teams, accounts, started, report, log)
    report.add("automation settings", seed_automation(admin))
    report.seconds = (timezone.now() - started).total_seconds()
    return report


def login_lines() -> list[tuple[str, str, str]]:
    """(username, password, role) of every demo user, admin first."""
    lines = [(ADMIN.username, DEMO_PASSWORD, "admin")]
    team_names = {team.slug: team.name for team in TEAMS}
    for agent in AGENTS:
        teams = ", ".join(team_names[slug] for slug in agent.teams)
        lines.append((agent.username, DEMO_PASSWORD, f"agent ({teams})"))
    return lines


# --- Staff and channels --------------------------------------------------------------------


def _seed_admin(report: SeedReport) -> User:
    """The demo admin, the actor of every configuration service call below. Like
    ``createsuperuser``, the very first admin is bootstrapped directly: the services refuse
    anyone but an admin."""
    user = User.objects.filter(username=ADMIN.username).first()
    if user is not None:
        report.existing_users.append(ADMIN.username)
    else:
        user = User.objects.create_user(
            ADMIN.username,
            ADMIN.email,
            DEMO_PASSWORD,
            first_name=ADMIN.first_name,
            last_name=ADMIN.last_name,
            display_name=ADMIN.display_name,
            role=User.Role.ADMIN,
            is_superuser=True,
            languages=list(ADMIN.languages),
            capacity=ADMIN.capacity,
            availability=ADMIN.availability,
            time_zone=ADMIN.time_zone,
        )
        report.add("users")
    if user.is_admin:
        return user
    # "admin" exists but is not an admin (the name was taken by hand): act as any admin.
    other = User.objects.filter(role=User.Role.ADMIN, is_active=True).order_by("pk").first()
    if other is None:
        raise CommandError(
            f"User {ADMIN.username!r} exists but is not an admin, and there is no other admin."
        )
    return other


def _seed_teams(actor: User, report: SeedReport) -> dict[str, Team]:
    existing = {team.slug: team for team in Team.objects.filter(slug__in=[t.slug for t in TEAMS])}
    teams = {}
    for data in TEAMS:
        team = existing.get(data.slug)
        if team is None:
            team = create_team(
                name=data.name, slug=data.slug, description=data.description, actor=actor
            )
            report.add("teams")
        teams[data.slug] = team
    return teams


def _seed_staff(actor: User, teams: dict[str, Team], report: SeedReport) -> dict[str, User]:
    existing = {
        user.username: user
        for user in User.objects.filter(username__in=[agent.username for agent in AGENTS])
    }
    users = {ADMIN.username: User.objects.get(username=ADMIN.username)}
    for data in AGENTS:
        user = existing.get(data.username)
        if user is not None:
            report.existing_users.append(data.username)
        else:
            user = create_agent(
                username=data.username,
                email=data.email,
                password=DEMO_PASSWORD,
                display_name=data.display_name,
                first_name=data.first_name,
                last_name=data.last_name,
                role=data.role,
                teams=[teams[slug] for slug in data.teams],
                capacity=data.capacity,
                languages=data.languages,
                availability=data.availability,
                time_zone=data.time_zone,
                actor=actor,
            )
            report.add("users")
        users[data.username] = user
    return users


def _seed_channel_accounts(
    actor: User, teams: dict[str, Team], report: SeedReport
) -> dict[str, ChannelAccount]:
    existing = {
        account.slug: account
        for account in ChannelAccount.objects.filter(slug__in=[a.slug for a in CHANNEL_ACCOUNTS])
    }
    accounts = {}
    for data in CHANNEL_ACCOUNTS:
        account = existing.get(data.slug)
        if account is None:
            account = create_channel_account(
                kind=data.kind,
                name=data.name,
                slug=data.slug,
                address=data.address,
                default_team=teams[data.default_team],
                actor=actor,
            )
            report.add("channel accounts")
        accounts[data.kind] = account
    return accounts


# --- Customers and orders ------------------------------------------------------------------


def _seed_customers(plans: list[CustomerPlan], report: SeedReport, log: Log) -> None:
    owners = dict(
        ((kind, address), customer_id)
        for kind, address, customer_id in Identity.objects.values_list(
            "kind", "address", "customer_id"
        )
    )
    existing_orders = set(Order.objects.filter(store=STORE).values_list("external_id", flat=True))
    for plan in plans:
        customer_id = owners.get(("email", plan.email))
        missing_identities = [
            identity
            for identity in plan.identities
            if (identity.kind, identity.address) not in owners
        ]
        missing_orders = [o for o in plan.orders if o.external_id not in existing_orders]
        if customer_id is not None and not missing_identities and not missing_orders:
            continue
        with transaction.atomic():
            if customer_id is None:
                customer = create_customer(
                    name=plan.name, email=plan.email, locale=plan.locale, tags=plan.tags
                )
                _back_date_customer(customer, plan)
                report.add("customers")
                report.add("identities")  # the email handle create_customer adds
            else:
                customer = Customer.objects.get(pk=customer_id)
            for identity in missing_identities:
                if identity.kind == "email" and identity.address == plan.email:
                    continue
                add_identity(
                    customer,
                    kind=identity.kind,
                    address=identity.address,
                    display_name=identity.display_name,
                )
                report.add("identities")
            Identity.objects.filter(customer=customer).update(created_at=plan.created_at)
            for order in missing_orders:
                _create_order(customer, order)
                report.add("orders")
    if report.created.get("customers"):
        log(f"Customers: {report.created['customers']} created.")


def _back_date_customer(customer: Customer, plan: CustomerPlan) -> None:
    Customer.objects.filter(pk=customer.pk).update(
        created_at=plan.created_at, updated_at=plan.created_at
    )


def _create_order(customer: Customer, plan: OrderPlan) -> None:
    order, _ = upsert_order(
        store=STORE,
        external_id=plan.external_id,
        number=plan.number,
        placed_at=plan.placed_at,
        currency=plan.currency,
        customer=customer,
        subtotal=plan.subtotal,
        shipping_total=plan.shipping_total,
        tax_total=plan.tax_total,
        total=plan.total,
        financial_status=plan.financial_status,
        fulfillment_status=plan.fulfillment_status,
        tracking=plan.tracking,
        shipping_address=plan.shipping_address,
        lines=[
            OrderLineData(
                sku=line.sku,
                title=line.title,
                quantity=line.quantity,
                unit_price=line.unit_price,
                total=line.total,
            )
            for line in plan.lines
        ],
        raw={},
    )
    Order.objects.filter(pk=order.pk).update(
        created_at=plan.placed_at, updated_at=plan.placed_at + timedelta(minutes=5)
    )


# --- Tickets -------------------------------------------------------------------------------


def _seed_tickets(
    plans: list[TicketPlan],
    users: dict[str, User],
    teams: dict[str, Team],
    accounts: dict[str, ChannelAccount],
    started: datetime,
    report: SeedReport,
    log: Log,
) -> None:
    # One query tells which conversations exist, so a repeated run costs almost nothing.
    done = set(
        Message.objects.filter(provider_message_id__startswith=PROVIDER_ID_PREFIX).values_list(
            "provider_message_id", flat=True
        )
    )
    todo = [plan for plan in plans if plan.first_provider_id not in done]
    if not todo:
        return
    orders = {order.external_id: order for order in Order.objects.filter(store=STORE)}
    builder = _TicketBuilder(users, teams, accounts, orders, started)
    total = sum(plan.ticket_count for plan in todo)
    built = 0
    for position, plan in enumerate(todo, start=1):
        with transaction.atomic():
            builder.build(plan)
        built += plan.ticket_count
        report.add("tickets", plan.ticket_count)
        if position % 100 == 0 or position == len(todo):
            log(f"Tickets: {built}/{total}")


class _TicketBuilder:
    def __init__(
        self,
        users: dict[str, User],
        teams: dict[str, Team],
        accounts: dict[str, ChannelAccount],
        orders: dict[str, Order],
        started: datetime,
    ) -> None:
        self.users, self.teams, self.accounts, self.orders = users, teams, accounts, orders
        self.started = started

    def _user(self, username: str | None) -> User | None:
        return None if username is None else self.users[username]

    def _agent(self, step: Step) -> User:
        if step.agent is None:
            raise ValueError(f"Step {step.action} needs an agent.")
        return self.users[step.agent]

    def build(self, plan: TicketPlan) -> None:
        """Run the plan's steps through the services; the caller holds a transaction."""
        tickets: dict[str, Ticket] = {}
        for step in plan.steps:
            message = self._run(step, tickets)
            if message is not None:
                self._back_date_message(message, step)
            # Activities this step recorded are the ones the services stamped during this run.
            TicketActivity.objects.filter(
                ticket_id__in=[ticket.pk for ticket in tickets.values()],
                created_at__gte=self.started,
            ).update(created_at=step.at)
        for ticket in tickets.values():
            _back_date_ticket(ticket.pk)

    def _run(self, step: Step, tickets: dict[str, Ticket]) -> Message | None:
        action = step.action
        ticket = tickets.get(step.thread)
        actor = self._user(step.actor)
        if action == "message":
            message = receive_message(
                InboundMessage(
                    channel=step.channel,
                    sender_address=step.sender,
                    sender_name=step.sender_name,
                    subject=step.subject,
                    text=step.text,
                    provider_message_id=step.provider_id,
                    references=step.references,
                    starts_conversation=step.starts,
                    received_at=step.at,
                ),
                channel_account=self.accounts[step.channel],
            )
            tickets[step.thread] = message.ticket
            return message
        if ticket is None:
            raise ValueError(f"Step {action} on thread {step.thread} before its first message.")
        if action == "reply":
            # History at its own dates: a channel's window is for replies going out now.
            return add_reply(
                ticket,
                author=self._agent(step),
                text=step.text,
                status=step.status,
                check_channel=False,
            )
        if action == "note":
            return add_note(ticket, author=self._agent(step), text=step.text)
        if action == "assign":
            assign_ticket(ticket, self._agent(step), actor=actor)
        elif action == "team":
            assign_team(ticket, self.teams[str(step.team)], actor=actor)
        elif action == "priority":
            change_priority(ticket, str(step.priority), actor=actor)
        elif action == "tags":
            tag_ticket(ticket, step.tags, actor=actor)
        elif action == "link":
            link_order(ticket, self.orders[str(step.order)], actor=actor)
        elif action == "status":
            change_status(ticket, str(step.status), actor=actor)
        elif action == "merge":
            merge_tickets(ticket, tickets[step.target], actor=actor)
        else:
            raise ValueError(f"Unknown demo step {action!r}.")
        return None

    def _back_date_message(self, message: Message, step: Step) -> None:
        fields: dict[str, Any] = {"created_at": step.at}
        if message.kind == Message.Kind.REPLY:
            # No delivery worker runs during the seed; a demo reply from weeks ago that still
            # says "queued" would look broken and would be picked up by a delivery sweep.
            fields["delivery_status"] = DELIVERED_AS.get(
                message.ticket.channel, Message.DeliveryStatus.READ
            )
            fields["delivery_updated_at"] = step.at + timedelta(minutes=2)
        Message.objects.filter(pk=message.pk).update(**fields)


def _back_date_ticket(ticket_id: int) -> None:
    """Derive the ticket's own timestamps from its back-dated activities and messages."""
    ticket = Ticket.objects.get(pk=ticket_id)
    activities = list(
        TicketActivity.objects.filter(ticket_id=ticket_id).values_list("verb", "data", "created_at")
    )
    messages = Message.objects.filter(ticket_id=ticket_id).aggregate(
        customer=Max("created_at", filter=Q(kind=Message.Kind.CUSTOMER)),
        agent=Max("created_at", filter=Q(kind=Message.Kind.REPLY)),
        first_reply=Min("created_at", filter=Q(kind=Message.Kind.REPLY)),
    )

    def latest(*candidates: datetime | None) -> datetime | None:
        present = [moment for moment in candidates if moment is not None]
        return max(present) if present else None

    def when(verb: str, after: str | None = None) -> list[datetime]:
        return [
            at
            for v, data, at in activities
            if v == verb and (after is None or data.get("after") == after)
        ]

    received, replied = when(Verb.MESSAGE_RECEIVED), when(Verb.REPLIED)
    last_customer = latest(messages["customer"], *received)
    last_agent = latest(messages["agent"], *replied)
    fields: dict[str, Any] = {
        "created_at": min(at for _, _, at in activities),
        "updated_at": max(at for _, _, at in activities),
        "last_customer_message_at": last_customer,
        "last_agent_message_at": last_agent,
        "last_message_at": latest(last_customer, last_agent),
    }
    if ticket.first_responded_at is not None:
        firsts = [m for m in (messages["first_reply"], *replied) if m is not None]
        fields["first_responded_at"] = min(firsts) if firsts else None
    if ticket.solved_at is not None:
        fields["solved_at"] = latest(*when(Verb.STATUS_CHANGED, "solved"))
    if ticket.closed_at is not None:
        fields["closed_at"] = latest(*when(Verb.STATUS_CHANGED, "closed"), *when(Verb.MERGED_INTO))
    Ticket.objects.filter(pk=ticket_id).update(**fields)
