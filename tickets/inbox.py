"""The agent inbox's reads: its views, their counts, filters, sort orders and keyset pages.

Screens read the inbox through this module; the REST API's ticket list lives in
``tickets.queries``. A page of rows is a fixed number of queries whatever its size: the
tickets with their customer, assignee and team joined and each one's last message
previewed by a subquery, then their tags in one more query.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.cache import caches
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Expression,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, Substr
from django.utils import timezone

from customers.models import Customer, Identity, Order
from helpdesk.channel_kinds import ChannelKind
from helpdesk.models import User
from tickets import search
from tickets.models import Message, Tag, Ticket
from tickets.queries import PRIORITY_RANK

Status = Ticket.Status

# Statuses of a ticket someone still has to finish; the views of work to do show these.
UNSOLVED_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
# Statuses in which an SLA clock runs: pending waits for the customer, so its clock stops.
SLA_RUNNING_STATUSES = (Status.NEW, Status.OPEN, Status.ON_HOLD)
# A due time closer than this is shown amber and lists the ticket under "SLA at risk".
SLA_AT_RISK_WITHIN = timedelta(hours=1)
SOLVED_RECENTLY_WITHIN = timedelta(days=7)
# How long one agent's counts are reused while no ticket changes. The time-bound views (SLA
# at risk, solved recently) move on their own, so the counts are computed again at least
# this often. (An expiry, not a bucket of the clock in the key: two requests a moment apart
# never straddle it.)
COUNTS_CACHE_SECONDS = 30
PAGE_SIZE = 50
PREVIEW_LENGTH = 160
# Sorts a ticket without a due time after every ticket with one.
NO_DUE_TIME = datetime(9999, 12, 31, tzinfo=UTC)
# A search made only of digits, spaces and phone punctuation, with at least this many digits,
# is also looked for among the handles as a phone number (stored as E.164, "+14155550111").
MIN_PHONE_DIGITS = 6
_PHONE_LIKE = re.compile(r"[+\d\s().-]+")


# --- Views ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxView:
    """A named slice of the tickets, as the inbox's side bar lists it."""

    slug: str
    label: str
    condition: Callable[[User, datetime], Q]
    default_sort: str = "updated"
    empty_hint: str = "Nothing here right now."


def _unsolved() -> Q:
    return Q(status__in=UNSOLVED_STATUSES)


def _due_before(moment: datetime) -> Q:
    """Tickets whose SLA clock runs and whose earliest due time falls before ``moment``."""
    due = (
        Q(first_response_due_at__lt=moment, first_responded_at__isnull=True)
        | Q(next_response_due_at__lt=moment)
        | Q(resolution_due_at__lt=moment)
    )
    return Q(status__in=SLA_RUNNING_STATUSES) & due


def _at_risk(user: User, now: datetime) -> Q:
    return _due_before(now + SLA_AT_RISK_WITHIN) & ~_due_before(now)


def _breached(user: User, now: datetime) -> Q:
    return _due_before(now)


def _my_teams(user: User, now: datetime) -> Q:
    # A subquery rather than the ids: the counts and the list stay one query each.
    return _unsolved() & Q(team__in=User.teams.through.objects.filter(user=user).values("team"))


def _channel_view(kind: ChannelKind) -> InboxView:
    return InboxView(
        slug=kind.value,
        label=str(kind.label),
        condition=lambda user, now: _unsolved() & Q(channel=kind.value),
        empty_hint=f"No open {kind.label} conversations.",
    )


WORK_VIEWS = (
    InboxView(
        "mine",
        "Mine",
        lambda user, now: _unsolved() & Q(assignee=user),
        empty_hint="Nothing assigned to you. Take one from Unassigned.",
    ),
    InboxView(
        "unassigned",
        "Unassigned",
        lambda user, now: _unsolved() & Q(assignee__isnull=True),
        default_sort="waiting",
        empty_hint="Every open ticket has an owner.",
    ),
    InboxView(
        "teams",
        "My teams",
        _my_teams,
        empty_hint="Your teams have no open tickets.",
    ),
    InboxView(
        "open",
        "All open",
        lambda user, now: _unsolved(),
        empty_hint="No open tickets. Inbox zero.",
    ),
    InboxView(
        "pending",
        "Pending",
        lambda user, now: Q(status=Status.PENDING),
        empty_hint="No ticket is waiting for a customer.",
    ),
    InboxView(
        "solved",
        "Solved recently",
        lambda user, now: Q(
            status__in=(Status.SOLVED, Status.CLOSED), solved_at__gte=now - SOLVED_RECENTLY_WITHIN
        ),
        empty_hint="Nothing solved in the last seven days.",
    ),
    InboxView(
        "sla-risk",
        "SLA at risk",
        _at_risk,
        default_sort="due",
        empty_hint="No ticket is due within the hour.",
    ),
    InboxView(
        "sla-breached",
        "SLA breached",
        _breached,
        default_sort="due",
        empty_hint="No ticket is past its due time.",
    ),
)
CHANNEL_VIEWS = tuple(_channel_view(kind) for kind in ChannelKind)
VIEWS = {view.slug: view for view in (*WORK_VIEWS, *CHANNEL_VIEWS)}
DEFAULT_VIEW = "mine"


def visible_tickets() -> QuerySet[Ticket]:
    """Every ticket the inbox lists: a merged ticket lives on as the one it went into."""
    return Ticket.objects.filter(merged_into__isnull=True)


def view_condition(view: InboxView, user: User, now: datetime | None = None) -> Q:
    return view.condition(user, now or timezone.now())


# The views whose tickets depend on who looks; every other view is the same for all agents.
PERSONAL_VIEWS = ("mine", "teams")


def view_counts(user: User, now: datetime | None = None) -> dict[str, int]:
    """How many tickets each view holds, reused until a ticket changes.

    Every page and every live refresh of every agent shows the counts, and at a million
    tickets counting costs far more than the rest of the page. So they are kept in the cache
    under the tickets' version (the latest ``updated_at`` and the highest id, two index
    lookups: every service saves ``updated_at``) for at most 30 seconds, for the views that
    move with time alone (SLA at risk, solved recently). The views every agent shares are
    counted once per version (and web process) for all of them; only "Mine" and "My teams"
    per agent."""
    now = now or timezone.now()
    version = _tickets_version()
    shared_key = f"inbox:counts:shared:{version}"
    personal_key = f"inbox:counts:{user.pk}:{version}"
    # The process's own cache: the key names the version, so no process can serve counts
    # of another version, and every page is spared a round trip.
    cache = caches["process"]
    cached = cache.get_many([shared_key, personal_key])
    shared = cached.get(shared_key)
    if not isinstance(shared, dict):
        shared = _count_shared_views(user, now)
        cache.set(shared_key, shared, COUNTS_CACHE_SECONDS)
    personal = cached.get(personal_key)
    if not isinstance(personal, dict):
        personal = _count_personal_views(user, now)
        cache.set(personal_key, personal, COUNTS_CACHE_SECONDS)
    return {**shared, **personal}


def _tickets_version() -> str:
    version = Ticket.objects.aggregate(updated=Max("updated_at"), top=Max("id"))
    updated = version["updated"].timestamp() if version["updated"] else 0
    return f"{updated:.6f}:{version['top'] or 0}"


def _count_shared_views(user: User, now: datetime) -> dict[str, int]:
    """The views every agent shares (their conditions do not read ``user``)."""
    # Every view but "Solved recently" lists unsolved tickets: counting them by reading only
    # those rows (the partial index ticket_unsolved_counts holds every column a view tests)
    # instead of the whole table is what keeps this fast when most tickets are long closed.
    # The solved view has its own partial index; one query ORing both would read neither.
    views = [
        view
        for view in (*WORK_VIEWS, *CHANNEL_VIEWS)
        if view.slug not in PERSONAL_VIEWS and view.slug != "solved"
    ]
    counts = (
        visible_tickets()
        .filter(_unsolved())
        .aggregate(**{view.slug: Count("pk", filter=view.condition(user, now)) for view in views})
    )
    counts["solved"] = visible_tickets().filter(VIEWS["solved"].condition(user, now)).count()
    return {slug: int(value) for slug, value in counts.items()}


def _count_personal_views(user: User, now: datetime) -> dict[str, int]:
    conditions = {slug: VIEWS[slug].condition(user, now) for slug in PERSONAL_VIEWS}
    # Only the agent's and their teams' tickets are read (their own indexes), not every
    # unsolved ticket.
    either = Q()
    for condition in conditions.values():
        either |= condition
    counts = (
        visible_tickets()
        .filter(either)
        .aggregate(
            **{slug: Count("pk", filter=condition) for slug, condition in conditions.items()}
        )
    )
    return {slug: int(value) for slug, value in counts.items()}


# --- Filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxFilters:
    """What the filter bar narrows a view to; each is optional. ``assignee`` and ``team``
    take an id, or "none" for tickets without one; ``assignee`` also takes "me"."""

    channel: str = ""
    tag: str = ""
    priority: str = ""
    status: str = ""
    assignee: str = ""
    team: str = ""
    text: str = ""

    def condition(self, user: User) -> Q:
        condition = Q()
        if self.channel:
            condition &= Q(channel=self.channel)
        if self.priority:
            condition &= Q(priority=self.priority)
        if self.status:
            condition &= Q(status=self.status)
        if self.tag:
            condition &= Q(
                pk__in=Ticket.tags.through.objects.filter(tag__name=self.tag).values("ticket_id")
            )
        if self.assignee == "none":
            condition &= Q(assignee__isnull=True)
        elif self.assignee == "me":
            condition &= Q(assignee=user)
        elif self.assignee:
            condition &= Q(assignee_id=int(self.assignee))
        if self.team == "none":
            condition &= Q(team__isnull=True)
        elif self.team:
            condition &= Q(team_id=int(self.team))
        if self.text:
            condition &= _text_condition(self.text)
        return condition

    @property
    def active(self) -> bool:
        return any(
            (
                self.channel,
                self.tag,
                self.priority,
                self.status,
                self.assignee,
                self.team,
                self.text,
            )
        )


def _text_condition(text: str) -> Q:
    """Tickets a search finds (see ``text_branches``), as one condition."""
    condition = Q()
    for branch in text_branches(text):
        condition |= branch
    return condition


def text_branches(text: str) -> list[Q]:
    """The ways a search finds a ticket: by number ("1042" or "#1042"), words in the
    subject, the customer's name, email address or any handle (a phone number however it is
    spaced), an order's number (linked to the ticket or placed by its customer), or words
    in any message, through the database's full-text index.

    Each is a condition one index serves. The inbox reads a page of each and merges them
    (``search_page``): one query ORing them all makes the database walk every ticket of the
    view and test each row every way."""
    text = " ".join(text.split())
    number = text.removeprefix("#")
    on_ticket = Q(subject__icontains=text)
    if number.isdigit() and len(number) <= 9:
        on_ticket |= Q(number=int(number))
    order_numbers = {text, number, f"#{number}"}
    orders = Order.objects.filter(number__in=order_numbers).order_by()
    # A customer found by name, email, any handle, or an order they placed: one set, so
    # the tickets come through the customer index once.
    customers = [
        Customer.objects.filter(Q(name__icontains=text) | Q(email__icontains=text))
        .order_by()
        .values("pk"),
        Identity.objects.filter(address__icontains=text).order_by().values("customer_id"),
        orders.values("customer_id"),
    ]
    digits = "".join(character for character in text if character.isdigit())
    if len(digits) >= MIN_PHONE_DIGITS and _PHONE_LIKE.fullmatch(text):
        customers.append(
            Identity.objects.filter(address__contains=digits).order_by().values("customer_id")
        )
    branches = [
        on_ticket,
        Q(customer__in=customers[0].union(*customers[1:])),
        Q(pk__in=Ticket.orders.through.objects.filter(order__in=orders).values("ticket_id")),
    ]
    terms = search.search_terms(text)
    if terms:
        branches.append(search.message_text_condition(terms))
    return branches


def attach_search_snippets(tickets: list[Ticket], text: str) -> None:
    """Give each ticket of a page of search results ``search_snippet``: the matching words
    of its latest matching message, highlighted, or "" when the match was elsewhere; one
    query for the page."""
    terms = search.search_terms(text)
    found = search.snippets([ticket.pk for ticket in tickets], terms)
    for ticket in tickets:
        snippet = found.get(ticket.pk)
        ticket.search_snippet = search.highlight_html(snippet) if snippet else ""  # type: ignore[attr-defined]


# --- Sort orders and keyset pages -----------------------------------------------------------


def _sla_due() -> Expression:
    """The earliest due time of a ticket's running clocks, ``NO_DUE_TIME`` without one.
    Each field is coalesced first: LEAST skips NULLs on PostgreSQL but returns NULL on
    SQLite."""
    far = Value(NO_DUE_TIME, output_field=DateTimeField())
    first_response = Case(
        When(first_responded_at__isnull=True, then=F("first_response_due_at")),
        default=Value(None, output_field=DateTimeField()),
        output_field=DateTimeField(),
    )
    return Least(
        Coalesce(first_response, far),
        Coalesce(F("next_response_due_at"), far),
        Coalesce(F("resolution_due_at"), far),
        output_field=DateTimeField(),
    )


@dataclass(frozen=True)
class SortOrder:
    slug: str
    label: str
    # (expression, descending, "datetime" or "int"); the ticket id breaks ties last.
    keys: tuple[tuple[Callable[[], Any], bool, str], ...]


SORTS = {
    sort.slug: sort
    for sort in (
        SortOrder("updated", "Last activity", ((lambda: F("updated_at"), True, "datetime"),)),
        SortOrder(
            "waiting",
            "Longest waiting",
            ((lambda: Coalesce("last_customer_message_at", "created_at"), False, "datetime"),),
        ),
        SortOrder(
            "priority",
            "Priority",
            ((lambda: PRIORITY_RANK, True, "int"), (lambda: F("updated_at"), True, "datetime")),
        ),
        SortOrder("due", "SLA due", ((_sla_due, False, "datetime"),)),
        SortOrder("created", "Newest", ((lambda: F("created_at"), True, "datetime"),)),
    )
}


class CursorError(ValueError):
    """A cursor that this module did not write (or that a changed sort cannot read)."""


def encode_cursor(sort: SortOrder, values: Iterable[Any]) -> str:
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    raw = json.dumps([sort.slug, plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: SortOrder, cursor: str) -> list[Any]:
    """The sort values a cursor holds, the ticket id last; ``CursorError`` when it is not
    a cursor of this sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        slug, values = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as error:
        raise CursorError("The page cursor is not valid.") from error
    kinds = [kind for _key, _descending, kind in sort.keys] + ["int"]
    if slug != sort.slug or not isinstance(values, list) or len(values) != len(kinds):
        raise CursorError("The page cursor belongs to another sort order.")
    decoded: list[Any] = []
    for value, kind in zip(values, kinds, strict=True):
        if kind == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise CursorError("The page cursor is not valid.")
            decoded.append(value)
            continue
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError) as error:
            raise CursorError("The page cursor is not valid.") from error
        if timezone.is_naive(moment):
            raise CursorError("The page cursor is not valid.")
        decoded.append(moment)
    return decoded


def _sorted(tickets: QuerySet[Ticket], sort: SortOrder) -> tuple[QuerySet[Ticket], list[str]]:
    names = [f"sort_key_{index}" for index in range(len(sort.keys))]
    tickets = tickets.alias(
        **{name: key() for name, (key, _d, _k) in zip(names, sort.keys, strict=True)}
    )
    ordering = [
        f"-{name}" if descending else name
        for name, (_key, descending, _kind) in zip(names, sort.keys, strict=True)
    ]
    id_descending = sort.keys[0][1]
    ordering.append("-id" if id_descending else "id")
    return tickets.order_by(*ordering), [*names, "id"]


def _after(names: list[str], directions: list[bool], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in the order: (a, b, id) > (x, y, z) spelled out, so
    each branch can use an index range."""
    after = Q()
    for index, name in enumerate(names):
        step = Q(**{f"{name}__{'lt' if directions[index] else 'gt'}": values[index]})
        for earlier in range(index):
            step &= Q(**{names[earlier]: values[earlier]})
        after |= step
    return after


@dataclass
class Page:
    tickets: list[Ticket]
    next_cursor: str | None


def ticket_page(
    tickets: QuerySet[Ticket], sort: SortOrder, *, cursor: str = "", size: int | None = None
) -> Page:
    """One page of ``tickets`` in ``sort`` order after ``cursor``, ready for the list;
    ``CursorError`` for a cursor this sort did not write."""
    size = size or PAGE_SIZE
    ordered, names = _sorted(tickets, sort)
    directions = [descending for _key, descending, _kind in sort.keys] + [sort.keys[0][1]]
    if cursor:
        ordered = ordered.filter(_after(names, directions, decode_cursor(sort, cursor)))
    # The sort keys come back with the rows, for the next cursor.
    key_names = names[:-1]
    ordered = ordered.annotate(**{f"{name}_value": F(name) for name in key_names})
    rows = list(with_row_details(ordered)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(
            sort, [*(getattr(last, f"{name}_value") for name in key_names), last.pk]
        )
    return Page(rows, next_cursor)


# --- Rows ----------------------------------------------------------------------------------

ROW_FIELDS = (
    "id",
    "number",
    "subject",
    "status",
    "priority",
    "channel",
    "merged_into_id",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "first_responded_at",
    "solved_at",
    "last_customer_message_at",
    "last_agent_message_at",
    "last_message_at",
    "created_at",
    "updated_at",
    "customer__id",
    "customer__name",
    "customer__email",
    "assignee__id",
    "assignee__username",
    "assignee__display_name",
    "assignee__first_name",
    "assignee__last_name",
    "team__id",
    "team__name",
)


def with_row_details(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """What a row shows: the customer, assignee and team joined (only the columns shown),
    the last customer message or reply as ``preview`` with its ``preview_kind``, and the
    tags in one more query."""
    last = Message.objects.filter(
        ticket=OuterRef("pk"), kind__in=(Message.Kind.CUSTOMER, Message.Kind.REPLY)
    ).order_by("-created_at", "-id")
    return (
        tickets.select_related("customer", "assignee", "team")
        .only(*ROW_FIELDS)
        .annotate(
            preview=Substr(Subquery(last.values("text")[:1]), 1, PREVIEW_LENGTH),
            preview_kind=Subquery(last.values("kind")[:1]),
        )
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name", "color")))
    )


def inbox_tickets(view: InboxView, filters: InboxFilters, user: User) -> QuerySet[Ticket]:
    return visible_tickets().filter(view_condition(view, user), filters.condition(user))


def inbox_page(
    view: InboxView,
    filters: InboxFilters,
    user: User,
    sort: SortOrder,
    *,
    cursor: str = "",
    size: int | None = None,
) -> Page:
    """The page of the view's tickets under ``filters`` in ``sort`` order after ``cursor``:
    one query, or for a search one per way of finding a ticket and one for the rows."""
    if not filters.text:
        return ticket_page(inbox_tickets(view, filters, user), sort, cursor=cursor, size=size)
    narrowed = inbox_tickets(view, replace(filters, text=""), user)
    return search_page(narrowed, text_branches(filters.text), sort, cursor=cursor, size=size)


def search_page(
    tickets: QuerySet[Ticket],
    branches: Iterable[Q],
    sort: SortOrder,
    *,
    cursor: str = "",
    size: int | None = None,
) -> Page:
    """The page of ``tickets`` that match any of ``branches``, as ``ticket_page`` would give
    for their OR: the first ``size`` of each branch in sort order (the keyset cursor applies
    to each alike), merged, hold the first ``size`` of their union."""
    size = size or PAGE_SIZE
    ordered, names = _sorted(tickets, sort)
    directions = [descending for _key, descending, _kind in sort.keys] + [sort.keys[0][1]]
    if cursor:
        ordered = ordered.filter(_after(names, directions, decode_cursor(sort, cursor)))
    value_names = [f"{name}_value" for name in names[:-1]]
    ordered = ordered.annotate(
        **{value: F(name) for value, name in zip(value_names, names, strict=False)}
    )
    found: dict[int, tuple[Any, ...]] = {}
    for branch in branches:
        for keys in ordered.filter(branch).values_list(*value_names, "id")[: size + 1]:
            found[keys[-1]] = keys
    merged = list(found.values())
    # Stable sorts from the last key to the first: each key in its own direction.
    for index in reversed(range(len(directions))):
        merged.sort(key=lambda keys: keys[index], reverse=directions[index])
    more = len(merged) > size
    merged = merged[:size]
    ids = [keys[-1] for keys in merged]
    rows = {ticket.pk: ticket for ticket in with_row_details(Ticket.objects.filter(pk__in=ids))}
    # A ticket merged away between the two reads is left out rather than shown stale.
    page = [rows[pk] for pk in ids if pk in rows]
    next_cursor = encode_cursor(sort, merged[-1]) if more and merged else None
    return Page(page, next_cursor)


def ticket_row(ticket_id: int) -> Ticket | None:
    """One ticket as a row, for a live refresh; None when it is gone."""
    return with_row_details(Ticket.objects.filter(pk=ticket_id)).first()


def in_view(ticket_id: int, view: InboxView, filters: InboxFilters, user: User) -> bool:
    return inbox_tickets(view, filters, user).filter(pk=ticket_id).exists()


# --- What a row says ------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaState:
    due_at: datetime
    state: str  # "breached", "at-risk" or "on-track"


def sla_state(ticket: Ticket, now: datetime | None = None) -> SlaState | None:
    """The earliest running SLA clock of a ticket, or None when none runs."""
    if ticket.status not in SLA_RUNNING_STATUSES:
        return None
    dues = [ticket.next_response_due_at, ticket.resolution_due_at]
    if ticket.first_responded_at is None:
        dues.append(ticket.first_response_due_at)
    running = [due for due in dues if due is not None]
    if not running:
        return None
    due_at = min(running)
    now = now or timezone.now()
    if due_at <= now:
        return SlaState(due_at, "breached")
    if due_at - now <= SLA_AT_RISK_WITHIN:
        return SlaState(due_at, "at-risk")
    return SlaState(due_at, "on-track")


def waiting_since(ticket: Ticket) -> datetime | None:
    """Since when the customer has waited for an answer, or None when they do not."""
    if ticket.status not in UNSOLVED_STATUSES or ticket.status == Status.PENDING:
        return None
    asked = ticket.last_customer_message_at
    if asked is None:
        return None
    answered = ticket.last_agent_message_at
    if answered is not None and answered >= asked:
        return None
    return asked
