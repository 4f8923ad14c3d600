"""Knowledge-base writes: translations, revisions, restore, status, feedback, views, images."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from PIL import Image

from helpdesk.models import User
from knowledge_base import services
from knowledge_base.cache import generation
from knowledge_base.models import Article, ArticleImage, ArticleRevision, Category
from knowledge_base.services import KnowledgeBaseError
from tests.caches import clear_cache

pytestmark = pytest.mark.django_db

MakeArticle = Callable[..., Article]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_cache()


def test_creating_an_article_renders_the_body_and_writes_revision_one(
    category: Category, agent: User
) -> None:
    article = services.create_article(
        category=category,
        slug="track-parcel",
        author=agent,
        locale="en",
        title=" Track your parcel ",
        summary="Where it is.",
        body_markdown="## Steps\r\n\r\n1. Open the mail",
    )

    translation = article.translations.get()
    assert article.status == Article.Status.DRAFT
    assert article.published_at is None
    assert translation.title == "Track your parcel"
    assert (
        translation.body_html
        == '<h2 id="h-steps">Steps</h2>\n<ol>\n<li>Open the mail</li>\n</ol>\n'
    )
    assert translation.body_text == "Steps Open the mail"
    assert translation.updated_by == agent
    assert list(translation.revisions.values_list("number", "title", "author")) == [
        (1, "Track your parcel", agent.pk)
    ]


def test_each_saved_change_is_a_revision_and_an_unchanged_save_is_not(
    make_article: MakeArticle, agent: User, teammate: User
) -> None:
    article = make_article("a", "First", "one", published=False)

    changed = services.save_translation(
        article, locale="en", title="First", summary="", body_markdown="two", author=teammate
    )
    same = services.save_translation(
        article, locale="en", title="First", summary="", body_markdown="two", author=agent
    )

    assert changed.revision is not None
    assert changed.revision.number == 2
    assert changed.revision.author == teammate
    assert same.revision is None
    assert ArticleRevision.objects.count() == 2


def test_restoring_a_revision_adds_a_new_one(make_article: MakeArticle, teammate: User) -> None:
    article = make_article("a", "First", "one", published=False)
    services.save_translation(
        article, locale="en", title="Second", summary="s", body_markdown="two", author=teammate
    )
    first = ArticleRevision.objects.get(number=1)

    change = services.restore_revision(first, author=teammate)

    translation = article.translations.get()
    assert (translation.title, translation.body_markdown) == ("First", "one")
    assert translation.body_html == "<p>one</p>\n"
    assert change.revision is not None
    assert change.revision.number == 3
    assert list(translation.revisions.values_list("number", flat=True)) == [3, 2, 1]


def test_publish_sets_published_at_once_and_bumps_the_cache_generation(
    make_article: MakeArticle,
    agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    article = make_article("a", "Title", published=False)
    before = generation()

    with django_capture_on_commit_callbacks(execute=True):
        services.publish_article(article, actor=agent)
    first_published = article.published_at
    with django_capture_on_commit_callbacks(execute=True):
        services.unpublish_article(article, actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_article(article, actor=agent)

    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert first_published is not None
    assert article.published_at == first_published
    assert generation() == before + 3


def test_editing_a_draft_does_not_bump_but_editing_a_published_article_does(
    make_article: MakeArticle, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    draft = make_article("d", "Draft", published=False)
    live = make_article("l", "Live")
    before = generation()

    with django_capture_on_commit_callbacks(execute=True) as draft_callbacks:
        services.save_translation(
            draft, locale="en", title="Draft 2", summary="", body_markdown="", author=agent
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.save_translation(
            live, locale="en", title="Live 2", summary="", body_markdown="", author=agent
        )

    assert draft_callbacks == []
    assert generation() == before + 1


def test_archive_hides_and_bumps(
    make_article: MakeArticle, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    article = make_article("a", "Title")
    before = generation()

    with django_capture_on_commit_callbacks(execute=True):
        services.archive_article(article, actor=agent)

    assert Article.objects.get().status == Article.Status.ARCHIVED
    assert generation() == before + 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "   ", "needs a title"),
        ("title", "x" * 201, "at most 200"),
        ("summary", "x" * 301, "at most 300"),
        ("locale", "fr", "Unknown locale"),
    ],
)
def test_bad_translations_are_refused(
    make_article: MakeArticle, agent: User, field: str, value: str, message: str
) -> None:
    article = make_article("a", "Title", published=False)
    values = {"locale": "en", "title": "T", "summary": "", "body_markdown": "", field: value}

    with pytest.raises(KnowledgeBaseError, match=message):
        services.save_translation(article, author=agent, **values)

    assert article.translations.get().title == "Title"


@pytest.mark.parametrize("slug", ["Has Spaces", "UPPER", "", "ä-umlaut", "../etc"])
def test_bad_slugs_are_refused(category: Category, agent: User, slug: str) -> None:
    with pytest.raises(KnowledgeBaseError, match="slug"):
        services.create_article(category=category, slug=slug, author=agent, locale="en", title="T")
    assert not Article.objects.exists()


def test_a_taken_slug_is_refused(
    make_article: MakeArticle, category: Category, agent: User
) -> None:
    make_article("taken", "One")

    with pytest.raises(KnowledgeBaseError, match="already has the slug"):
        services.create_article(
            category=category, slug="taken", author=agent, locale="en", title="Two"
        )
    assert Article.objects.count() == 1


def test_publishing_needs_a_translation(category: Category, agent: User) -> None:
    article = Article.objects.create(category=category, slug="empty", author=agent)

    with pytest.raises(KnowledgeBaseError, match="translation"):
        services.publish_article(article, actor=agent)


def test_the_last_translation_cannot_be_deleted(make_article: MakeArticle) -> None:
    article = make_article("a", "T", translations={"de": ("T de", "", "")})

    services.delete_translation(article.translations.get(locale="de"))
    with pytest.raises(KnowledgeBaseError, match="at least one"):
        services.delete_translation(article.translations.get(locale="en"))

    assert list(article.translations.values_list("locale", flat=True)) == ["en"]


def test_translation_for_falls_back_to_the_default_locale(make_article: MakeArticle) -> None:
    article = make_article("a", "English", translations={"de": ("Deutsch", "", "")})
    only_english = make_article("b", "Only English")

    assert article.translation_for("de").title == "Deutsch"  # type: ignore[union-attr]
    assert only_english.translation_for("de").title == "Only English"  # type: ignore[union-attr]


def test_feedback_is_recorded_on_published_articles_only(make_article: MakeArticle) -> None:
    live = make_article("l", "Live")
    draft = make_article("d", "Draft", published=False)

    feedback = services.record_feedback(live, locale="de", helpful=False, comment="  too short ")

    assert (feedback.helpful, feedback.comment, feedback.locale) == (False, "too short", "de")
    with pytest.raises(KnowledgeBaseError):
        services.record_feedback(draft, locale="en", helpful=True)
    with pytest.raises(KnowledgeBaseError, match="at most"):
        services.record_feedback(live, locale="en", helpful=True, comment="x" * 2001)


def test_views_are_counted_in_the_cache_and_written_by_one_flush(
    make_article: MakeArticle, django_assert_num_queries: Any
) -> None:
    live = make_article("l", "Live")
    other = make_article("o", "Other")

    with django_assert_num_queries(0):
        for _ in range(5):
            services.record_view(live.pk)
    services.record_view(other.pk)
    assert Article.objects.get(pk=live.pk).view_count == 0  # not written yet

    assert services.flush_view_counts() == 6

    assert Article.objects.get(pk=live.pk).view_count == 5
    assert Article.objects.get(pk=other.pk).view_count == 1


def test_flushing_twice_counts_no_view_twice(make_article: MakeArticle) -> None:
    live = make_article("l", "Live")
    services.record_view(live.pk)
    services.record_view(live.pk)

    assert services.flush_view_counts() == 2
    assert services.flush_view_counts() == 0
    services.record_view(live.pk)  # a view after the flush waits for the next one
    assert services.flush_view_counts() == 1

    assert Article.objects.get(pk=live.pk).view_count == 3


def test_views_counted_while_a_flush_takes_them_stay_for_the_next(
    make_article: MakeArticle,
) -> None:
    live = make_article("l", "Live")
    key = services._view_key(live.pk)
    for _ in range(3):
        services.record_view(live.pk)
    seen = cache.get(key)
    services.record_view(live.pk)  # between the flush's read and its take

    assert services._take_views(key, seen) == 3
    assert cache.get(key) == 1
    # A second flush that read the same 3 finds them gone and takes nothing.
    assert services._take_views(key, seen) == 0
    assert cache.get(key) == 1


def test_flush_drops_views_of_drafts_and_survives_broken_or_absent_counters(
    make_article: MakeArticle,
) -> None:
    live = make_article("l", "Live")
    draft = make_article("d", "Draft", published=False)
    services.record_view(draft.pk)
    services.record_view(12_345_678)  # no such article: never read, harmless
    cache.set(services._view_key(live.pk), "not a number", timeout=None)

    assert services.flush_view_counts() == 0

    assert Article.objects.get(pk=draft.pk).view_count == 0
    assert Article.objects.get(pk=live.pk).view_count == 0
    assert cache.get(services._view_key(live.pk)) is None  # the broken counter starts over
    services.record_view(live.pk)
    assert services.flush_view_counts() == 1
    assert Article.objects.get(pk=live.pk).view_count == 1


def test_negative_or_missing_counts_take_nothing(make_article: MakeArticle) -> None:
    live = make_article("l", "Live")
    key = services._view_key(live.pk)
    cache.set(key, -4, timeout=None)

    assert services._take_views(key, -4) == 0
    assert services._take_views(key, None) == 0
    assert services._take_views(key, True) == 0
    assert services._take_views(services._view_key(999_999), 3) == 0  # gone meanwhile
    assert services.flush_view_counts() == 0
    assert Article.objects.get(pk=live.pk).view_count == 0


def test_the_flush_task_is_on_the_beat_schedule_and_runs(
    make_article: MakeArticle, settings: Any
) -> None:
    from knowledge_base.tasks import flush_view_counts_task

    live = make_article("l", "Live")
    services.record_view(live.pk)
    tasks = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert tasks["knowledge_base.flush_view_counts_task"]["schedule"] == 60.0
    assert flush_view_counts_task.delay().get() == 1
    assert Article.objects.get(pk=live.pk).view_count == 1


# --- Images ---------------------------------------------------------------------------------


def _image_bytes(image_format: str, size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=image_format)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("image_format", "content_type", "extension"),
    [
        ("PNG", "image/png", "png"),
        ("JPEG", "image/jpeg", "jpg"),
        ("GIF", "image/gif", "gif"),
        ("WEBP", "image/webp", "webp"),
    ],
)
def test_a_real_image_is_stored_under_a_random_name(
    agent: User, settings: Any, image_format: str, content_type: str, extension: str
) -> None:
    image = services.upload_image(BytesIO(_image_bytes(image_format)), actor=agent)

    assert (image.content_type, image.width, image.height) == (content_type, 4, 3)
    assert image.file.name.startswith("kb/")
    assert image.file.name.endswith(f".{extension}")
    assert len(Path(image.file.name).stem) == 32
    assert (Path(settings.MEDIA_ROOT) / image.file.name).read_bytes() == _image_bytes(image_format)
    assert services.image_markdown(image, "A [red] box") == f"![A red box]({image.file.url})"


@pytest.mark.parametrize(
    "data",
    [
        b"<html><script>alert(1)</script></html>",
        b"\x89PNG\r\n\x1a\n<script>alert(1)</script>",  # a PNG signature, then HTML
        b"GIF89a<svg onload=alert(1)>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
        b"%PDF-1.4 not an image",
    ],
)
def test_a_file_that_is_not_really_an_image_is_refused(agent: User, data: bytes) -> None:
    upload = BytesIO(data)
    upload.name = "photo.png"

    with pytest.raises(KnowledgeBaseError, match="PNG, JPEG, GIF or WebP"):
        services.upload_image(upload, actor=agent)

    assert not ArticleImage.objects.exists()


def test_other_image_formats_are_refused(agent: User) -> None:
    with pytest.raises(KnowledgeBaseError, match="PNG, JPEG, GIF or WebP"):
        services.upload_image(BytesIO(_image_bytes("BMP")), actor=agent)


def test_an_oversize_image_is_refused(agent: User) -> None:
    data = _image_bytes("PNG", (64, 64))

    with pytest.raises(KnowledgeBaseError, match="at most"):
        services.upload_image(BytesIO(data), actor=agent, max_bytes=len(data) - 1)

    assert not ArticleImage.objects.exists()


def test_an_empty_file_is_refused(agent: User) -> None:
    with pytest.raises(KnowledgeBaseError, match="empty"):
        services.upload_image(BytesIO(b""), actor=agent)
