"""The agents' knowledge-base editor at /knowledge/."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from helpdesk.models import User
from knowledge_base.models import Article, ArticleImage, ArticleRevision, Category

pytestmark = pytest.mark.django_db

MakeArticle = Callable[..., Article]


@pytest.fixture
def agent_client(agent: User) -> Client:
    client = Client()
    client.force_login(agent)
    return client


def _png() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (2, 2), (0, 0, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "method", "args"),
    [
        ("kb_editor:list", "get", []),
        ("kb_editor:new", "get", []),
        ("kb_editor:preview", "post", []),
        ("kb_editor:images", "post", []),
        ("kb_editor:edit", "get", [1]),
        ("kb_editor:status", "post", [1]),
        ("kb_editor:history", "get", [1]),
        ("kb_editor:restore", "post", [1]),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(
    client: Client, make_article: MakeArticle, name: str, method: str, args: list[int]
) -> None:
    article = make_article("a", "Title", published=False)
    url = reverse(name, args=[article.pk if args else None][: len(args)])

    response = getattr(client, method)(url, {"action": "publish", "body_markdown": "x"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert Article.objects.get().status == Article.Status.DRAFT


def test_the_list_filters_by_status_locale_and_words(
    agent_client: Client, make_article: MakeArticle
) -> None:
    make_article("returns", "Return a parcel", translations={"de": ("Paket zurück", "", "")})
    make_article("draft-one", "Draft about invoices", published=False)

    everything = agent_client.get(reverse("kb_editor:list")).content.decode()
    drafts = agent_client.get(reverse("kb_editor:list"), {"status": "draft"}).content.decode()
    german = agent_client.get(reverse("kb_editor:list"), {"locale": "de"}).content.decode()
    words = agent_client.get(reverse("kb_editor:list"), {"q": "invoice"}).content.decode()

    assert "Return a parcel" in everything
    assert "Draft about invoices" in everything
    assert "Return a parcel" not in drafts
    assert "Draft about invoices" in drafts
    assert "Paket zurück" in german
    assert "Draft about invoices" not in german
    assert "Draft about invoices" in words
    assert "Return a parcel" not in words


def test_a_bad_filter_shows_the_message_and_the_default_list(
    agent_client: Client, make_article: MakeArticle
) -> None:
    make_article("a", "Title")

    response = agent_client.get(reverse("kb_editor:list"), {"status": "<script>"})

    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert b"<script>" not in response.content


def test_creating_an_article(agent_client: Client, category: Category, agent: User) -> None:
    response = agent_client.post(
        reverse("kb_editor:new"),
        {
            "locale": "en",
            "category": category.pk,
            "slug": "new-one",
            "position": "0",
            "title": "New one",
            "summary": "",
            "body_markdown": "Hello",
        },
    )

    article = Article.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("kb_editor:edit", args=[article.pk]) + "?locale=en"
    assert (article.slug, article.author, article.status) == ("new-one", agent, "draft")


def test_creating_with_bad_input_is_a_400_with_the_messages(
    agent_client: Client, category: Category
) -> None:
    response = agent_client.post(
        reverse("kb_editor:new"),
        {"locale": "xx", "category": category.pk, "slug": "Bad Slug", "title": ""},
    )

    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert b"This field is required." in response.content
    assert not Article.objects.exists()


def test_saving_a_translation_writes_a_revision_and_can_add_a_locale(
    agent_client: Client, make_article: MakeArticle, category: Category, teammate: User
) -> None:
    article = make_article("a", "Title", "Body", published=False)
    form = {
        "category": category.pk,
        "slug": "a",
        "position": "0",
        "title": "Titel",
        "summary": "",
        "body_markdown": "Text",
    }

    response = agent_client.post(reverse("kb_editor:edit", args=[article.pk]) + "?locale=de", form)

    assert response.status_code == 302
    german = article.translations.get(locale="de")
    assert (german.title, german.body_html) == ("Titel", "<p>Text</p>\n")
    assert german.revisions.get().number == 1


def test_the_edit_page_shows_the_fallback_for_a_missing_locale(
    agent_client: Client, make_article: MakeArticle
) -> None:
    article = make_article("a", "English title", "Body")

    page = agent_client.get(reverse("kb_editor:edit", args=[article.pk]) + "?locale=de")

    assert page.status_code == 200
    assert b"No DE translation yet" in page.content
    assert b'value="English title"' in page.content


def test_publish_and_archive_buttons(agent_client: Client, make_article: MakeArticle) -> None:
    article = make_article("a", "Title", published=False)
    url = reverse("kb_editor:status", args=[article.pk])

    agent_client.post(url, {"action": "publish"})
    published = Article.objects.get().status
    agent_client.post(url, {"action": "archive"})
    bad = agent_client.post(url, {"action": "delete"})

    assert published == Article.Status.PUBLISHED
    assert Article.objects.get().status == Article.Status.ARCHIVED
    assert bad.status_code == 400


def test_the_preview_is_sanitized(agent_client: Client) -> None:
    response = agent_client.post(
        reverse("kb_editor:preview"),
        {"body_markdown": "**hi** <script>alert(1)</script> [x](javascript:alert(1))"},
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "<strong>hi</strong>" in body
    assert "<script>" not in body
    assert 'href="javascript' not in body


def test_the_preview_refuses_a_get(agent_client: Client) -> None:
    assert agent_client.get(reverse("kb_editor:preview")).status_code == 405


def test_image_upload_returns_markdown_and_refuses_html(agent_client: Client) -> None:
    good = agent_client.post(
        reverse("kb_editor:images"),
        {"image": SimpleUploadedFile("a.png", _png(), "image/png"), "alt": "Blue"},
        HTTP_ACCEPT="application/json",
    )
    bad = agent_client.post(
        reverse("kb_editor:images"),
        {"image": SimpleUploadedFile("b.png", b"<html>hi</html>", "image/png")},
        HTTP_ACCEPT="application/json",
    )

    image = ArticleImage.objects.get()
    assert good.status_code == 201
    assert good.json() == {"markdown": f"![Blue]({image.file.url})", "url": image.file.url}
    assert bad.status_code == 400
    assert "PNG, JPEG, GIF or WebP" in bad.json()["error"]


def test_image_upload_without_javascript_redirects_back_safely(agent_client: Client) -> None:
    response = agent_client.post(
        reverse("kb_editor:images"),
        {"image": SimpleUploadedFile("a.png", _png(), "image/png"), "next": "https://evil.test/"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("kb_editor:list")


def test_history_shows_a_diff_and_restore_adds_a_revision(
    agent_client: Client, make_article: MakeArticle, category: Category
) -> None:
    article = make_article("a", "Title", "old line <b>", published=False)
    agent_client.post(
        reverse("kb_editor:edit", args=[article.pk]) + "?locale=en",
        {
            "category": category.pk,
            "slug": "a",
            "position": "0",
            "title": "Title",
            "summary": "",
            "body_markdown": "new line",
        },
    )

    page = agent_client.get(reverse("kb_editor:history", args=[article.pk]), {"locale": "en"})
    first = ArticleRevision.objects.get(number=1)
    restored = agent_client.post(reverse("kb_editor:restore", args=[first.pk]))

    html = page.content.decode()
    assert 'class="kb-diff-removed"' in html
    assert "old line &lt;b&gt;" in html
    assert 'class="kb-diff-added"' in html
    assert "new line" in html
    assert restored.status_code == 302
    assert article.translations.get().body_markdown == "old line <b>"
    assert ArticleRevision.objects.count() == 3


def test_pages_render_for_an_admin(client: Client, admin: User, make_article: MakeArticle) -> None:
    client.force_login(admin)
    article = make_article("a", "Title", "Body")

    for url in (
        reverse("kb_editor:list"),
        reverse("kb_editor:new"),
        reverse("kb_editor:edit", args=[article.pk]),
        reverse("kb_editor:history", args=[article.pk]),
    ):
        assert client.get(url).status_code == 200, url


def test_list_query_count_is_fixed(
    agent_client: Client, make_article: MakeArticle, django_assert_max_num_queries: Any
) -> None:
    for number in range(5):
        make_article(f"a-{number}", f"Title {number}")

    with django_assert_max_num_queries(8):
        agent_client.get(reverse("kb_editor:list"))
