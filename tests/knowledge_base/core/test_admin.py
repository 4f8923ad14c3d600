"""The knowledge base in the Django admin: pages render, writes go through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from helpdesk.models import User
from knowledge_base.models import Article, ArticleRevision, ArticleTranslation

pytestmark = pytest.mark.django_db

MakeArticle = Callable[..., Article]


@pytest.fixture
def admin_client(admin: User) -> Client:
    client = Client()
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "category",
        "section",
        "article",
        "articletranslation",
        "articlerevision",
        "articlefeedback",
        "articleimage",
    ],
)
def test_changelists_render(admin_client: Client, make_article: MakeArticle, model: str) -> None:
    make_article("a", "Title", "Body")

    response = admin_client.get(reverse(f"admin:knowledge_base_{model}_changelist"))

    assert response.status_code == 200


def test_saving_a_translation_in_the_admin_renders_and_writes_a_revision(
    admin_client: Client, make_article: MakeArticle, admin: User
) -> None:
    article = make_article("a", "Title", "Body", published=False)
    translation = article.translations.get()
    url = reverse("admin:knowledge_base_articletranslation_change", args=[translation.pk])

    response = admin_client.post(
        url,
        {
            "title": "New title",
            "summary": "",
            "body_markdown": "**bold** <script>x</script>",
            "revisions-TOTAL_FORMS": "1",
            "revisions-INITIAL_FORMS": "1",
            "revisions-MIN_NUM_FORMS": "0",
            "revisions-MAX_NUM_FORMS": "1000",
            "revisions-0-id": str(translation.revisions.get().pk),
            "revisions-0-translation": str(translation.pk),
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    translation = ArticleTranslation.objects.get(pk=translation.pk)
    assert translation.body_html == "<p><strong>bold</strong> &lt;script&gt;x&lt;/script&gt;</p>\n"
    latest = ArticleRevision.objects.get(number=2)
    assert (latest.title, latest.author) == ("New title", admin)


def test_the_publish_action_uses_the_service(
    admin_client: Client, make_article: MakeArticle, django_capture_on_commit_callbacks: Any
) -> None:
    article = make_article("a", "Title", published=False)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        admin_client.post(
            reverse("admin:knowledge_base_article_changelist"),
            {"action": "publish", "_selected_action": [str(article.pk)]},
        )

    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert article.published_at is not None
    assert len(callbacks) == 1  # the cache generation bump
