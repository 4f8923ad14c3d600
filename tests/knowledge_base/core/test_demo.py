"""The demo help center: about forty published articles in six categories, in English and German,
made once however often seed_demo runs."""

from __future__ import annotations

import pytest

from demo.help_center import ARTICLES, CATEGORIES, seed_help_center
from helpdesk.models import User
from knowledge_base.models import Article, ArticleTranslation, Category, Section
from knowledge_base.search import search_articles

pytestmark = pytest.mark.django_db


def test_the_demo_help_center_is_seeded_once(admin: User) -> None:
    first = seed_help_center(admin)
    second = seed_help_center(admin)

    assert (first, second) == (len(ARTICLES), 0)
    assert len(ARTICLES) == 41
    assert len(CATEGORIES) == 6
    assert Category.objects.count() == 6
    assert Section.objects.count() == 12
    assert Article.objects.filter(status=Article.Status.PUBLISHED).count() == 41
    assert ArticleTranslation.objects.filter(locale="de").count() == 41
    assert ArticleTranslation.objects.filter(locale="en").count() == 41


def test_a_second_run_keeps_an_agents_edit(admin: User) -> None:
    seed_help_center(admin)
    translation = ArticleTranslation.objects.get(article__slug="gift-cards", locale="en")
    translation.title = "Edited"
    translation.save()

    seed_help_center(admin)

    assert ArticleTranslation.objects.get(pk=translation.pk).title == "Edited"


def test_the_demo_articles_are_searchable_in_both_locales(admin: User) -> None:
    seed_help_center(admin)

    english = search_articles("refund", "en")
    german = search_articles("Rücksendung", "de")

    assert english
    assert english[0].article_slug in {"refund-timing", "refund-method"}
    assert german
    assert all(hit.locale == "de" for hit in german)
