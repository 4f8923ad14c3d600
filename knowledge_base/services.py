"""Every write to the knowledge base.

Views, the admin, the demo seed and tests call these; none of them saves a knowledge-base
model itself. A translation's ``body_html`` and ``body_text`` are rendered here, each saved
change of a translation becomes an ``ArticleRevision`` with its author, and anything a
help-center visitor can see changing bumps the page-cache generation once the transaction
has committed (a bump before the commit would let a request cache the old page under the
new generation).
"""

from __future__ import annotations

import contextlib
import secrets
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import IO

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from helpdesk.models import User
from knowledge_base.cache import bump_generation
from knowledge_base.markdown import html_to_text, render_markdown
from knowledge_base.models import (
    Article,
    ArticleFeedback,
    ArticleImage,
    ArticleRevision,
    ArticleTranslation,
    Category,
    CategoryTranslation,
    Section,
    SectionTranslation,
)
from knowledge_base.models.articles import SUMMARY_MAX_LENGTH

MAX_TITLE_LENGTH = 200
MAX_FEEDBACK_COMMENT_LENGTH = 2000
MAX_IMAGE_SIDE = 8000
# Pillow's format name → (content type, file extension).
IMAGE_FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}


class KnowledgeBaseError(Exception):
    """A change the knowledge base refuses; the message says why, for the person asking."""


@dataclass(frozen=True)
class TranslationChange:
    translation: ArticleTranslation
    revision: ArticleRevision | None  # None when nothing changed


def _visible_change() -> None:
    transaction.on_commit(bump_generation)


def check_locale(locale: str) -> str:
    if locale not in settings.HELP_CENTER_LOCALES:
        allowed = ", ".join(settings.HELP_CENTER_LOCALES)
        raise KnowledgeBaseError(f"Unknown locale {locale!r}; use one of {allowed}.")
    return locale


def check_slug(slug: str) -> str:
    cleaned = slugify(slug)
    if not cleaned or cleaned != slug:
        raise KnowledgeBaseError(
            "A slug is lower-case letters, digits and hyphens (e.g. 'track-your-parcel')."
        )
    return slug


# --- Categories and sections -----------------------------------------------------------------


def save_category(
    slug: str,
    *,
    names: dict[str, tuple[str, str]],
    position: int = 0,
    icon: str = "",
) -> Category:
    """Create or update the category ``slug`` and its name and description per locale."""
    check_slug(slug)
    with transaction.atomic():
        category, _ = Category.objects.update_or_create(
            slug=slug, defaults={"position": position, "icon": icon}
        )
        for locale, (name, description) in names.items():
            check_locale(locale)
            CategoryTranslation.objects.update_or_create(
                category=category,
                locale=locale,
                defaults={"name": name.strip(), "description": description.strip()},
            )
        _visible_change()
    return category


def save_section(
    category: Category, slug: str, *, names: dict[str, str], position: int = 0
) -> Section:
    """Create or update the section ``slug`` of ``category`` and its name per locale."""
    check_slug(slug)
    with transaction.atomic():
        section, _ = Section.objects.update_or_create(
            category=category, slug=slug, defaults={"position": position}
        )
        for locale, name in names.items():
            check_locale(locale)
            SectionTranslation.objects.update_or_create(
                section=section, locale=locale, defaults={"name": name.strip()}
            )
        _visible_change()
    return section


# --- Articles --------------------------------------------------------------------------------


def create_article(
    *,
    category: Category,
    slug: str,
    author: User,
    locale: str,
    title: str,
    summary: str = "",
    body_markdown: str = "",
    section: Section | None = None,
    position: int = 0,
) -> Article:
    """A new draft article with its first translation (revision 1)."""
    check_slug(slug)
    check_locale(locale)
    _check_section(category, section)
    try:
        with transaction.atomic():
            article = Article.objects.create(
                category=category,
                section=section,
                slug=slug,
                author=author,
                position=position,
            )
            save_translation(
                article,
                locale=locale,
                title=title,
                summary=summary,
                body_markdown=body_markdown,
                author=author,
            )
    except IntegrityError:
        raise KnowledgeBaseError(f"Another article already has the slug {slug!r}.") from None
    return article


def update_article(
    article: Article,
    *,
    category: Category,
    section: Section | None,
    slug: str,
    position: int,
) -> Article:
    """Move or rename an article (its address changes with ``slug``)."""
    check_slug(slug)
    _check_section(category, section)
    article.category = category
    article.section = section
    article.slug = slug
    article.position = position
    try:
        with transaction.atomic():
            article.save(update_fields=["category", "section", "slug", "position", "updated_at"])
            if article.is_published:
                _visible_change()
    except IntegrityError:
        raise KnowledgeBaseError(f"Another article already has the slug {slug!r}.") from None
    return article


def _check_section(category: Category, section: Section | None) -> None:
    if section is not None and section.category_id != category.pk:
        raise KnowledgeBaseError("The section belongs to another category.")


def save_translation(
    article: Article,
    *,
    locale: str,
    title: str,
    summary: str,
    body_markdown: str,
    author: User | None,
) -> TranslationChange:
    """Create or update ``article``'s translation in ``locale``: renders the body and,
    when anything changed, writes the next revision with ``author``."""
    check_locale(locale)
    title = title.strip()
    summary = " ".join(summary.split())
    body_markdown = body_markdown.replace("\r\n", "\n").rstrip()
    if not title:
        raise KnowledgeBaseError("An article needs a title.")
    if len(title) > MAX_TITLE_LENGTH:
        raise KnowledgeBaseError(f"A title has at most {MAX_TITLE_LENGTH} characters.")
    if len(summary) > SUMMARY_MAX_LENGTH:
        raise KnowledgeBaseError(f"A summary has at most {SUMMARY_MAX_LENGTH} characters.")
    body_html = render_markdown(body_markdown)
    with transaction.atomic():
        translation, created = ArticleTranslation.objects.select_for_update().get_or_create(
            article=article,
            locale=locale,
            defaults={
                "title": title,
                "summary": summary,
                "body_markdown": body_markdown,
                "body_html": body_html,
                "body_text": html_to_text(body_html),
                "updated_by": author,
            },
        )
        unchanged = (
            translation.title == title
            and translation.summary == summary
            and translation.body_markdown == body_markdown
        )
        if not created and unchanged:
            return TranslationChange(translation, None)
        if not created:
            translation.title = title
            translation.summary = summary
            translation.body_markdown = body_markdown
            translation.body_html = body_html
            translation.body_text = html_to_text(body_html)
            translation.updated_by = author
            translation.save()
        revision = _add_revision(translation, author)
        Article.objects.filter(pk=article.pk).update(updated_at=timezone.now())
        if article.is_published:
            _visible_change()
    return TranslationChange(translation, revision)


def _add_revision(translation: ArticleTranslation, author: User | None) -> ArticleRevision:
    # The caller holds the translation's row lock, so two saves never take one number.
    latest = translation.revisions.aggregate(latest=Max("number"))["latest"] or 0
    return ArticleRevision.objects.create(
        translation=translation,
        number=latest + 1,
        title=translation.title,
        summary=translation.summary,
        body_markdown=translation.body_markdown,
        author=author,
    )


def restore_revision(revision: ArticleRevision, *, author: User) -> TranslationChange:
    """Make ``revision``'s words the translation's again, as a new revision (history only
    grows)."""
    translation = revision.translation
    return save_translation(
        translation.article,
        locale=translation.locale,
        title=revision.title,
        summary=revision.summary,
        body_markdown=revision.body_markdown,
        author=author,
    )


def delete_translation(translation: ArticleTranslation) -> None:
    """Remove a translation other than an article's last one (visitors then get the
    default locale's)."""
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=translation.article_id)
        if article.translations.count() <= 1:
            raise KnowledgeBaseError("An article keeps at least one translation.")
        translation.delete()
        if article.is_published:
            _visible_change()


def _set_status(article: Article, status: str) -> Article:
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        was_visible = locked.is_published
        locked.status = status
        fields = ["status", "updated_at"]
        if status == Article.Status.PUBLISHED and locked.published_at is None:
            locked.published_at = timezone.now()
            fields.append("published_at")
        locked.save(update_fields=fields)
        if was_visible or locked.is_published:
            _visible_change()
    article.status = locked.status
    article.published_at = locked.published_at
    article.updated_at = locked.updated_at
    return article


def publish_article(article: Article, *, actor: User) -> Article:
    """Show the article in the help center; ``published_at`` keeps the first publication."""
    if not article.translations.exists():
        raise KnowledgeBaseError("An article needs a translation before it is published.")
    return _set_status(article, Article.Status.PUBLISHED)


def unpublish_article(article: Article, *, actor: User) -> Article:
    """Back to draft: gone from the help center, still editable."""
    return _set_status(article, Article.Status.DRAFT)


def archive_article(article: Article, *, actor: User) -> Article:
    """Gone from the help center and out of the editor's default list."""
    return _set_status(article, Article.Status.ARCHIVED)


# --- Images ----------------------------------------------------------------------------------


def upload_image(upload: IO[bytes], *, actor: User, max_bytes: int | None = None) -> ArticleImage:
    """Store an image for articles, checked by its content (the name and the browser's
    content type are ignored): PNG, JPEG, GIF or WebP that Pillow can open and verify, at
    most ``KB_MAX_IMAGE_BYTES``; saved under ``kb/`` with a random name."""
    limit = max_bytes if max_bytes is not None else settings.KB_MAX_IMAGE_BYTES
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise KnowledgeBaseError(f"Images are at most {limit // (1024 * 1024) or 1} MB.")
    if not data:
        raise KnowledgeBaseError("The file is empty.")
    image_format, width, height = _inspect_image(data)
    content_type, extension = IMAGE_FORMATS[image_format]
    image = ArticleImage(
        uploaded_by=actor,
        content_type=content_type,
        width=width,
        height=height,
        size=len(data),
    )
    image.file.save(f"{secrets.token_hex(16)}.{extension}", ContentFile(data), save=False)
    image.save()
    return image


def _inspect_image(data: bytes) -> tuple[str, int, int]:
    refused = KnowledgeBaseError("Only PNG, JPEG, GIF or WebP images can be uploaded.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as opened:
                image_format = opened.format or ""
                width, height = opened.size
                if image_format not in IMAGE_FORMATS:
                    raise refused
                opened.verify()
    except KnowledgeBaseError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refused from None
    except (OSError, SyntaxError, ValueError):  # verify() found a broken file
        raise refused from None
    if not (0 < width <= MAX_IMAGE_SIDE and 0 < height <= MAX_IMAGE_SIDE):
        raise KnowledgeBaseError(f"Images are at most {MAX_IMAGE_SIDE} pixels on a side.")
    return image_format, width, height


def image_markdown(image: ArticleImage, alt: str = "") -> str:
    """The Markdown that shows ``image`` in an article."""
    text = " ".join(alt.replace("[", "").replace("]", "").split()) or "Image"
    return f"![{text}]({image.file.url})"


# --- Visitors ------------------------------------------------------------------------------


def record_feedback(
    article: Article, *, locale: str, helpful: bool, comment: str = ""
) -> ArticleFeedback:
    """A visitor's "Was this helpful?" answer, with an optional comment."""
    if not article.is_published:
        raise KnowledgeBaseError("Feedback is only taken on published articles.")
    check_locale(locale)
    comment = comment.strip()
    if len(comment) > MAX_FEEDBACK_COMMENT_LENGTH:
        raise KnowledgeBaseError(f"A comment has at most {MAX_FEEDBACK_COMMENT_LENGTH} characters.")
    return ArticleFeedback.objects.create(
        article=article, locale=locale, helpful=helpful, comment=comment
    )


# Views waiting to be written to ``Article.view_count``, one counter per article.
VIEW_KEY_PREFIX = "kb:views:"
FLUSH_BATCH = 1000


def _view_key(article_id: int) -> str:
    return f"{VIEW_KEY_PREFIX}{article_id}"


def record_view(article_id: int) -> None:
    """Count one view in the cache: an atomic increment, no database query.

    ``flush_view_counts`` (a Celery beat task, every minute) adds the pending counts to
    ``Article.view_count``, so the home page's "most viewed" list may lag about a minute
    (plus the page cache's own life) behind the visitors."""
    key = _view_key(article_id)
    try:
        cache.incr(key)
    except ValueError:  # no counter yet
        if not cache.add(key, 1, timeout=None):
            # Another request created it first; if a flush or eviction removed it again
            # meanwhile, this one view is lost.
            with contextlib.suppress(ValueError):
                cache.incr(key)


def _take_views(key: str, seen: object) -> int:
    """Take ``seen`` pending views off ``key`` atomically: decrement by exactly what was
    read, so views counted meanwhile stay for the next flush. Returns how many were taken;
    0 when the value is not a positive count or another flush took them first."""
    if not isinstance(seen, int) or isinstance(seen, bool):
        cache.delete(key)  # not ours, or broken: start the counter over
        return 0
    if seen <= 0:
        return 0
    try:
        left = cache.decr(key, seen)
    except ValueError:  # gone meanwhile (evicted)
        return 0
    if left < 0:  # a concurrent flush took some of them: give back, it writes them
        cache.incr(key, seen)
        return 0
    return seen


def flush_view_counts() -> int:
    """Add the views counted in the cache to ``Article.view_count`` (F() updates) and
    return how many were written. Idempotent: each pending count is taken with an atomic
    decrement before it is written (and given back if the write fails), so running twice,
    or two workers at once, never counts a view twice. Views on articles no longer
    published are dropped, as before; they are not in the returned number."""
    written = 0
    ids = Article.objects.order_by("pk").values_list("pk", flat=True)
    batch: list[int] = []
    for article_id in ids.iterator(chunk_size=FLUSH_BATCH):
        batch.append(article_id)
        if len(batch) == FLUSH_BATCH:
            written += _flush_batch(batch)
            batch = []
    if batch:
        written += _flush_batch(batch)
    return written


def _flush_batch(article_ids: list[int]) -> int:
    keys = {_view_key(article_id): article_id for article_id in article_ids}
    pending = cache.get_many(list(keys))
    taken: dict[int, int] = {}
    for key, seen in pending.items():
        count = _take_views(key, seen)
        if count:
            taken[keys[key]] = count
    if not taken:
        return 0
    written = 0
    try:
        with transaction.atomic():
            for article_id, count in taken.items():
                updated = Article.objects.filter(
                    pk=article_id, status=Article.Status.PUBLISHED
                ).update(view_count=F("view_count") + count)
                written += count * updated
    except Exception:
        for article_id, count in taken.items():
            _give_back(_view_key(article_id), count)
        raise
    return written


def _give_back(key: str, count: int) -> None:
    try:
        cache.incr(key, count)
    except ValueError:
        if not cache.add(key, count, timeout=None):
            cache.incr(key, count)
