"""Full-text search over message text, on whichever database the desk runs.

PostgreSQL matches ``to_tsvector('simple', text)`` against a prefix tsquery, served by the
GIN index ``message_text_search`` (migration 0006); SQLite matches the FTS5 table
``tickets_message_fts``, kept in step with ``tickets_message`` by triggers (same
migration). The ``simple`` configuration neither stems nor drops stop words: customers
write in many languages, and an agent looking for "return" should not miss "returns" because
the last word is matched as a prefix anyway.

Snippets mark the matched words with two control characters that message text cannot hold
after ``highlight_html`` escapes it, so a message's own markup never reaches the page.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchVector
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tickets.models import Message

SEARCH_CONFIG = "simple"
INDEX_NAME = "message_text_search"
# Enough terms for any real search; more only make the query slower.
MAX_TERMS = 8
# Short, so the marked words stay inside the one line a row gives them.
SNIPPET_WORDS = 8
# Up to this many matching messages, their tickets can be named by id.
FEW_MATCHES = 2000
# How long the index's most common words are reused before they are read again.
COMMON_WORDS_SECONDS = 300
MARK_START = "\x02"
MARK_END = "\x03"
_WORD = re.compile(r"\w+", re.UNICODE)


def search_terms(text: str) -> list[str]:
    """The words of a search, lower-cased, without punctuation or operators of either
    engine's query language: what the agent typed is never parsed as a query."""
    return [word.lower() for word in _WORD.findall(text)][:MAX_TERMS]


def message_text_vector() -> SearchVector:
    """The indexed expression; a query must spell it the same way to use the index."""
    return SearchVector("text", config=SEARCH_CONFIG)


def _postgres_query(terms: list[str]) -> SearchQuery:
    # Every word must match; the last one as a prefix, for results while typing.
    raw = " & ".join([*terms[:-1], f"{terms[-1]}:*"])
    return SearchQuery(raw, search_type="raw", config=SEARCH_CONFIG)


def _fts5_query(terms: list[str]) -> str:
    # Each word quoted (FTS5 then reads it as a plain string), the last as a prefix.
    quoted = [f'"{term}"' for term in terms]
    quoted[-1] += "*"
    return " ".join(quoted)


def matching_messages(terms: list[str]) -> QuerySet[Message]:
    """Messages whose text holds every term (the last as a prefix). ``terms`` must be the
    output of ``search_terms`` and not empty."""
    if connection.vendor == "postgresql":
        return Message.objects.alias(document=message_text_vector()).filter(
            document=_postgres_query(terms)
        )
    return Message.objects.filter(
        pk__in=RawSQL(
            "SELECT rowid FROM tickets_message_fts WHERE tickets_message_fts MATCH %s",
            [_fts5_query(terms)],
        )
    )


def message_text_condition(terms: list[str]) -> Q:
    """Tickets with a message matching ``terms``.

    On PostgreSQL the best plan depends on how common the words are. Common words are best
    found by walking the view's tickets in order until a page is full; rare ones by reading
    their few matches from the index. The planner tells the two apart by its statistics,
    except for the last word, matched as a prefix: for that it guesses a fixed share of the
    rows, and may walk a million tickets looking for one rare word. So when a word is not
    among the column's common ones, the matches are read from the index first and, if
    they are few, the tickets named by id."""
    matching = matching_messages(terms)
    if connection.vendor == "postgresql" and not all(map(_is_common, terms)):
        few = _few_matching_tickets(matching)
        if few is not None:
            return Q(pk__in=few)
    return Q(pk__in=matching.values("ticket_id"))


def _few_matching_tickets(matching: QuerySet[Message]) -> list[int] | None:
    """The tickets of ``matching`` when at most ``FEW_MATCHES`` messages match, read
    through the index alone; None when more do."""
    probe = matching.order_by().values_list("ticket_id", flat=True)[: FEW_MATCHES + 1]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        found = list(probe)
        # SET LOCAL would otherwise last until an enclosing transaction ends.
        cursor.execute("SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL enable_indexscan TO DEFAULT")
    if len(found) > FEW_MATCHES:
        return None
    return sorted(set(found))


def _is_common(term: str) -> bool:
    """Whether the index's statistics count ``term`` (as a prefix when it is the last
    word: any word it starts) among the most common words of the messages."""
    common = _common_words()
    return term in common or any(word.startswith(term) for word in common)


_common_words_cache: dict[str, tuple[float, frozenset[str]]] = {}


def _common_words() -> frozenset[str]:
    """The most common words of the message index, by the statistics ANALYZE keeps
    (autovacuum renews them); read again every few minutes. Empty before any ANALYZE,
    when every word counts as rare, which is cheap to check on a small table."""
    now = time.monotonic()
    cached = _common_words_cache.get(connection.alias)
    if cached is not None and now - cached[0] < COMMON_WORDS_SECONDS:
        return cached[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text::text[] FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = %s",
            [INDEX_NAME],
        )
        row = cursor.fetchone()
    words = frozenset(row[0] or ()) if row else frozenset()
    _common_words_cache[connection.alias] = (now, words)
    return words


def snippets(ticket_ids: Iterable[int], terms: list[str]) -> dict[int, str]:
    """For each ticket with a matching message, an excerpt of its latest such message, the
    matches between ``MARK_START`` and ``MARK_END``: one query for the whole page."""
    ids = list(ticket_ids)
    if not ids or not terms:
        return {}
    found: dict[int, str] = {}
    if connection.vendor == "postgresql":
        query = _postgres_query(terms)
        rows = (
            matching_messages(terms)
            .filter(ticket_id__in=ids)
            .annotate(
                snippet=SearchHeadline(
                    "text",
                    query,
                    config=SEARCH_CONFIG,
                    start_sel=MARK_START,
                    stop_sel=MARK_END,
                    max_words=SNIPPET_WORDS,
                    min_words=SNIPPET_WORDS // 2,
                    fragment_delimiter=" … ",
                    max_fragments=1,
                )
            )
            .order_by("ticket_id", "-created_at", "-id")
            .distinct("ticket_id")
            .values_list("ticket_id", "snippet")
        )
        return {ticket_id: snippet for ticket_id, snippet in rows}
    sql = (
        "SELECT message.ticket_id, snippet(tickets_message_fts, 0, %s, %s, '…', %s) "
        "FROM tickets_message_fts JOIN tickets_message AS message "
        "ON message.id = tickets_message_fts.rowid "
        "WHERE tickets_message_fts MATCH %s "
        "AND message.ticket_id IN (SELECT value FROM json_each(%s)) "
        "ORDER BY message.created_at DESC, message.id DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [MARK_START, MARK_END, SNIPPET_WORDS, _fts5_query(terms), json.dumps(ids)]
        )
        for ticket_id, snippet in cursor.fetchall():
            found.setdefault(ticket_id, snippet)
    return found


def highlight_html(snippet: str) -> SafeString:
    """A snippet as HTML: its text escaped, its marked matches in ``<mark>``."""
    escaped = escape(snippet.replace("\n", " "))
    return mark_safe(  # noqa: S308 - everything but our own tags was escaped just above
        escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    )


def highlight_terms(text: str, terms: list[str]) -> SafeString:
    """``text`` escaped, with the words that start with one of ``terms`` in ``<mark>``:
    for the fields a row shows as they are (subject, customer)."""
    if not terms:
        return escape(text)
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)) + ")",
        re.IGNORECASE | re.UNICODE,
    )
    parts: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        parts.append(str(escape(text[position : match.start()])))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        position = match.end()
    parts.append(str(escape(text[position:])))
    return mark_safe("".join(parts))  # noqa: S308 - every piece was escaped


# --- Schema, for the migrations -------------------------------------------------------------

_SQLITE_FTS_STATEMENTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS tickets_message_fts USING fts5("
    "text, content='tickets_message', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS tickets_message_fts_insert "
    "AFTER INSERT ON tickets_message BEGIN "
    "INSERT INTO tickets_message_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS tickets_message_fts_delete "
    "AFTER DELETE ON tickets_message BEGIN "
    "INSERT INTO tickets_message_fts(tickets_message_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS tickets_message_fts_update "
    "AFTER UPDATE OF text ON tickets_message BEGIN "
    "INSERT INTO tickets_message_fts(tickets_message_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); "
    "INSERT INTO tickets_message_fts(rowid, text) VALUES (new.id, new.text); END",
    # Indexes whatever the table already holds.
    "INSERT INTO tickets_message_fts(tickets_message_fts) VALUES ('rebuild')",
)
_SQLITE_FTS_DROP = (
    "DROP TRIGGER IF EXISTS tickets_message_fts_insert",
    "DROP TRIGGER IF EXISTS tickets_message_fts_delete",
    "DROP TRIGGER IF EXISTS tickets_message_fts_update",
    "DROP TABLE IF EXISTS tickets_message_fts",
)


def message_text_index() -> GinIndex:
    return GinIndex(message_text_vector(), name=INDEX_NAME)


def install_text_search(schema_editor: Any, message_model: Any) -> None:
    """Create the search structures of the connection's database.

    On SQLite, Django alters a table by copying it into a new one, which drops its
    triggers: a migration that alters ``tickets_message`` must call this again after."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.add_index(message_model, message_text_index())
    elif vendor == "sqlite":
        for statement in _SQLITE_FTS_STATEMENTS:
            schema_editor.execute(statement)


def remove_text_search(schema_editor: Any, message_model: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.remove_index(message_model, message_text_index())
    elif vendor == "sqlite":
        for statement in _SQLITE_FTS_DROP:
            schema_editor.execute(statement)
