"""Help-center search: relevance, stemming, locales and fallback, highlighting, safety.

Runs on whichever database the suite runs on (CI runs it on SQLite and on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from helpdesk.models import User
from knowledge_base import search
from knowledge_base.models import Article
from knowledge_base.search import search_articles, search_terms, suggest_articles
from knowledge_base.services import archive_article, save_translation

pytestmark = pytest.mark.django_db

MakeArticle = Callable[..., Article]


def test_a_title_match_outranks_a_body_match(make_article: MakeArticle) -> None:
    body_only = make_article(
        "payment-options",
        "Payment options",
        "We accept cards. Refunds are sent to the same card within five days.",
    )
    in_title = make_article("refunds", "Refunds", "How the money gets back to you.")

    hits = search_articles("refunds", "en")

    assert [hit.article_id for hit in hits] == [in_title.pk, body_only.pk]
    assert hits[0].rank > hits[1].rank


def test_english_stemming_finds_other_forms_of_a_word(make_article: MakeArticle) -> None:
    article = make_article("when-shipped", "When is my order shipped?", "It leaves in a day.")

    hits = search_articles("shipping", "en")

    assert [hit.article_id for hit in hits] == [article.pk]
    assert "<mark>" in hits[0].title_html


def test_second_locale_searches_its_own_translation(make_article: MakeArticle) -> None:
    article = make_article(
        "delivery-time",
        "Delivery time",
        "Parcels arrive in two days.",
        translations={"de": ("Lieferzeit", "", "Pakete kommen in zwei Tagen an.")},
    )

    german = search_articles("Pakete", "de")
    english_word_in_german = search_articles("parcels", "de")

    assert [(hit.article_id, hit.locale, hit.title) for hit in german] == [
        (article.pk, "de", "Lieferzeit")
    ]
    assert "<mark>Pakete</mark>" in german[0].snippet_html
    assert english_word_in_german == []  # the English words belong to the English translation


def test_untranslated_articles_fall_back_to_the_default_locale(make_article: MakeArticle) -> None:
    article = make_article("gift-cards", "Gift cards", "Gift cards never expire.")

    hits = search_articles("gift", "de")

    assert [(hit.article_id, hit.locale) for hit in hits] == [(article.pk, "en")]


def test_drafts_and_archived_articles_are_never_found(
    make_article: MakeArticle, agent: User
) -> None:
    make_article("draft-one", "Secret voucher draft", published=False)
    archived = make_article("archived-one", "Secret voucher archived")
    archive_article(archived, actor=agent)

    assert search_articles("secret voucher", "en") == []


def test_every_word_must_match(make_article: MakeArticle) -> None:
    make_article("a", "Track your parcel", "Use the tracking link.")
    make_article("b", "Parcel damaged", "Send us a photo.")

    assert [hit.article_slug for hit in search_articles("parcel damaged", "en")] == ["b"]


def test_suggestions_match_the_last_word_as_a_prefix(make_article: MakeArticle) -> None:
    article = make_article("invoice", "Download your invoice", "From your account.")

    assert search_articles("invo", "en") == []
    assert [hit.article_id for hit in suggest_articles("download invo", "en")] == [article.pk]


def test_markup_in_articles_and_queries_is_escaped(make_article: MakeArticle) -> None:
    make_article(
        "markup",
        "Coupons <img src=x onerror=alert(1)>",
        "Use `<script>alert(1)</script>` coupons at checkout.",
    )

    hits = search_articles('coupons"><script>alert(2)</script>', "en") + search_articles(
        "coupons", "en"
    )

    for hit in hits:
        assert "<img" not in hit.title_html
        assert "<script" not in hit.snippet_html
    assert search_articles("coupons", "en")[0].title_html == (
        "<mark>Coupons</mark> &lt;img src=x onerror=alert(1)&gt;"
    )


@pytest.mark.parametrize("query", ["", "   ", "!!!", '"', "*", "AND OR NOT", "a:* & | !"])
def test_operator_characters_never_break_the_query(make_article: MakeArticle, query: str) -> None:
    make_article("orders", "Orders and returns")

    assert isinstance(search_articles(query, "en"), list)


def test_search_terms_drop_operators() -> None:
    assert search_terms('re"fund* & (card) | -x') == ["re", "fund", "card", "x"]


def test_paging_with_limit_and_offset(make_article: MakeArticle) -> None:
    for number in range(3):
        make_article(f"box-{number}", f"Box size {number}", "box " * (number + 1))

    first = search_articles("box", "en", limit=2)
    rest = search_articles("box", "en", limit=2, offset=2)

    assert len(first) == 2
    assert len(rest) == 1
    assert {hit.article_id for hit in first}.isdisjoint({hit.article_id for hit in rest})


def test_edits_reach_the_index(make_article: MakeArticle, agent: User) -> None:
    article = make_article("edit", "Old words", "nothing")
    save_translation(
        article, locale="en", title="Customs fees", summary="", body_markdown="", author=agent
    )

    assert search_articles("old", "en") == []
    assert [hit.article_id for hit in search_articles("customs", "en")] == [article.pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's GIN index")
def test_postgres_search_uses_the_gin_index(make_article: MakeArticle) -> None:
    make_article("gin", "Index me")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM knowledge_base_articletranslation "
            "WHERE search_vector @@ to_tsquery('english'::regconfig, 'index')"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "kb_translation_search" in plan


@pytest.mark.parametrize("locale", ["en", "de"])  # "de": the default locale's fallback
def test_only_a_capped_number_of_matches_is_ranked(
    make_article: MakeArticle, monkeypatch: pytest.MonkeyPatch, locale: str
) -> None:
    monkeypatch.setattr(search, "RANK_CANDIDATES", 3)
    for number in range(6):
        make_article(f"note-{number}", f"Note {number}", "Refunds are mentioned here.")
    in_title = make_article("refunds", "Refunds", "How the money gets back to you.")

    hits = search_articles("refunds", locale, limit=20)
    typed = suggest_articles("refu", locale)

    if connection.vendor == "postgresql":  # the first 3 matches in the index's order
        assert len(hits) == 3
        assert len(typed) == 3
    else:  # SQLite's FTS5 ranks every match
        assert len(hits) == 7
        assert hits[0].article_id == in_title.pk
    assert [hit.rank for hit in hits] == sorted((hit.rank for hit in hits), reverse=True)


def test_a_title_match_among_the_ranked_ones_still_comes_first(
    make_article: MakeArticle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "RANK_CANDIDATES", 3)
    in_title = make_article("refunds", "Refunds", "How the money gets back to you.")
    for number in range(4):
        make_article(f"note-{number}", f"Note {number}", "Refunds are mentioned here.")

    hits = search_articles("refunds", "en", limit=20)

    assert hits[0].article_id == in_title.pk
    assert hits[0].rank > hits[-1].rank


def test_a_search_page_says_whether_another_follows(make_article: MakeArticle) -> None:
    for number in range(3):
        make_article(f"crate-{number}", f"Crate {number}", "crate " * (number + 1))

    first = search.search_page("crate", "en", page_size=2)
    last = search.search_page("crate", "en", page_size=2, offset=2)

    assert [hit.article_id for hit in first.hits] == [
        hit.article_id for hit in search_articles("crate", "en", limit=2)
    ]
    assert first.has_next is True
    assert len(last.hits) == 1
    assert last.has_next is False
    assert all("<mark>" in hit.title_html for hit in first.hits + last.hits)


def test_fallback_finds_untranslated_articles_among_translated_ones(
    make_article: MakeArticle,
) -> None:
    translated = make_article(
        "lockers",
        "Parcel lockers",
        "Pick up at a locker.",
        translations={"de": ("Paketstationen", "", "Abholung an der Paketstation.")},
    )
    untranslated = make_article("lockers-abroad", "Lockers abroad", "Locker in France.")

    hits = search_articles("locker", "de")

    assert [(hit.article_id, hit.locale) for hit in hits] == [(untranslated.pk, "en")]
    assert translated.pk not in {hit.article_id for hit in hits}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's partial indexes")
def test_postgres_has_a_search_index_per_locale() -> None:
    """Each search branch names one locale, whose partial index holds only its matches."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'knowledge_base_articletranslation' "
            "AND indexname LIKE 'kb_translation_search_%%'"
        )
        definitions = dict(cursor.fetchall())

    assert sorted(definitions) == sorted(search.LOCALE_INDEXES)
    assert sorted(definitions) == [
        "kb_translation_search_de",
        "kb_translation_search_en",
        "kb_translation_search_other",
    ]
    for name, definition in definitions.items():
        assert "USING gin (search_vector) WHERE" in definition, name
    assert "(locale)::text = 'en'::text" in definitions["kb_translation_search_en"]
    assert "(locale)::text = 'de'::text" in definitions["kb_translation_search_de"]
    assert "(locale)::text <> 'en'::text" in definitions["kb_translation_search_other"]
    assert "(locale)::text <> 'de'::text" in definitions["kb_translation_search_other"]
