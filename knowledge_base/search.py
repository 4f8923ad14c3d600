"""Help-center search over published articles, on whichever database the desk runs.

PostgreSQL: each translation carries a stored, generated ``search_vector`` column (migration
0001; not a model field, so the ORM never writes it): title weighted A, summary B, body C,
each through the text search configuration of the translation's locale (``english``,
``german``, else ``simple``), so "shipping" finds "shipped" in English and "Versand" finds
"Versandkosten" stems in German. A GIN index serves the match (a partial one per locale,
migration 0003); ``ts_rank`` orders by the weights (of at most ``RANK_CANDIDATES`` matches
per locale) and ``ts_headline`` cuts the snippets of the page shown.

SQLite: the FTS5 table ``kb_translation_fts`` over title, summary and body text (Porter
stemming on Unicode tokens), kept in step with ``knowledge_base_articletranslation`` by
triggers; ``bm25`` with column weights orders, ``highlight``/``snippet`` mark matches.

A visitor searching in a locale gets that locale's translations, plus the default locale's
for articles not translated yet. Matched words come back between two control characters
that no stored text holds after escaping, and become ``<mark>`` only after everything else
was escaped: an article's or a visitor's markup never reaches the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Enough terms for any real search; more only make the query slower.
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
MARK_START = "\x02"
MARK_END = "\x03"
SNIPPET_WORDS = 24
SEARCH_CONFIGS = {"en": "english", "de": "german"}
FALLBACK_CONFIG = "simple"
# PostgreSQL's ts_rank weights, in the order {D, C, B, A}: a title match counts five times a
# body match, so an article about the thing outranks one that mentions it.
POSTGRES_WEIGHTS = "{0.05, 0.2, 0.4, 1.0}"
# SQLite's bm25 weights per FTS column: title, summary, body.
SQLITE_WEIGHTS = (10.0, 4.0, 1.0)
# PostgreSQL ranks at most this many matches per locale branch (see _postgres_rows).
RANK_CANDIDATES = 500
_WORD = re.compile(r"\w+", re.UNICODE)

TABLE = "knowledge_base_articletranslation"
FTS_TABLE = "kb_translation_fts"
INDEX_NAME = "kb_translation_search"


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    translation_id: int
    locale: str
    title: str
    title_html: SafeString
    snippet_html: SafeString
    category_slug: str
    article_slug: str
    rank: float
    summary: str = ""


def search_terms(text: str) -> list[str]:
    """The words of a search, lower-cased, without any operator of either engine's query
    language: what a visitor types is never parsed as a query."""
    return [word.lower()[:MAX_TERM_LENGTH] for word in _WORD.findall(text)][:MAX_TERMS]


def search_config(locale: str) -> str:
    """The PostgreSQL text search configuration of a locale ("de-AT" uses "de"'s)."""
    return SEARCH_CONFIGS.get(locale, SEARCH_CONFIGS.get(locale.split("-")[0], FALLBACK_CONFIG))


def search_articles(
    query: str, locale: str, *, limit: int = 10, offset: int = 0
) -> list[SearchHit]:
    """Published articles matching every word of ``query``, best first; the visitor's
    locale, falling back to the default locale's translation of untranslated articles."""
    return _search(search_terms(query), locale, limit=limit, offset=offset, prefix=False)


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    has_next: bool


def search_page(query: str, locale: str, *, page_size: int, offset: int = 0) -> SearchPage:
    """As ``search_articles``, one page of ``page_size`` hits, and whether another page
    follows. The hit after the page is looked up, but no snippet is cut for it."""
    terms = search_terms(query)
    if not terms or page_size <= 0:
        return SearchPage([], has_next=False)
    page_size = min(page_size, 100)
    hits = _search(terms, locale, limit=page_size, offset=offset, prefix=False, lookahead=True)
    return SearchPage(hits[:page_size], has_next=len(hits) > page_size)


def suggest_articles(query: str, locale: str, limit: int = 5) -> list[SearchHit]:
    """As ``search_articles``, but the last word matches as a prefix: results while the
    visitor is still typing it."""
    return _search(search_terms(query), locale, limit=limit, offset=0, prefix=True)


def highlight_html(text: str) -> SafeString:
    """Text with marked matches as HTML: escaped, the marks turned into ``<mark>``; a mark
    left open by a cut snippet is closed."""
    escaped = str(escape(text.replace("\n", " ")))
    html = escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    if html.count("<mark>") > html.count("</mark>"):
        html += "</mark>"
    return mark_safe(html)  # noqa: S308 - everything but our own tags was escaped above


def _search(
    terms: list[str],
    locale: str,
    *,
    limit: int,
    offset: int,
    prefix: bool,
    lookahead: bool = False,
) -> list[SearchHit]:
    """``limit`` hits from ``offset``, plus, with ``lookahead``, the one after them (its
    snippets may be left uncut)."""
    if not terms or limit <= 0:
        return []
    limit = min(limit, 100)
    offset = max(offset, 0)
    default_locale = settings.HELP_CENTER_DEFAULT_LOCALE
    if connection.vendor == "postgresql":
        rows = _postgres_rows(terms, locale, default_locale, limit, offset, prefix, lookahead)
    else:
        rows = _sqlite_rows(terms, locale, default_locale, limit + int(lookahead), offset, prefix)
    return [_hit(row) for row in rows]


def _hit(row: tuple[Any, ...]) -> SearchHit:
    (
        translation_id,
        article_id,
        locale,
        title,
        summary,
        category_slug,
        article_slug,
        rank,
        title_marked,
        body_marked,
        summary_marked,
    ) = row
    # The body's excerpt when the match is there, else the summary's (marked or not).
    snippet = body_marked if body_marked and MARK_START in body_marked else summary_marked
    return SearchHit(
        article_id=article_id,
        translation_id=translation_id,
        locale=locale,
        title=title,
        title_html=highlight_html(title_marked or title),
        snippet_html=highlight_html(snippet or summary or ""),
        category_slug=category_slug,
        article_slug=article_slug,
        rank=float(rank),
        summary=summary,
    )


# --- PostgreSQL ----------------------------------------------------------------------------


def _tsquery_text(terms: list[str], prefix: bool) -> str:
    # Terms are \w+ only, so none of to_tsquery's operators can come from the visitor.
    parts = list(terms)
    if prefix:
        parts[-1] += ":*"
    return " & ".join(parts)


def _visitor_branch_sql() -> str:
    """The visitor's locale: the first RANK_CANDIDATES published matches in the GIN index's
    order, ranked as they are read (the LIMIT stops the scan, so no other match is read or
    ranked)."""
    return f"""(
        SELECT translation.id, query.wanted AS matched, %(wanted_config)s AS config,
               ts_rank(%(weights)s, translation.search_vector, query.wanted) AS rank
        FROM {TABLE} AS translation
        CROSS JOIN query
        JOIN knowledge_base_article AS article ON article.id = translation.article_id
        WHERE translation.locale = %(locale)s
          AND translation.search_vector @@ query.wanted
          AND article.status = 'published'
        LIMIT %(cap)s
    )"""  # noqa: S608 - the table name is our constant; every value is a parameter


def _fallback_branch_sql() -> str:
    """The default locale's translations of articles not translated into the visitor's
    locale, among the first RANK_CANDIDATES published default-locale matches in the GIN
    index's order.

    The cap comes before the "not translated" test on purpose: in a help center translated
    throughout, nearly every default-locale match has a translation of its own, and testing
    each of a broad word's thousands of matches (a heap row and an index probe apiece) would
    cost more than everything else a search does."""
    return f"""(
        SELECT scanned.id, query.fallback AS matched, %(default_config)s AS config,
               ts_rank(%(weights)s, scanned.search_vector, query.fallback) AS rank
        FROM (
            SELECT translation.id, translation.article_id, translation.search_vector
            FROM {TABLE} AS translation
            CROSS JOIN query
            JOIN knowledge_base_article AS article ON article.id = translation.article_id
            WHERE translation.locale = %(default_locale)s
              AND translation.search_vector @@ query.fallback
              AND article.status = 'published'
            LIMIT %(cap)s
        ) AS scanned
        CROSS JOIN query
        WHERE NOT EXISTS (
              SELECT 1 FROM {TABLE} AS own
              WHERE own.article_id = scanned.article_id AND own.locale = %(locale)s)
    )"""  # noqa: S608 - the table name is our constant; every value is a parameter


def _postgres_rows(
    terms: list[str],
    locale: str,
    default_locale: str,
    limit: int,
    offset: int,
    prefix: bool,
    lookahead: bool,
) -> list[tuple[Any, ...]]:
    text = _tsquery_text(terms, prefix)
    headline_options = (
        f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, "
        f'MinWords={SNIPPET_WORDS // 2}, MaxFragments=1, FragmentDelimiter=" … "'
    )
    title_options = f"StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true"
    # Matching and ranking cost grows with every matching translation, so each branch reads
    # and ranks only the first RANK_CANDIDATES matches the GIN index yields: a word in
    # thousands of articles then costs about what one in a few hundred does. Past the cap,
    # which matches are ranked is the index's (physical) order, not relevance: a trade of
    # recall on very broad words for speed; a second word narrows the matches below the
    # cap. Only the page of hits the visitor sees is joined to its article and category and
    # has its headlines cut (ts_headline, the costly part, re-parses the whole text).
    #
    # The query words are a MATERIALIZED CTE on purpose: hidden from the planner, a match is
    # estimated rare, which keeps every branch on a bitmap scan of its locale's GIN index
    # (see LOCALE_INDEXES) that the LIMIT cuts short. A constant tsquery would let the
    # planner see that a common word matches half the table and walk another index in
    # article order instead, testing the stored vector of every row it passes.
    matches = _visitor_branch_sql()
    if locale != default_locale:
        matches += " UNION ALL " + _fallback_branch_sql()
    sql = f"""
        WITH query AS MATERIALIZED (
            SELECT to_tsquery(%(wanted_config)s::regconfig, %(text)s) AS wanted,
                   to_tsquery(%(default_config)s::regconfig, %(text)s) AS fallback
        ),
        ranked AS (
            SELECT matches.id, matches.matched, matches.config, matches.rank
            FROM ({matches}) AS matches
            ORDER BY matches.rank DESC, matches.id
            LIMIT %(fetch)s OFFSET %(offset)s
        ),
        hits AS (
            SELECT ranked.*,
                   row_number() OVER (ORDER BY ranked.rank DESC, ranked.id) <= %(limit)s
                       AS shown
            FROM ranked
        )
        SELECT hits.id, translation.article_id, translation.locale, translation.title,
               translation.summary, category.slug, article.slug, hits.rank,
               CASE WHEN hits.shown THEN
                   ts_headline(hits.config::regconfig, translation.title, hits.matched,
                               %(title_options)s)
               END,
               CASE WHEN hits.shown THEN
                   ts_headline(hits.config::regconfig, translation.body_text, hits.matched,
                               %(headline_options)s)
               END,
               CASE WHEN hits.shown THEN
                   ts_headline(hits.config::regconfig, translation.summary, hits.matched,
                               %(title_options)s)
               END
        FROM hits
        JOIN {TABLE} AS translation ON translation.id = hits.id
        JOIN knowledge_base_article AS article ON article.id = translation.article_id
        JOIN knowledge_base_category AS category ON category.id = article.category_id
        ORDER BY hits.rank DESC, hits.id
    """  # noqa: S608 - table names are our constants; every value is a parameter
    params: dict[str, Any] = {
        "wanted_config": search_config(locale),
        "default_config": search_config(default_locale),
        "text": text,
        "cap": RANK_CANDIDATES,
        "locale": locale,
        "default_locale": default_locale,
        "weights": POSTGRES_WEIGHTS,
        "limit": limit,
        "fetch": limit + int(lookahead),
        "offset": offset,
        "title_options": title_options,
        "headline_options": headline_options,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


# --- SQLite --------------------------------------------------------------------------------


def _fts5_query(terms: list[str], prefix: bool) -> str:
    # Each word quoted (FTS5 then reads it as a plain string), the last maybe as a prefix.
    quoted = [f'"{term}"' for term in terms]
    if prefix:
        quoted[-1] += "*"
    return " ".join(quoted)


def _sqlite_rows(
    terms: list[str], locale: str, default_locale: str, limit: int, offset: int, prefix: bool
) -> list[tuple[Any, ...]]:
    title_weight, summary_weight, body_weight = SQLITE_WEIGHTS
    sql = f"""
        SELECT translation.id, translation.article_id, translation.locale,
               translation.title, translation.summary,
               category.slug, article.slug,
               -bm25({FTS_TABLE}, {title_weight}, {summary_weight}, {body_weight}) AS rank,
               highlight({FTS_TABLE}, 0, %s, %s),
               snippet({FTS_TABLE}, 2, %s, %s, ' … ', %s),
               highlight({FTS_TABLE}, 1, %s, %s)
        FROM {FTS_TABLE}
        JOIN {TABLE} AS translation ON translation.id = {FTS_TABLE}.rowid
        JOIN knowledge_base_article AS article ON article.id = translation.article_id
        JOIN knowledge_base_category AS category ON category.id = article.category_id
        WHERE {FTS_TABLE} MATCH %s
          AND article.status = 'published'
          AND (
            translation.locale = %s
            OR (translation.locale = %s AND NOT EXISTS (
                SELECT 1 FROM {TABLE} AS own
                WHERE own.article_id = translation.article_id AND own.locale = %s))
          )
        ORDER BY rank DESC, translation.id
        LIMIT %s OFFSET %s
    """  # noqa: S608 - table names and weights are our constants; values are parameters
    params: list[Any] = [
        MARK_START,
        MARK_END,
        MARK_START,
        MARK_END,
        SNIPPET_WORDS,
        MARK_START,
        MARK_END,
        _fts5_query(terms, prefix),
        locale,
        default_locale,
        locale,
        limit,
        offset,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


# --- Schema, for the migration --------------------------------------------------------------


def _postgres_config_case(column: str) -> str:
    whens = " ".join(
        f"WHEN '{locale}' THEN '{config}'::regconfig" for locale, config in SEARCH_CONFIGS.items()
    )
    return f"(CASE {column} {whens} ELSE '{FALLBACK_CONFIG}'::regconfig END)"


def _postgres_statements() -> tuple[str, ...]:
    config = _postgres_config_case("locale")
    return (
        f"ALTER TABLE {TABLE} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        f"setweight(to_tsvector({config}, coalesce(title, '')), 'A') || "
        f"setweight(to_tsvector({config}, coalesce(summary, '')), 'B') || "
        f"setweight(to_tsvector({config}, coalesce(body_text, '')), 'C')"
        ") STORED",
        f"CREATE INDEX {INDEX_NAME} ON {TABLE} USING gin (search_vector)",
    )


def _locale_index_predicates() -> dict[str, str]:
    """Index name → the translations it holds: one partial index per locale with a
    configuration of its own, one for every other locale. A search branch names a single
    locale, which implies exactly one of these predicates."""
    own = list(SEARCH_CONFIGS)
    predicates = {
        f"{INDEX_NAME}_{locale.replace('-', '_')}": f"locale = '{locale}'" for locale in own
    }
    predicates[f"{INDEX_NAME}_other"] = " AND ".join(f"locale <> '{locale}'" for locale in own)
    return predicates


# Names of the per-locale partial GIN indexes (migration 0003). The full index serves any
# query over every locale; these let a branch's bitmap hold only its own locale's matches, so
# a word that every translation shares (a product name) is read once, not once per locale.
# A change to SEARCH_CONFIGS needs a migration that re-creates the column and these.
LOCALE_INDEXES = tuple(_locale_index_predicates())


def install_locale_indexes(schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, predicate in _locale_index_predicates().items():
        schema_editor.execute(
            f"CREATE INDEX {name} ON {TABLE} USING gin (search_vector) WHERE {predicate}"
        )


def remove_locale_indexes(schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _locale_index_predicates():
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


_POSTGRES_DROP = (
    f"DROP INDEX IF EXISTS {INDEX_NAME}",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS search_vector",
)

# Literal SQL (no interpolation): FTS_TABLE and TABLE spelled out.
_SQLITE_STATEMENTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS kb_translation_fts USING fts5("
    "title, summary, body_text, content='knowledge_base_articletranslation', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS kb_translation_fts_insert "
    "AFTER INSERT ON knowledge_base_articletranslation BEGIN "
    "INSERT INTO kb_translation_fts(rowid, title, summary, body_text) "
    "VALUES (new.id, new.title, new.summary, new.body_text); END",
    "CREATE TRIGGER IF NOT EXISTS kb_translation_fts_delete "
    "AFTER DELETE ON knowledge_base_articletranslation BEGIN "
    "INSERT INTO kb_translation_fts(kb_translation_fts, rowid, title, summary, body_text) "
    "VALUES ('delete', old.id, old.title, old.summary, old.body_text); END",
    "CREATE TRIGGER IF NOT EXISTS kb_translation_fts_update "
    "AFTER UPDATE OF title, summary, body_text ON knowledge_base_articletranslation BEGIN "
    "INSERT INTO kb_translation_fts(kb_translation_fts, rowid, title, summary, body_text) "
    "VALUES ('delete', old.id, old.title, old.summary, old.body_text); "
    "INSERT INTO kb_translation_fts(rowid, title, summary, body_text) "
    "VALUES (new.id, new.title, new.summary, new.body_text); END",
    # Indexes whatever the table already holds.
    "INSERT INTO kb_translation_fts(kb_translation_fts) VALUES ('rebuild')",
)
_SQLITE_DROP = (
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)


def install_text_search(schema_editor: Any) -> None:
    """Create the search structures of the connection's database.

    On SQLite, Django alters a table by copying it into a new one, which drops its
    triggers: a migration that alters the translation table must call this again after.
    On PostgreSQL the generated column is not a model field; Django leaves it alone."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for statement in _postgres_statements():
            schema_editor.execute(statement)
    elif vendor == "sqlite":
        for statement in _SQLITE_STATEMENTS:
            schema_editor.execute(statement)


def remove_text_search(schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    statements = _POSTGRES_DROP if vendor == "postgresql" else _SQLITE_DROP
    if vendor in {"postgresql", "sqlite"}:
        for statement in statements:
            schema_editor.execute(statement)
