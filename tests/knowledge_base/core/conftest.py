"""Knowledge-base fixtures: a category with an article builder (drafts by default)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from helpdesk.models import User
from knowledge_base import services
from knowledge_base.models import Article, Category


@pytest.fixture
def category(db: None) -> Category:
    return services.save_category(
        "shipping", names={"en": ("Shipping", "Parcels"), "de": ("Versand", "Pakete")}
    )


@pytest.fixture
def make_article(
    category: Category, agent: User, django_capture_on_commit_callbacks: Any
) -> Callable[..., Article]:
    """Build an article: ``make_article(slug, title, body, summary=, locale=, published=,
    translations={locale: (title, summary, body)})``."""

    def make(
        slug: str,
        title: str,
        body: str = "",
        *,
        summary: str = "",
        locale: str = "en",
        published: bool = True,
        translations: dict[str, tuple[str, str, str]] | None = None,
    ) -> Article:
        with django_capture_on_commit_callbacks(execute=True):
            article = services.create_article(
                category=category,
                slug=slug,
                author=agent,
                locale=locale,
                title=title,
                summary=summary,
                body_markdown=body,
            )
            for other, (other_title, other_summary, other_body) in (translations or {}).items():
                services.save_translation(
                    article,
                    locale=other,
                    title=other_title,
                    summary=other_summary,
                    body_markdown=other_body,
                    author=agent,
                )
            if published:
                services.publish_article(article, actor=agent)
        return article

    return make
