"""The demo shop's automation: business hours, SLA policies, macros, an auto-acknowledgement,
routing settings and a few rules, so ``/settings/`` shows a configured help desk.

Plain data and one function, called after the tickets are seeded so that nothing here acts on
the demo history: rules and the auto-acknowledgement only react to events that happen later.
Safe to run again: an object whose name (or channel account, or team) already exists is left
as it is (an admin may have edited it).

Routing stays off. ``configure_routing`` with a mode other than "off" drains the team's queue
at once, which would hand the demo's unassigned tickets to agents while seeding; the demo's
"unassigned" view would be empty and its history rewritten. The routing rows are saved with
mode off and the escalation path (Support → VIP & Wholesale), so an admin turns routing on
with one click.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from automation.macros.services import save_auto_acknowledgement, save_macro
from automation.models import (
    AutoAcknowledgement,
    BusinessHours,
    Macro,
    Rule,
    SlaPolicy,
    TeamRouting,
)
from automation.routing.services import configure_routing
from automation.rules.services import save_rule
from automation.sla.services import save_business_hours, save_sla_policy
from channels_inbox.models import ChannelAccount
from helpdesk.models import Team, User
from tickets.models import Ticket

BUSINESS_HOURS_NAME = "Harbor & Pine support"
WEEKDAY = [["09:00", "18:00"]]
WEEKLY_HOURS = {
    "monday": WEEKDAY,
    "tuesday": WEEKDAY,
    "wednesday": WEEKDAY,
    "thursday": WEEKDAY,
    "friday": WEEKDAY,
    "saturday": [["10:00", "14:00"]],
}
PAUSE_IN = [str(Ticket.Status.PENDING), str(Ticket.Status.ON_HOLD)]
HOUR = 60
DAY = 24 * HOUR


@dataclass(frozen=True)
class PolicyData:
    name: str
    first_response: int
    next_response: int
    resolution: int
    priorities: tuple[str, ...] = ()
    customer_tags: tuple[str, ...] = ()


POLICIES = (
    PolicyData("Urgent", 30, 60, 8 * HOUR, priorities=(str(Ticket.Priority.URGENT),)),
    PolicyData("VIP customers", 60, 2 * HOUR, 24 * HOUR, customer_tags=("vip",)),
    PolicyData("Standard", 4 * HOUR, 8 * HOUR, 3 * DAY),
)


@dataclass(frozen=True)
class MacroData:
    name: str
    body: str
    set_status: str = ""
    add_tags: tuple[str, ...] = ()


SHARED_MACROS = (
    MacroData(
        "Where is my order?",
        "Hi {{ customer.first_name }},\n\n"
        "thanks for checking in. Your order {{ order.number }} is on its way; you can follow "
        "it here: {{ order.tracking_url }}\n\n"
        "If it has not arrived within three working days, just reply to this message.\n\n"
        "Best wishes,\n{{ agent.name }}\nHarbor & Pine",
        set_status=str(Ticket.Status.PENDING),
        add_tags=("shipping", "wismo"),
    ),
    MacroData(
        "Send a return label",
        "Hi {{ customer.first_name }},\n\n"
        "no problem at all. We have attached a prepaid return label for order "
        "{{ order.number }}. Pack the items in their original packaging, stick the label on "
        "the parcel and drop it at any post office within 30 days.\n\n"
        "We will refund you as soon as the parcel reaches our warehouse.\n\n"
        "Best wishes,\n{{ agent.name }}",
        set_status=str(Ticket.Status.PENDING),
        add_tags=("return",),
    ),
    MacroData(
        "Change the delivery address",
        "Hi {{ customer.first_name }},\n\n"
        "we have updated the delivery address of order {{ order.number }}. If the parcel has "
        "already left our warehouse, we will ask the carrier to redirect it.\n\n"
        "Best wishes,\n{{ agent.name }}",
        set_status=str(Ticket.Status.SOLVED),
        add_tags=("address-change",),
    ),
    MacroData(
        "Refund issued",
        "Hi {{ customer.first_name }},\n\n"
        "we have issued your refund for order {{ order.number }}. Depending on your bank it "
        "shows on your statement within 5–10 working days.\n\n"
        "Best wishes,\n{{ agent.name }}",
        set_status=str(Ticket.Status.SOLVED),
        add_tags=("refund",),
    ),
    MacroData(
        "Ask for photos of a damaged item",
        "Hi {{ customer.first_name }},\n\n"
        "we are sorry your order arrived damaged. Could you send us two or three photos of "
        "the item and of the parcel it came in? Then we will send a replacement or refund "
        "you right away, whichever you prefer.\n\n"
        "Best wishes,\n{{ agent.name }}",
        set_status=str(Ticket.Status.PENDING),
        add_tags=("damaged",),
    ),
    MacroData(
        "Close with thanks",
        "Hi {{ customer.first_name }},\n\n"
        "glad we could help! We will close this ticket now; if anything else comes up, just "
        "reply and we will pick it up again.\n\n"
        "Have a lovely day,\n{{ agent.name }}",
        set_status=str(Ticket.Status.SOLVED),
    ),
)
PERSONAL_MACRO_OWNER = "maya"
PERSONAL_MACRO = MacroData(
    "My sign-off (Spanish)",
    "Hola {{ customer.first_name }},\n\n"
    "¡gracias por escribirnos! Si necesitas algo más, aquí estamos.\n\n"
    "Un saludo,\n{{ agent.name }}",
)

AUTO_ACK_ACCOUNT = "support-email"
AUTO_ACK_BODY = (
    "Hello {{ customer.first_name }},\n\n"
    "thank you for writing to Harbor & Pine. We have received your message and a member of "
    "our team will reply {{ expected_reply }}.\n\n"
    "Your ticket number is {{ ticket.number }}; there is no need to write again in the "
    "meantime.\n\n"
    "Harbor & Pine customer care"
)

WEBHOOK_URL = "https://example.com/hooks/switchboard"


@dataclass(frozen=True)
class RuleData:
    name: str
    description: str
    trigger: str
    actions: list[dict[str, Any]]
    conditions: dict[str, Any] = field(default_factory=dict)
    active: bool = True
    time_basis: str = ""
    time_status: str = ""
    time_minutes: int | None = None


def _rules(vip_team: Team) -> list[RuleData]:
    return [
        RuleData(
            "Tag refund requests",
            "Customers who ask for their money back get the refund tag.",
            Rule.Trigger.CUSTOMER_MESSAGE,
            [{"type": "add_tags", "tags": ["refund"]}],
            {
                "any": [
                    {"field": "body", "op": "contains", "value": "refund"},
                    {"field": "body", "op": "contains", "value": "Rückerstattung"},
                ]
            },
        ),
        RuleData(
            "Urgent: damaged items",
            "Damaged or broken goods go to the top of the queue.",
            Rule.Trigger.CUSTOMER_MESSAGE,
            [{"type": "set_priority", "priority": str(Ticket.Priority.HIGH)}],
            {
                "any": [
                    {"field": "subject", "op": "matches", "value": "damaged|broken|kaputt"},
                    {"field": "body", "op": "matches", "value": "damaged|broken|kaputt"},
                ]
            },
        ),
        RuleData(
            "VIP to VIP & Wholesale",
            "New tickets of VIP customers go straight to the VIP team.",
            Rule.Trigger.TICKET_CREATED,
            [{"type": "assign_team", "team": vip_team.pk}],
            {"all": [{"field": "customer_tags", "op": "any_of", "value": ["vip"]}]},
        ),
        RuleData(
            "Remind: pending for 3 days",
            "A note on tickets that have waited for the customer for three days.",
            Rule.Trigger.TIME_BASED,
            [
                {
                    "type": "add_note",
                    "body": "Pending for 3 days without an answer from the customer. "
                    "Follow up or solve the ticket.",
                }
            ],
            time_basis=Rule.TimeBasis.STATUS_FOR,
            time_status=str(Ticket.Status.PENDING),
            time_minutes=3 * DAY,
        ),
        RuleData(
            "Example: send urgent tickets to a webhook",
            "Inactive example: posts urgent tickets to an outside system.",
            Rule.Trigger.TICKET_UPDATED,
            [{"type": "webhook", "url": WEBHOOK_URL}],
            {
                "all": [
                    {"field": "priority", "op": "in", "value": [str(Ticket.Priority.URGENT)]},
                ]
            },
            active=False,
        ),
    ]


def seed_automation(admin: User) -> int:
    """Create what is missing of the demo's automation; returns how many objects it created.
    ``admin`` is the actor of the services that need one."""
    created = 0
    with transaction.atomic():
        hours, made = _seed_business_hours()
        created += made
        created += _seed_policies(hours)
        created += _seed_macros()
        created += _seed_auto_acknowledgement(hours)
        created += _seed_rules(admin)
        created += _seed_routing(admin)
    return created


def _seed_business_hours() -> tuple[BusinessHours, int]:
    hours = BusinessHours.objects.filter(name=BUSINESS_HOURS_NAME).first()
    if hours is not None:
        return hours, 0
    hours = BusinessHours(
        name=BUSINESS_HOURS_NAME,
        time_zone="Europe/Berlin",
        weekly_hours=WEEKLY_HOURS,
        holiday_country="DE",
        holiday_subdivision="BE",
    )
    return save_business_hours(hours), 1


def _seed_policies(hours: BusinessHours) -> int:
    existing = set(SlaPolicy.objects.values_list("name", flat=True))
    created = 0
    for position, data in enumerate(POLICIES):
        if data.name in existing:
            continue
        save_sla_policy(
            SlaPolicy(
                name=data.name,
                position=position,
                priorities=list(data.priorities),
                customer_tags=list(data.customer_tags),
                first_response_minutes=data.first_response,
                next_response_minutes=data.next_response,
                resolution_minutes=data.resolution,
                business_hours=hours,
                pause_statuses=list(PAUSE_IN),
                warning_minutes=30,
            )
        )
        created += 1
    return created


def _seed_macros() -> int:
    created = 0
    shared = set(Macro.objects.filter(owner=None).values_list("name", flat=True))
    for data in SHARED_MACROS:
        if data.name not in shared:
            save_macro(_macro(data, owner=None))
            created += 1
    owner = User.objects.filter(username=PERSONAL_MACRO_OWNER, is_active=True).first()
    if owner is not None and not Macro.objects.filter(owner=owner, name=PERSONAL_MACRO.name):
        save_macro(_macro(PERSONAL_MACRO, owner=owner))
        created += 1
    return created


def _macro(data: MacroData, *, owner: User | None) -> Macro:
    return Macro(
        name=data.name,
        owner=owner,
        body=data.body,
        set_status=data.set_status,
        add_tags=list(data.add_tags),
    )


def _seed_auto_acknowledgement(hours: BusinessHours) -> int:
    account = ChannelAccount.objects.filter(slug=AUTO_ACK_ACCOUNT).first()
    if account is None or AutoAcknowledgement.objects.filter(channel_account=account).exists():
        return 0
    save_auto_acknowledgement(
        AutoAcknowledgement(
            channel_account=account,
            enabled=True,
            body=AUTO_ACK_BODY,
            business_hours=hours,
            expected_reply_minutes=4 * HOUR,
            period_hours=24,
        )
    )
    return 1


def _seed_rules(admin: User) -> int:
    vip = Team.objects.filter(slug="vip-wholesale").first()
    if vip is None:
        return 0
    existing = set(Rule.objects.values_list("name", flat=True))
    created = 0
    for data in _rules(vip):
        if data.name in existing:
            continue
        rule = Rule(
            name=data.name,
            description=data.description,
            active=data.active,
            trigger=data.trigger,
            conditions=data.conditions,
            actions=data.actions,
            time_basis=data.time_basis,
            time_status=data.time_status,
            time_minutes=data.time_minutes,
        )
        save_rule(rule, actor=admin)
        created += 1
    return created


def _seed_routing(admin: User) -> int:
    """Routing rows with mode off (see the module docstring), skills and language matching
    off; Support escalates to VIP & Wholesale."""
    teams = {team.slug: team for team in Team.objects.all()}
    wanted = (
        ("support", teams.get("vip-wholesale")),
        ("returns-exchanges", None),
        ("vip-wholesale", None),
    )
    created = 0
    for slug, escalation in wanted:
        team = teams.get(slug)
        if team is None or TeamRouting.objects.filter(team=team).exists():
            continue
        configure_routing(
            team,
            actor=admin,
            mode=TeamRouting.Mode.OFF,
            match_skills=False,
            match_language=False,
            hand_back_on_offline=False,
            escalation_team=escalation,
            capacity_statuses=["new", "open"],
        )
        created += 1
    return created
