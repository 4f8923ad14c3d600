"""The inbox search: ticket number, customer name, email and phone, order number and message
text through the database's full-text index (FTS5 on SQLite, a GIN index on PostgreSQL),
with the matched words highlighted. Runs on whichever database ``DATABASE_URL`` names."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from customers.services import upsert_order
from helpdesk.models import User
from tickets import inbox, search
from tickets.models import Message, Ticket
from tickets.services import add_note, link_order

MakeTicket = Callable[..., Ticket]


def row_ids(response: Any) -> list[int]:
    return [int(pk) for pk in re.findall(rb'id="ticket-row-(\d+)"', response.content)]


def row_html(response: Any, ticket: Ticket) -> str:
    html = response.content.decode()
    found = re.search(rf'id="ticket-row-{ticket.pk}".*?\n</div>', html, re.S)
    assert found is not None
    return found.group(0)


@pytest.fixture(autouse=True)
def _fresh_word_statistics() -> Iterator[None]:
    """Each test reads the index's common words from its own database's statistics."""
    search._common_words_cache.clear()
    yield
    search._common_words_cache.clear()


@pytest.fixture
def shelf(
    make_ticket: MakeTicket, agent: User, django_capture_on_commit_callbacks: Any
) -> dict[str, Ticket]:
    """Tickets that each match one kind of search, named by what finds them."""
    lamp = make_ticket(
        sender_address="ana@example.com",
        sender_name="Ana Souza",
        subject="Broken lamp",
        text="The lampshade arrived cracked, the <b>bulb</b> & glass rattles inside the box.",
    )
    whatsapp = make_ticket(
        channel="whatsapp",
        sender_address="+14155550111",
        sender_name="Ben Ito",
        subject="",
        text="Hello, can I change the delivery address?",
    )
    refund = make_ticket(subject="Refund please", text="I returned the parcel last week.")
    with django_capture_on_commit_callbacks(execute=True):
        add_note(refund, author=agent, text="Warehouse confirmed the returnparcel scan.")
    ordered = make_ticket(subject="Order question", text="When will it ship?")
    order, _created = upsert_order(
        store="shop",
        external_id="gid-1",
        number="#1042",
        placed_at=datetime(2026, 11, 1, tzinfo=UTC),
        currency="EUR",
        total=Decimal("49.00"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        link_order(ordered, order, actor=agent)
    return {"lamp": lamp, "whatsapp": whatsapp, "refund": refund, "ordered": ordered}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("lampshade", ["lamp"]),
        ("LAMPSHADE cracked", ["lamp"]),
        ("lamps", ["lamp"]),  # the last word matches as a prefix, for results while typing
        ("cracked rattles", ["lamp"]),
        ("cracked delivery", []),  # every word must match
        ("delivery address", ["whatsapp"]),
        ("returnparcel", ["refund"]),  # internal notes are searched too
        ("parcel", ["refund"]),
        ("Souza", ["lamp"]),
        ("ana@example.com", ["lamp"]),
        ("+14155550111", ["whatsapp"]),
        ("415 555 0111", ["whatsapp"]),
        ("(415) 555-0111", ["whatsapp"]),
        ("1042", ["ordered"]),
        ("#1042", ["ordered"]),
        ("nothing-like-this", []),
    ],
)
def test_search_finds_tickets_by_what_they_hold(
    bob_client: Client, shelf: dict[str, Ticket], q: str, expected: list[str]
) -> None:
    response = bob_client.get("/inbox/list/", {"view": "open", "q": q})

    assert response.status_code == 200
    assert sorted(row_ids(response)) == sorted(shelf[name].pk for name in expected)


def test_search_by_ticket_number(bob_client: Client, shelf: dict[str, Ticket]) -> None:
    response = bob_client.get("/inbox/list/", {"view": "open", "q": f"#{shelf['refund'].number}"})

    assert row_ids(response) == [shelf["refund"].pk]


def test_a_message_match_shows_its_words_highlighted_and_escaped(
    bob_client: Client, shelf: dict[str, Ticket]
) -> None:
    response = bob_client.get("/inbox/list/", {"view": "open", "q": "rattles"})

    row = row_html(response, shelf["lamp"])
    snippet = re.search(
        r'class="row-subject row-subject--message row-snippet"[^>]*>(.*?)</a>', row, re.S
    )
    assert snippet is not None
    assert "<mark>rattles</mark>" in snippet.group(1)
    # The message's own markup never becomes HTML: escaped (FTS5) or left out (PostgreSQL's
    # headline parser drops tags).
    assert "bulb" in snippet.group(1)
    assert "<b>" not in snippet.group(1)
    assert "&amp;" in snippet.group(1)


def test_a_customer_match_is_highlighted_without_a_snippet(
    bob_client: Client, shelf: dict[str, Ticket]
) -> None:
    response = bob_client.get("/inbox/list/", {"view": "open", "q": "souza"})

    row = row_html(response, shelf["lamp"])
    assert '<span class="row-customer">Ana <mark>Souza</mark></span>' in row
    assert "row-snippet" not in row


@pytest.mark.parametrize(
    "q",
    [
        'lamp" OR "x',
        "NEAR(lamp cracked)",
        "lamp*:* & !",
        "text:lamp",
        "'; DROP TABLE tickets_message; --",
        "((((",
        "-lamp",
        "***",
        "ä ö ü ß",
    ],
)
def test_query_syntax_of_either_engine_is_only_text(
    bob_client: Client, shelf: dict[str, Ticket], q: str
) -> None:
    response = bob_client.get("/inbox/list/", {"view": "open", "q": q})

    assert response.status_code == 200
    assert Message.objects.count() >= 5


def test_search_terms_drop_operators_and_cap_the_count() -> None:
    assert search.search_terms('Lamp" OR (broken) a:* & !b') == ["lamp", "or", "broken", "a", "b"]
    assert len(search.search_terms(" ".join(f"word{n}" for n in range(20)))) == search.MAX_TERMS
    assert search.search_terms("&&& ***") == []


def test_edited_and_deleted_messages_leave_the_index(shelf: dict[str, Ticket], agent: User) -> None:
    message = Message.objects.filter(ticket=shelf["lamp"]).order_by("id").first()
    assert message is not None
    view = inbox.VIEWS["open"]

    def found(text: str) -> list[int]:
        filters = inbox.InboxFilters(text=text)
        return list(inbox.inbox_tickets(view, filters, agent).values_list("pk", flat=True))

    # However the row is written, the index follows the table.
    Message.objects.filter(pk=message.pk).update(text="A wobbly table leg")
    assert found("wobbly") == [shelf["lamp"].pk]
    assert found("lampshade") == []

    Message.objects.filter(pk=message.pk).delete()
    assert found("wobbly") == []


def test_snippets_cost_one_query_per_page(
    shelf: dict[str, Ticket], make_ticket: MakeTicket, django_assert_num_queries: Any
) -> None:
    more = [make_ticket(text=f"The parcel number {n} is late") for n in range(5)]
    tickets = [shelf["refund"], *more]

    with django_assert_num_queries(1):
        found = search.snippets([ticket.pk for ticket in tickets], ["parcel"])

    assert set(found) == {ticket.pk for ticket in tickets}
    assert search.MARK_START + "parcel" + search.MARK_END in found[more[0].pk]


def test_search_page_pins_its_queries(
    bob_client: Client, shelf: dict[str, Ticket], django_assert_num_queries: Any
) -> None:
    bob_client.get("/inbox/list/", {"view": "open"})
    bob_client.get("/inbox/list/", {"view": "open", "q": "parcel"})  # statistics read once
    with django_assert_num_queries(4) as plain:
        bob_client.get("/inbox/list/", {"view": "open"})
    # The list's one query becomes one per way of finding a ticket plus one for the rows,
    # and the snippets take one more: a count that depends on the words, never on the data.
    # On PostgreSQL a word outside the index's common ones is first looked up in the index
    # alone: a savepoint, the planner settings, the lookup, the settings back, the release.
    branches = len(inbox.text_branches("parcel"))
    assert branches == 4
    rare_word_lookup = 5 if connection.vendor == "postgresql" else 0
    with django_assert_num_queries(len(plain.captured_queries) + branches + 1 + rare_word_lookup):
        response = bob_client.get("/inbox/list/", {"view": "open", "q": "parcel"})

    assert row_ids(response) == [shelf["refund"].pk]


@pytest.mark.parametrize("sort", ["updated", "waiting", "priority", "created", "due"])
def test_search_pages_list_what_one_query_would_in_the_same_order(
    make_ticket: MakeTicket, agent: User, sort: str
) -> None:
    # Tickets found each a different way, interleaved in time, walked two to a page.
    for index in range(4):
        make_ticket(subject=f"Kettle {index}", text="Hello")
        make_ticket(sender_address=f"kettle{index}@example.com", subject="Hi", text="Hello")
        make_ticket(subject="Question", text=f"My kettle number {index} leaks")
        make_ticket(subject="Unrelated", text="Nothing to see")
    Ticket.objects.filter(subject="Kettle 2").update(priority=Ticket.Priority.URGENT)
    view, order = inbox.VIEWS["open"], inbox.SORTS[sort]
    filters = inbox.InboxFilters(text="kettle")
    one_query = inbox.ticket_page(inbox.inbox_tickets(view, filters, agent), order, size=100)

    walked: list[int] = []
    cursor = ""
    while True:
        page = inbox.inbox_page(view, filters, agent, order, cursor=cursor, size=2)
        walked += [ticket.pk for ticket in page.tickets]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert len(one_query.tickets) == 12
    assert walked == [ticket.pk for ticket in one_query.tickets]


@pytest.mark.django_db
def test_the_message_index_exists_only_for_its_own_database() -> None:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        indexes = connection.introspection.get_constraints(cursor, "tickets_message")
    if connection.vendor == "postgresql":
        assert "tickets_message_fts" not in tables
        assert indexes[search.INDEX_NAME]["type"] == "gin"
    else:
        assert "tickets_message_fts" in tables
        assert search.INDEX_NAME not in indexes


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the GIN index is PostgreSQL's")
@pytest.mark.django_db
def test_postgres_message_search_can_use_the_gin_index() -> None:
    matches = search.matching_messages(["lamp"])
    sql, params = matches.values("ticket_id").query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert search.INDEX_NAME in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_rare_words_are_looked_up_by_id_and_common_ones_by_subquery(
    make_ticket: MakeTicket, agent: User
) -> None:
    tickets = [make_ticket(text=f"My parcel {n} is late") for n in range(30)]
    rare = make_ticket(text="A zebra-striped parcel")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_message")
    search._common_words_cache.clear()
    assert "parcel" in search._common_words()  # read from ANALYZE's statistics
    # On a table this small every word is among the common ones; a big one keeps only the
    # frequent words there.
    search._common_words_cache[connection.alias] = (time.monotonic(), frozenset({"parcel"}))

    common = search.message_text_condition(["parcel"])
    by_id = search.message_text_condition(["zebr"])

    assert search._is_common("parcel")
    assert not search._is_common("zebr")
    ((_lookup, common_value),) = common.children  # type: ignore[misc]
    assert not isinstance(common_value, list)  # a subquery the planner walks
    assert by_id.children == [("pk__in", [rare.pk])]
    view = inbox.VIEWS["open"]
    found = inbox.inbox_page(view, inbox.InboxFilters(text="parcel"), agent, inbox.SORTS["created"])
    assert [ticket.pk for ticket in found.tickets] == [rare.pk, *reversed([t.pk for t in tickets])]
