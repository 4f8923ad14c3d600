"""The demo shop as plain data: customers, orders and ticket conversations, planned in Python
before anything touches the database.

Every entity draws from its own random generator seeded with its index, so a run plans the
same customer #17 and the same ticket t0042 every time, whatever else changes. Times are
offsets from ``now``; ``demo.seed`` turns the plans into rows through the services.
"""

from __future__ import annotations

import dataclasses
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import phonenumbers

from demo.data import (
    ADMIN,
    AGENTS,
    CHANNEL_ACCOUNTS,
    CHANNELS,
    COUNTRIES,
    CURRENCY_RATES,
    DISCOUNT_CODES,
    EMAIL_DOMAINS,
    PRODUCTS,
    SHIPPING_FEES,
    WHOLESALE_COMPANIES,
    Carrier,
    City,
    CountryData,
    Product,
    StaffData,
)
from demo.scripts import FRAMES, SCENARIOS, SCENARIOS_BY_KEY, Frame, Scenario, Script

SEED = "switchboard-demo"
CENT = Decimal("0.01")
SCRIPT_LANGUAGES = frozenset(FRAMES)
MAIN, DUPLICATE, FOLLOW_UP = "main", "duplicate", "follow_up"
STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
STATUS_WEIGHTS = (12, 18, 12, 6, 27, 25)
CHANNEL_WEIGHTS = {
    "email": 35,
    "chat": 18,
    "whatsapp": 17,
    "sms": 6,
    "messenger": 8,
    "instagram": 10,
    "telegram": 6,
}
# How fast a conversation moves on a channel, relative to email.
CHANNEL_PACE = {
    "email": 1.0,
    "chat": 0.03,
    "whatsapp": 0.35,
    "sms": 0.5,
    "messenger": 0.4,
    "instagram": 0.4,
    "telegram": 0.35,
}
# How long ago (in days) a ticket in each final status started.
STATUS_AGE_DAYS = {
    "new": (0.05, 1.5),
    "open": (0.3, 6),
    "pending": (1, 10),
    "on_hold": (2, 14),
    "solved": (1, 40),
    "closed": (6, 59),
}
# The last fabricated moment stays this far before ``now``: rows the services stamp during
# the run are recognised by being newer than the run's start.
SAFETY_MARGIN = timedelta(minutes=2)


def rng_for(*parts: object) -> random.Random:
    # A string seed is hashed with SHA-512, so it is stable across processes and versions.
    return random.Random(":".join([SEED, *map(str, parts)]))  # noqa: S311 - demo data only


def _fill(rng: random.Random, pattern: str) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return "".join(
        str(rng.randrange(10)) if ch == "#" else rng.choice(letters) if ch == "A" else ch
        for ch in pattern
    )


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _weighted(rng: random.Random, options: Sequence[Any], weights: Sequence[float]) -> Any:
    return rng.choices(list(options), weights=list(weights), k=1)[0]


# --- Customers and orders ------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityPlan:
    kind: str
    address: str
    display_name: str = ""


@dataclass(frozen=True)
class LinePlan:
    product: Product
    color: str
    size: str
    quantity: int
    unit_price: Decimal

    @property
    def sku(self) -> str:
        parts = [self.product.sku, _ascii(self.color)[:3].upper()]
        if self.size:
            parts.append(self.size)
        return "-".join(parts)

    @property
    def title(self) -> str:
        variant = " / ".join(part for part in (self.color, self.size) if part)
        return f"{self.product.title} – {variant}"

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass
class OrderPlan:
    external_id: str
    placed_at: datetime
    currency: str
    lines: list[LinePlan]
    shipping_total: Decimal
    tax_total: Decimal
    financial_status: str
    fulfillment_status: str
    carrier: Carrier | None
    tracking: list[dict[str, str]]
    shipping_address: dict[str, str]
    number: str = ""

    @property
    def subtotal(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping_total + self.tax_total


@dataclass
class CustomerPlan:
    index: int
    name: str
    first_name: str
    email: str
    locale: str
    country: CountryData
    city: City
    identities: list[IdentityPlan]
    orders: list[OrderPlan] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    created_at: datetime | None = None

    @property
    def language(self) -> str:
        return self.locale.split("-")[0]

    def identity(self, kind: str) -> IdentityPlan | None:
        return next((item for item in self.identities if item.kind == kind), None)


def _price(base: Decimal, currency: str) -> Decimal:
    converted = base * CURRENCY_RATES[currency]
    step = Decimal(10) if converted >= 200 else Decimal(1)
    rounded = (converted / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return max(rounded, step) - CENT


def _address(rng: random.Random, country: CountryData, city: City, name: str) -> dict[str, str]:
    street = country.street_format.format(
        street=rng.choice(country.streets), number=rng.randint(1, 240)
    )
    address = {
        "name": name,
        "address1": street,
        "address2": rng.choice(("", "", "", f"Apt {rng.randint(1, 40)}{rng.choice('ABCD')}")),
        "city": city.name,
        "province": city.province,
        "zip": _fill(rng, city.postal),
        "country": country.name,
        "country_code": country.code,
    }
    return address


def one_line_address(address: dict[str, str]) -> str:
    parts = [address["address1"], address.get("address2", ""), address["zip"], address["city"]]
    return ", ".join(part for part in parts if part)


def _phone(rng: random.Random, country: CountryData, used: set[str]) -> str:
    for _ in range(200):
        candidate = _fill(rng, rng.choice(country.phone_patterns))
        number = phonenumbers.parse(candidate)
        if phonenumbers.is_valid_number(number) and candidate not in used:
            used.add(candidate)
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise RuntimeError(f"No valid demo phone number found for {country.code}.")


def _email(rng: random.Random, first: str, last: str, used: set[str]) -> str:
    first_ascii, last_ascii = _ascii(first), _ascii(last)
    shapes = (
        f"{first_ascii}.{last_ascii}",
        f"{first_ascii}{last_ascii}",
        f"{first_ascii[0]}.{last_ascii}",
        f"{first_ascii}_{last_ascii}{rng.randint(1, 99)}",
        f"{first_ascii}{rng.randint(70, 99)}",
    )
    local = rng.choice(shapes)
    domain = rng.choice(EMAIL_DOMAINS)
    address = f"{local}@{domain}"
    suffix = 2
    while address in used:
        address = f"{local}{suffix}@{domain}"
        suffix += 1
    used.add(address)
    return address


def _order_states(rng: random.Random, age_days: float) -> tuple[str, str]:
    """(financial status, fulfillment status) that fit an order placed ``age_days`` ago."""
    if age_days < 1.5:
        return _weighted(
            rng,
            [("paid", "unfulfilled"), ("authorized", "unfulfilled"), ("pending", "unfulfilled")],
            [7, 2, 1],
        )
    if age_days < 5:
        return _weighted(
            rng,
            [("paid", "fulfilled"), ("paid", "partial"), ("paid", "unfulfilled")],
            [6, 1, 3],
        )
    return _weighted(
        rng,
        [
            ("paid", "fulfilled"),
            ("refunded", "returned"),
            ("partially_refunded", "fulfilled"),
            ("voided", "cancelled"),
        ],
        [80, 10, 7, 3],
    )


def _plan_order(
    rng: random.Random, customer: CustomerPlan, index: int, j: int, now: datetime
) -> OrderPlan:
    country = customer.country
    currency = country.currency
    lines = []
    for product in rng.sample(PRODUCTS, k=_weighted(rng, [1, 2, 3], [55, 32, 13])):
        size = rng.choice(product.sizes) if product.sizes else ""
        lines.append(
            LinePlan(
                product=product,
                color=rng.choice(product.colors),
                size=size,
                quantity=_weighted(rng, [1, 2], [9, 1]),
                unit_price=_price(product.price, currency),
            )
        )
    subtotal = sum((line.total for line in lines), Decimal(0))
    free_from = _price(Decimal(100), currency)
    shipping = Decimal(0) if subtotal >= free_from else SHIPPING_FEES[currency]
    tax = (subtotal * country.tax_rate).quantize(CENT, rounding=ROUND_HALF_UP)
    age_days = _weighted(rng, [rng.uniform(0.2, 6), rng.uniform(6, 150)], [25, 75])
    financial, fulfillment = _order_states(rng, age_days)
    carrier = rng.choice(country.carriers)
    tracking = []
    if fulfillment in ("fulfilled", "partial", "returned"):
        number = _fill(rng, carrier.pattern)
        tracking.append(
            {"carrier": carrier.name, "number": number, "url": carrier.url.format(number=number)}
        )
    return OrderPlan(
        external_id=f"demo-{index + 1:04d}-{j + 1}",
        placed_at=now - timedelta(days=age_days),
        currency=currency,
        lines=lines,
        shipping_total=shipping,
        tax_total=tax,
        financial_status=financial,
        fulfillment_status=fulfillment,
        carrier=carrier,
        tracking=tracking,
        shipping_address=_address(rng, country, customer.city, customer.name),
    )


def _messaging_id(rng: random.Random, kind: str) -> str:
    if kind == "messenger":
        return str(rng.randrange(10**15, 10**16))
    if kind == "instagram":
        return str(rng.randrange(10**16, 10**17))
    if kind == "telegram":
        return str(rng.randrange(10**8, 6 * 10**9))
    return "visitor-" + "".join(rng.choice("0123456789abcdef") for _ in range(16))


def plan_customers(count: int, now: datetime) -> list[CustomerPlan]:
    used_emails: set[str] = set()
    used_phones: set[str] = set()
    customers = []
    for index in range(count):
        rng = rng_for("customer", index)
        country = _weighted(rng, COUNTRIES, [c.weight for c in COUNTRIES])
        first, last = rng.choice(country.first_names), rng.choice(country.last_names)
        name = f"{first} {last}"
        email = _email(rng, first, last, used_emails)
        city = rng.choice(country.cities)
        customer = CustomerPlan(
            index=index,
            name=name,
            first_name=first,
            email=email,
            locale=rng.choice(country.locales),
            country=country,
            city=city,
            identities=[IdentityPlan("email", email, name)],
        )
        phone_likely = 0.3 if country.code in ("US", "CA") else 0.55
        chances = {
            "chat": 0.35,
            "whatsapp": phone_likely,
            "sms": 0.35 if country.code in ("US", "CA", "GB", "AU") else 0.1,
            "messenger": 0.2,
            "instagram": 0.25,
            "telegram": 0.15,
        }
        wanted = [kind for kind in CHANNELS[1:] if rng.random() < chances[kind]]
        if index < len(CHANNELS) - 1:
            # The first customers cover every channel, so even a tiny demo has them all.
            wanted = sorted({*wanted, CHANNELS[index + 1]}, key=CHANNELS.index)
        phone = _phone(rng, country, used_phones) if {"whatsapp", "sms"} & set(wanted) else ""
        for kind in wanted:
            if kind in ("whatsapp", "sms"):
                customer.identities.append(IdentityPlan(kind, phone, name))
            elif kind == "instagram":
                handle = f"@{_ascii(first)}.{_ascii(last)}"
                customer.identities.append(IdentityPlan(kind, _messaging_id(rng, kind), handle))
            elif kind == "chat":
                customer.identities.append(IdentityPlan(kind, _messaging_id(rng, kind), first))
            else:
                customer.identities.append(IdentityPlan(kind, _messaging_id(rng, kind), name))
        order_count = _weighted(rng, [1, 2, 3, 4, 5], [35, 28, 18, 12, 7])
        customer.orders = [_plan_order(rng, customer, index, j, now) for j in range(order_count)]
        first_order = min(order.placed_at for order in customer.orders)
        customer.created_at = first_order - timedelta(minutes=rng.randint(2, 90))
        if order_count >= 4:
            customer.tags.append("vip")
        customers.append(customer)
    # Order numbers follow the order in which the orders were placed, as in a real shop.
    all_orders = sorted(
        (order for customer in customers for order in customer.orders),
        key=lambda order: (order.placed_at, order.external_id),
    )
    for position, order in enumerate(all_orders):
        order.number = f"#{1001 + position}"
    return customers


# --- Tickets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One service call. ``actor``/``agent`` are usernames; ``order`` an external id."""

    at: datetime
    action: str  # message, reply, note, assign, team, priority, tags, link, status, merge
    thread: str = MAIN
    text: str = ""
    channel: str = ""
    sender: str = ""
    sender_name: str = ""
    subject: str = ""
    provider_id: str = ""
    references: tuple[str, ...] = ()
    starts: bool = False
    status: str | None = None
    actor: str | None = None
    agent: str | None = None
    team: str | None = None
    tags: tuple[str, ...] = ()
    order: str | None = None
    priority: str | None = None
    target: str = ""


@dataclass
class TicketPlan:
    key: str
    ticket_count: int
    steps: list[Step]

    @property
    def first_provider_id(self) -> str:
        return self.steps[0].provider_id


STAFF = {staff.username: staff for staff in (ADMIN, *AGENTS)}
DEFAULT_TEAM = {account.kind: account.default_team for account in CHANNEL_ACCOUNTS}


def _money(amount: Decimal, currency: str, language: str) -> str:
    symbols = {
        "USD": "$",
        "CAD": "CA$",
        "AUD": "A$",
        "GBP": "£",
        "EUR": "€",
        "BRL": "R$",
        "MXN": "MX$",
    }
    if language == "en" or currency not in ("EUR", "BRL"):
        return f"{symbols[currency]}{amount:,.2f}"
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") + f" {symbols[currency]}"


def _agent_for(rng: random.Random, team: str, language: str) -> StaffData:
    speakers = [agent for agent in AGENTS if language in agent.languages]
    in_team = [agent for agent in speakers if team in agent.teams]
    return rng.choice(in_team or speakers or list(AGENTS))


def _bigger(sizes: tuple[str, ...], size: str) -> str:
    position = sizes.index(size)
    return sizes[position + 1] if position + 1 < len(sizes) else sizes[position - 1]


class _TicketWriter:
    """Builds the steps of one plan: the clock, the message counter and the wording."""

    def __init__(
        self,
        *,
        key: str,
        rng: random.Random,
        start: datetime,
        customer: CustomerPlan,
        channel: str,
        scenario: Scenario,
        order: OrderPlan | None,
        agent: StaffData,
    ) -> None:
        self.key, self.rng, self.at = key, rng, start
        self.customer, self.channel, self.scenario, self.order = customer, channel, scenario, order
        self.agent = agent
        self.language = customer.language if customer.language in scenario.scripts else "en"
        self.script: Script = scenario.scripts[self.language]
        self.frame: Frame = FRAMES[self.language]
        self.steps: list[Step] = []
        self.sent = 0
        self.first_ids: dict[str, str] = {}
        self.thread_channel: dict[str, str] = {MAIN: channel}
        self.agent_spoke: set[str] = set()
        self.context = self._context()
        self.subject = self.script.subject.format(**self.context)
        self.tagged = False

    def _context(self) -> dict[str, str]:
        rng, customer, order = self.rng, self.customer, self.order
        line = None
        if order is not None:
            sized = [item for item in order.lines if item.size]
            line = rng.choice(sized or order.lines)
        product = line.product if line else rng.choice([p for p in PRODUCTS if p.sizes])
        size = line.size if line and line.size else rng.choice(product.sizes or ("M",))
        sizes = product.sizes or (size,)
        tracking = order.tracking[0] if order and order.tracking else {}
        new_address = _address(rng, customer.country, rng.choice(customer.country.cities), "")
        return {
            "order": order.number if order else "",
            "product": product.title,
            "size": size,
            "new_size": _bigger(sizes, size) if size in sizes and len(sizes) > 1 else size,
            "carrier": order.carrier.name if order and order.carrier else "",
            "tracking": tracking.get("number", ""),
            "tracking_url": tracking.get("url", ""),
            "city": customer.city.name,
            "country": customer.country.name,
            "amount": _money(order.total, order.currency, self.language) if order else "",
            "code": rng.choice(DISCOUNT_CODES),
            "new_code": f"HP-{_ascii(customer.first_name)[:4].upper()}{rng.randint(10, 99)}",
            "new_address": one_line_address(new_address),
            "company": rng.choice(WHOLESALE_COMPANIES),
        }

    # The clock -----------------------------------------------------------------------------

    def wait(self, low_hours: float, high_hours: float, *, paced: bool = True) -> None:
        pace = CHANNEL_PACE[self.channel] if paced else 1.0
        self.at += timedelta(hours=self.rng.uniform(low_hours, high_hours) * pace)

    def soon(self) -> None:
        self.at += timedelta(seconds=self.rng.randint(20, 240))

    def add(self, action: str, **fields: Any) -> None:
        self.steps.append(Step(at=self.at, action=action, **fields))

    # Messages ------------------------------------------------------------------------------

    def customer_writes(
        self,
        body: str,
        *,
        thread: str = MAIN,
        channel: str | None = None,
        references: tuple[str, ...] | None = None,
    ) -> None:
        channel = channel or self.thread_channel.get(thread, self.channel)
        self.thread_channel[thread] = channel
        identity = self.customer.identity(channel)
        if identity is None:
            raise ValueError(f"Customer {self.customer.index} has no {channel} handle.")
        self.sent += 1
        provider_id = f"demo-{self.key}-{self.sent}"
        new_thread = thread not in self.first_ids
        if references is None:
            references = () if new_thread else (self.first_ids[thread],)
        # A first message without references tells threading that a conversation begins.
        starts = new_thread and not references
        self.first_ids.setdefault(thread, provider_id)
        text = body.format(**self.context)
        if channel == "email":
            text = self.frame.customer_email.format(body=text, name=self.customer.name)
        self.add(
            "message",
            thread=thread,
            text=text,
            channel=channel,
            sender=identity.address,
            sender_name=identity.display_name,
            subject=self.subject if channel == "email" else "",
            provider_id=provider_id,
            references=references,
            starts=starts,
        )

    def agent_replies(self, body: str, *, status: str | None, thread: str = MAIN) -> None:
        text = body.format(**self.context)
        channel = self.thread_channel.get(thread, self.channel)
        if channel == "email":
            text = self.frame.agent_email.format(
                first_name=self.customer.first_name, body=text, agent=self.agent.display_name
            )
        elif thread not in self.agent_spoke:
            text = self.frame.agent_chat.format(first_name=self.customer.first_name, body=text)
        self.agent_spoke.add(thread)
        self.add("reply", thread=thread, text=text, agent=self.agent.username, status=status)

    def note(self, text: str | None = None, *, thread: str = MAIN) -> None:
        body = text if text is not None else self.rng.choice(self.scenario.notes)
        self.add("note", thread=thread, text=body.format(**self.context), agent=self.agent.username)

    # Handling ------------------------------------------------------------------------------

    def route(self, priority: str) -> None:
        """What automation would do on arrival: the team, sometimes tags and priority."""
        self.soon()
        if self.scenario.team != DEFAULT_TEAM[self.channel]:
            self.add("team", team=self.scenario.team, actor=None)
        if self.rng.random() < 0.5:
            self.add("tags", tags=self.scenario.tags, actor=None)
            self.tagged = True
        if priority != "normal":
            self.add("priority", priority=priority, actor=None)

    def pick_up(self) -> None:
        """An agent takes the ticket: assignment, linked order, tags."""
        self.wait(0.1, 3)
        if self.rng.random() < 0.5:
            actor = self.agent.username if self.rng.random() < 0.6 else ADMIN.username
            self.add("assign", agent=self.agent.username, actor=actor)
        if self.order is not None:
            self.add("link", order=self.order.external_id, actor=self.agent.username)
        if not self.tagged:
            tags = self.scenario.tags
            if "vip" in self.customer.tags:
                tags = (*tags, "vip")
            self.add("tags", tags=tags, actor=self.agent.username)
            self.tagged = True

    def opening(self) -> str:
        return self.rng.choice(self.script.openings)

    def converse(self, status: str) -> None:
        """Everything after the pick-up that leads the main thread to ``status``."""
        rng, script = self.rng, self.script
        if status == "new":
            if rng.random() < 0.25:
                self.wait(1, 8)
                self.customer_writes(self.frame.nudge)
            if rng.random() < 0.2:
                self.soon()
                self.add("assign", agent=self.agent.username, actor=ADMIN.username)
            return
        self.pick_up()
        if status == "open" and rng.random() < 0.35:
            self.soon()
            self.note()
            self.add("status", status="open", actor=self.agent.username)
            return
        if rng.random() < 0.3 and status in ("open", "pending"):
            self.soon()
            self.note()
        self.wait(0.05, 0.6)
        self.agent_replies(script.first_reply, status="pending")
        if status == "pending":
            return
        self.wait(1, 20)
        self.customer_writes(script.follow_up)
        if status == "open":
            return
        if status == "on_hold":
            self.wait(0.2, 3)
            self.note()
            self.soon()
            self.add("status", status="on_hold", actor=self.agent.username)
            return
        # solved and closed
        if rng.random() < 0.4:
            self.wait(0.1, 2)
            self.note()
        self.wait(0.2, 5)
        if rng.random() < 0.55:
            self.agent_replies(script.resolution, status="pending")
            self.wait(2, 30)
            self.customer_writes(script.thanks)
            self.wait(0.2, 4)
            self.add("status", status="solved", actor=self.agent.username)
        else:
            self.agent_replies(script.resolution, status="solved")
        if status == "closed":
            # Solved tickets close on their own four days later.
            self.at += timedelta(days=4, minutes=rng.randint(0, 60))
            self.add("status", status="closed", actor=None)

    def duplicate(self) -> None:
        """The customer, hearing nothing, writes again on another channel; an agent merges."""
        others = [item.kind for item in self.customer.identities if item.kind != self.channel] or [
            self.channel
        ]
        channel = (
            "email" if "email" in others and self.rng.random() < 0.5 else self.rng.choice(others)
        )
        self.wait(1, 5, paced=False)
        self.customer_writes(
            self.frame.duplicate.replace("{subject}", self.subject),
            thread=DUPLICATE,
            channel=channel,
            references=(),
        )
        self.wait(0.1, 1, paced=False)
        self.add("merge", thread=DUPLICATE, target=MAIN, actor=self.agent.username)
        if self.rng.random() < 0.5:
            self.note(f"Merged the customer's duplicate {channel} conversation into this one.")

    def follow_up(self) -> None:
        """Days after the close, the customer writes again: a follow-up ticket opens."""
        self.at += timedelta(days=self.rng.uniform(1, 10))
        body = self.frame.follow_up_order if self.order else self.frame.follow_up_plain
        self.customer_writes(
            body, thread=FOLLOW_UP, channel=self.channel, references=(self.first_ids[MAIN],)
        )
        outcome = _weighted(self.rng, ["new", "solved", "open"], [35, 45, 20])
        if outcome == "new":
            return
        self.wait(0.2, 6)
        if outcome == "open":
            self.add(
                "assign", thread=FOLLOW_UP, agent=self.agent.username, actor=self.agent.username
            )
            self.add("status", thread=FOLLOW_UP, status="open", actor=self.agent.username)
            return
        reply = self.frame.follow_up_reply_order if self.order else self.frame.follow_up_reply_plain
        self.agent_replies(reply, status="solved", thread=FOLLOW_UP)


def _candidates(
    with_channel: Sequence[CustomerPlan], scenario: Scenario, start: datetime
) -> list[tuple[CustomerPlan, OrderPlan | None]]:
    """(customer, order) pairs that fit ``scenario`` among customers on the channel."""
    if scenario.order_states is None:
        return [(customer, None) for customer in with_channel]
    if "unfulfilled" in scenario.order_states:
        window = (timedelta(hours=2), timedelta(days=8))
    elif "returned" in scenario.order_states:
        window = (timedelta(days=8), timedelta(days=90))
    else:
        window = (timedelta(days=2), timedelta(days=45))
    found: list[tuple[CustomerPlan, OrderPlan | None]] = []
    for customer in with_channel:
        for order in customer.orders:
            age = start - order.placed_at
            if order.fulfillment_status not in scenario.order_states:
                continue
            if not window[0] <= age <= window[1]:
                continue
            if scenario.needs_size and not any(line.size for line in order.lines):
                continue
            found.append((customer, order))
    return found


def _compress(steps: list[Step], now: datetime) -> list[Step]:
    """Squeeze a conversation that would run into the future so it ends before ``now``."""
    start, end = steps[0].at, steps[-1].at
    latest = now - SAFETY_MARGIN
    if end <= latest:
        return steps
    factor = (latest - start) / (end - start)
    return [dataclasses.replace(step, at=start + (step.at - start) * factor) for step in steps]


def plan_tickets(customers: Sequence[CustomerPlan], count: int, now: datetime) -> list[TicketPlan]:
    """Plans that open exactly ``count`` tickets, oldest first (ticket numbers then follow the
    order of arrival). Merged and follow-up plans open two tickets each."""
    plans: list[TicketPlan] = []
    opened = 0
    index = 0
    weights = [scenario.weight for scenario in SCENARIOS]
    by_channel = {
        kind: [customer for customer in customers if customer.identity(kind) is not None]
        for kind in CHANNELS
    }
    while opened < count and customers:
        rng = rng_for("ticket", index)
        key = f"t{index + 1:04d}"
        if index == 6:
            shape = "follow_up"
        elif index == 7:
            shape = "merged"
        else:
            shape = _weighted(rng, ["single", "merged", "follow_up"], [90, 5, 5])
        if count - opened < 2:
            shape = "single"
        if shape == "follow_up":
            status = "closed"
        elif index < len(STATUSES):
            status = STATUSES[index]
        else:
            status = _weighted(rng, STATUSES, STATUS_WEIGHTS)
        if index < len(CHANNELS):
            channel = CHANNELS[index]
        else:
            channel = _weighted(rng, list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))
        low, high = (20, 55) if shape == "follow_up" else STATUS_AGE_DAYS[status]
        start = now - timedelta(days=rng.uniform(low, high))
        if not by_channel[channel]:
            channel = "email"
        found: list[tuple[CustomerPlan, OrderPlan | None]] = []
        scenario = SCENARIOS[0]
        for _ in range(12):
            scenario = _weighted(rng, SCENARIOS, weights)
            found = _candidates(by_channel[channel], scenario, start)
            if found:
                break
        if not found:
            scenario = SCENARIOS_BY_KEY["product_question"]
            found = _candidates(by_channel[channel], scenario, start)
        customer, order = rng.choice(found)
        language = customer.language if customer.language in scenario.scripts else "en"
        writer = _TicketWriter(
            key=key,
            rng=rng,
            start=start,
            customer=customer,
            channel=channel,
            scenario=scenario,
            order=order,
            agent=_agent_for(rng, scenario.team, language),
        )
        priority = scenario.priority
        roll = rng.random()
        if roll < 0.08:
            priority = "urgent" if priority == "high" else "high"
        elif roll < 0.15 and priority == "normal":
            priority = "low"
        writer.customer_writes(writer.opening())
        writer.route(priority)
        if shape == "merged":
            writer.duplicate()
        writer.converse(status)
        if shape == "follow_up":
            writer.follow_up()
        tickets = 1 if shape == "single" else 2
        plans.append(TicketPlan(key=key, ticket_count=tickets, steps=_compress(writer.steps, now)))
        opened += tickets
        index += 1
    plans.sort(key=lambda plan: (plan.steps[0].at, plan.key))
    return plans
