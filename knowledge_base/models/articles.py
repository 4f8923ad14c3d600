"""Categories, sections, articles, translations, revisions and feedback.

An article's identity (slug, category, status, position, counters) is language-neutral; its
words live in one ``ArticleTranslation`` per locale. Every saved change of a translation is
also an ``ArticleRevision``, so history, diff and restore read one table. Writes go through
``knowledge_base.services``: it renders ``body_html`` and ``body_text``, numbers revisions
and bumps the help center's cache generation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = [
    "Article",
    "ArticleFeedback",
    "ArticleImage",
    "ArticleRevision",
    "ArticleTranslation",
    "Category",
    "CategoryTranslation",
    "Section",
    "SectionTranslation",
]

LOCALE_MAX_LENGTH = 12
SUMMARY_MAX_LENGTH = 300


class Category(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    position = models.PositiveIntegerField(default=0)
    # The name of one of our inline SVG icons (e.g. "truck"); empty for none.
    icon = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.slug


class CategoryTranslation(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(max_length=LOCALE_MAX_LENGTH)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["category_id", "locale"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "locale"], name="kb_category_translation_unique_locale"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.locale})"


class Section(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="sections")
    slug = models.SlugField(max_length=80)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["category_id", "position", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["category", "slug"], name="kb_section_unique_slug")
        ]

    def __str__(self) -> str:
        return f"{self.category.slug}/{self.slug}"


class SectionTranslation(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(max_length=LOCALE_MAX_LENGTH)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["section_id", "locale"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "locale"], name="kb_section_translation_unique_locale"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.locale})"


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="articles")
    section = models.ForeignKey(
        Section, on_delete=models.SET_NULL, null=True, blank=True, related_name="articles"
    )
    # Readable and language-neutral: one address per article, whatever the locale.
    slug = models.SlugField(max_length=120, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="kb_articles"
    )
    position = models.PositiveIntegerField(default=0)
    view_count = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category_id", "position", "id"]
        indexes = [
            # The help center's "most viewed" list reads published articles by views.
            models.Index(
                fields=["-view_count"],
                name="kb_article_popular",
                condition=Q(status="published"),
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def translation_for(self, locale: str) -> ArticleTranslation | None:
        """The translation in ``locale``, else the default locale's, else None. Uses
        prefetched ``translations`` when the caller prefetched them (no query)."""
        by_locale = {translation.locale: translation for translation in self.translations.all()}
        return by_locale.get(locale) or by_locale.get(settings.HELP_CENTER_DEFAULT_LOCALE)


class ArticleTranslation(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(max_length=LOCALE_MAX_LENGTH)
    title = models.CharField(max_length=200)
    # The meta description and the line under the title in lists.
    summary = models.CharField(max_length=SUMMARY_MAX_LENGTH, blank=True)
    body_markdown = models.TextField(blank=True)
    # Rendered and sanitized by the services on every save; never edited by hand.
    body_html = models.TextField(blank=True, editable=False)
    # The body's words without markup: what search indexes and quotes in snippets.
    body_text = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["article_id", "locale"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "locale"], name="kb_article_translation_unique_locale"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.locale})"


class ArticleRevision(models.Model):
    translation = models.ForeignKey(
        ArticleTranslation, on_delete=models.CASCADE, related_name="revisions"
    )
    # 1, 2, 3 ... per translation.
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=SUMMARY_MAX_LENGTH, blank=True)
    body_markdown = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["translation_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["translation", "number"], name="kb_revision_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.translation} #{self.number}"


class ArticleFeedback(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    locale = models.CharField(max_length=LOCALE_MAX_LENGTH)
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "article feedback"

    def __str__(self) -> str:
        return f"{self.article} {'+' if self.helpful else '-'}"


class ArticleImage(models.Model):
    # Stored under kb/ with a random name; never the uploader's file name.
    file = models.FileField(upload_to="kb/", max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    content_type = models.CharField(max_length=40)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file.name

    @property
    def url(self) -> str:
        return self.file.url
