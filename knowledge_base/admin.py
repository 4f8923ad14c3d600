"""The knowledge base in the Django admin (admins only).

Translations are saved through ``services.save_translation`` (rendered HTML, a revision,
the cache bumped); status changes are actions that call the publish / unpublish / archive
services, so the status field itself is read-only here. Revisions, feedback and images are
records: they can be looked at (and a revision restored), not edited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from helpdesk.admin import AdminRoleMixin, ReadOnlyAdminMixin, actor_of, copy_saved_row
from knowledge_base import services
from knowledge_base.cache import bump_generation
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
from knowledge_base.services import KnowledgeBaseError


class VisibleChangeAdmin(AdminRoleMixin, admin.ModelAdmin):
    """Categories and sections: plain rows, but a change is visible in the help center."""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(bump_generation)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        transaction.on_commit(bump_generation)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(bump_generation)


class CategoryTranslationInline(AdminRoleMixin, admin.TabularInline):
    model = CategoryTranslation
    extra = 0


class SectionInline(AdminRoleMixin, admin.TabularInline):
    model = Section
    extra = 0
    show_change_link = True


@admin.register(Category)
class CategoryAdmin(VisibleChangeAdmin):
    list_display = ["slug", "position", "icon"]
    list_editable = ["position"]
    search_fields = ["slug", "translations__name"]
    inlines = [CategoryTranslationInline, SectionInline]


class SectionTranslationInline(AdminRoleMixin, admin.TabularInline):
    model = SectionTranslation
    extra = 0


@admin.register(Section)
class SectionAdmin(VisibleChangeAdmin):
    list_display = ["slug", "category", "position"]
    list_filter = ["category"]
    search_fields = ["slug", "translations__name"]
    inlines = [SectionTranslationInline]


class TranslationInline(AdminRoleMixin, admin.TabularInline):
    model = ArticleTranslation
    fields = ["locale", "title", "updated_at", "updated_by"]
    readonly_fields = ["locale", "title", "updated_at", "updated_by"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(AdminRoleMixin, admin.ModelAdmin):
    list_display = ["slug", "category", "section", "status", "view_count", "published_at"]
    list_filter = ["status", "category"]
    search_fields = ["slug", "translations__title"]
    readonly_fields = ["status", "author", "view_count", "published_at", "created_at", "updated_at"]
    list_select_related = ["category", "section"]
    inlines = [TranslationInline]
    actions = ["publish", "unpublish", "archive"]

    def save_model(self, request: HttpRequest, obj: Article, form: ModelForm, change: bool) -> None:
        if not change:
            obj.author = actor_of(request)
        super().save_model(request, obj, form, change)
        if obj.is_published:
            transaction.on_commit(bump_generation)

    def delete_model(self, request: HttpRequest, obj: Article) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(bump_generation)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(bump_generation)

    def _change_status(self, request: HttpRequest, queryset: QuerySet[Article], name: str) -> None:
        change = getattr(services, f"{name}_article")
        done = 0
        for article in queryset:
            try:
                change(article, actor=actor_of(request))
            except KnowledgeBaseError as error:
                self.message_user(request, f"{article.slug}: {error}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"{done} article(s): {name} done.", messages.SUCCESS)

    @admin.action(description="Publish the selected articles")
    def publish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        self._change_status(request, queryset, "publish")

    @admin.action(description="Unpublish (back to draft)")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        self._change_status(request, queryset, "unpublish")

    @admin.action(description="Archive the selected articles")
    def archive(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        self._change_status(request, queryset, "archive")


class RevisionInline(AdminRoleMixin, admin.TabularInline):
    model = ArticleRevision
    fields = ["number", "title", "author", "created_at"]
    readonly_fields = ["number", "title", "author", "created_at"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ArticleTranslation)
class ArticleTranslationAdmin(AdminRoleMixin, admin.ModelAdmin):
    list_display = ["title", "locale", "article", "updated_at", "updated_by"]
    list_filter = ["locale"]
    search_fields = ["title", "article__slug"]
    fields = ["article", "locale", "title", "summary", "body_markdown", "updated_by"]
    readonly_fields = ["updated_by"]
    list_select_related = ["article", "updated_by"]
    inlines = [RevisionInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["article", "locale", "updated_by"] if obj else ["updated_by"]

    def save_model(
        self, request: HttpRequest, obj: ArticleTranslation, form: ModelForm, change: bool
    ) -> None:
        # Through the service: rendered body, a revision with its author, the cache bumped.
        result = services.save_translation(
            obj.article,
            locale=obj.locale,
            title=obj.title,
            summary=obj.summary,
            body_markdown=obj.body_markdown,
            author=actor_of(request),
        )
        copy_saved_row(obj, result.translation)


@admin.register(ArticleRevision)
class ArticleRevisionAdmin(ReadOnlyAdminMixin, AdminRoleMixin, admin.ModelAdmin):
    list_display = ["translation", "number", "title", "author", "created_at"]
    list_select_related = ["translation", "author"]
    search_fields = ["title", "translation__article__slug"]
    actions = ["restore"]

    @admin.action(description="Restore the selected revision (as a new revision)")
    def restore(self, request: HttpRequest, queryset: QuerySet[ArticleRevision]) -> None:
        for revision in queryset.select_related("translation__article"):
            services.restore_revision(revision, author=actor_of(request))
        self.message_user(request, "Restored.", messages.SUCCESS)


@admin.register(ArticleFeedback)
class ArticleFeedbackAdmin(AdminRoleMixin, admin.ModelAdmin):
    list_display = ["article", "locale", "helpful", "comment", "created_at"]
    list_filter = ["helpful", "locale"]
    search_fields = ["article__slug", "comment"]
    list_select_related = ["article"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ArticleImage)
class ArticleImageAdmin(ReadOnlyAdminMixin, AdminRoleMixin, admin.ModelAdmin):
    """Images are uploaded in the editor (checked by content); here they are listed."""

    list_display = ["file", "content_type", "width", "height", "size", "uploaded_by", "created_at"]
    list_select_related = ["uploaded_by"]
