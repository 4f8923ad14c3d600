"""The knowledge-base editor: thin views over ``knowledge_base.services``.

Every signed-in agent and admin may write, publish, unpublish and archive articles (the
help center is the whole team's work, like macros); deleting an article is left to admins in
the Django admin. Plain form posts redirect, so every action works without JavaScript; the
live preview and the image upload are htmx/fetch niceties on top.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from helpdesk.models import User
from knowledge_base import services
from knowledge_base.editor import forms
from knowledge_base.editor.diff import revision_diff
from knowledge_base.markdown import render_markdown
from knowledge_base.models import Article, ArticleRevision, ArticleTranslation
from knowledge_base.services import KnowledgeBaseError

PAGE_SIZE = 50
BAD_REQUEST = 400
CONFLICT = 409


def editor_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in agents and admins only; anyone else goes to the sign-in page."""

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, *args, **kwargs)

    return wrapped


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _locale(request: HttpRequest) -> str:
    locale = request.GET.get("locale") or settings.HELP_CENTER_DEFAULT_LOCALE
    return locale if locale in settings.HELP_CENTER_LOCALES else settings.HELP_CENTER_DEFAULT_LOCALE


def _articles() -> QuerySet[Article]:
    return Article.objects.select_related("category", "author").prefetch_related(
        Prefetch("translations", queryset=ArticleTranslation.objects.select_related("updated_by")),
        "category__translations",
    )


def _category_name(article: Article, locale: str) -> str:
    names = {t.locale: t.name for t in article.category.translations.all()}
    return (
        names.get(locale) or names.get(settings.HELP_CENTER_DEFAULT_LOCALE) or article.category.slug
    )


# --- The list --------------------------------------------------------------------------------


@editor_view
@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    form = forms.ArticleListForm(request.GET)
    articles = _articles().order_by("-updated_at", "-id")
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        status = data["status"]
        if status == "":
            articles = articles.exclude(status=Article.Status.ARCHIVED)
        elif status != "all":
            articles = articles.filter(status=status)
        if data["locale"]:
            articles = articles.filter(translations__locale=data["locale"])
        if data["category"] is not None:
            articles = articles.filter(category=data["category"])
        if data["q"].strip():
            words = data["q"].split()
            for word in words:
                articles = articles.filter(
                    Q(translations__title__icontains=word) | Q(slug__icontains=word.lower())
                )
            articles = articles.distinct()
    else:
        error = forms.error_text(form)
        articles = articles.exclude(status=Article.Status.ARCHIVED)
    page = Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
    locale = (form.cleaned_data.get("locale") if form.is_valid() else "") or (
        settings.HELP_CENTER_DEFAULT_LOCALE
    )
    rows = [
        {
            "article": article,
            "translation": article.translation_for(locale),
            "category": _category_name(article, locale),
            "locales": sorted(t.locale for t in article.translations.all()),
        }
        for article in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "error": error,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "locales": settings.HELP_CENTER_LOCALES,
        "section": "articles",
    }
    return render(request, "knowledge_base/article_list.html", context)


# --- Writing ---------------------------------------------------------------------------------


@editor_view
def article_new(request: HttpRequest) -> HttpResponse:
    form = forms.NewArticleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                article = services.create_article(
                    category=data["category"],
                    section=data["section"],
                    slug=data["slug"],
                    position=data["position"],
                    author=_user(request),
                    locale=data["locale"],
                    title=data["title"],
                    summary=data["summary"],
                    body_markdown=data["body_markdown"],
                )
            except KnowledgeBaseError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Draft created.")
                return redirect(_edit_url(article, data["locale"]))
        status = BAD_REQUEST
    context = {"form": form, "section": "new", "locales": settings.HELP_CENTER_LOCALES}
    return render(request, "knowledge_base/article_new.html", context, status=status)


def _edit_url(article: Article, locale: str) -> str:
    return f"{reverse('kb_editor:edit', args=[article.pk])}?locale={locale}"


@editor_view
def article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    article = get_object_or_404(_articles(), pk=article_id)
    locale = _locale(request)
    translations = {t.locale: t for t in article.translations.all()}
    translation = translations.get(locale)
    if request.method == "POST":
        article_form = forms.ArticleForm(request.POST)
        translation_form = forms.TranslationForm(request.POST)
        if article_form.is_valid() and translation_form.is_valid():
            try:
                _save(request, article, locale, article_form, translation_form)
            except KnowledgeBaseError as error:
                translation_form.add_error(None, str(error))
            else:
                return redirect(_edit_url(article, locale))
        status = BAD_REQUEST
    else:
        status = 200
        article_form = forms.ArticleForm(
            initial={
                "category": article.category_id,
                "section": article.section_id,
                "slug": article.slug,
                "position": article.position,
            }
        )
        source = translation or article.translation_for(locale)
        translation_form = forms.TranslationForm(
            initial={
                "title": source.title if source else "",
                "summary": source.summary if source else "",
                "body_markdown": source.body_markdown if source else "",
            }
        )
    context = {
        "article": article,
        "locale": locale,
        "translation": translation,
        "translations": translations,
        "locales": settings.HELP_CENTER_LOCALES,
        "article_form": article_form,
        "form": translation_form,
        "upload_form": forms.ImageUploadForm(),
        "preview_html": render_markdown(str(translation_form["body_markdown"].value() or "")),
        "revision_count": translation.revisions.count() if translation else 0,
        "section": "articles",
    }
    return render(request, "knowledge_base/article_edit.html", context, status=status)


def _save(
    request: HttpRequest,
    article: Article,
    locale: str,
    article_form: forms.ArticleForm,
    translation_form: forms.TranslationForm,
) -> None:
    meta, words = article_form.cleaned_data, translation_form.cleaned_data
    moved = (
        meta["category"].pk != article.category_id
        or (meta["section"].pk if meta["section"] else None) != article.section_id
        or meta["slug"] != article.slug
        or meta["position"] != article.position
    )
    if moved:
        services.update_article(
            article,
            category=meta["category"],
            section=meta["section"],
            slug=meta["slug"],
            position=meta["position"],
        )
    change = services.save_translation(
        article,
        locale=locale,
        title=words["title"],
        summary=words["summary"],
        body_markdown=words["body_markdown"],
        author=_user(request),
    )
    if change.revision is not None:
        messages.success(request, f"Saved as revision {change.revision.number}.")
    elif moved:
        messages.success(request, "Saved.")
    else:
        messages.info(request, "Nothing changed.")


STATUS_ACTIONS: dict[str, tuple[Callable[..., Article], str]] = {
    "publish": (services.publish_article, "Published: visitors see it now."),
    "unpublish": (services.unpublish_article, "Back to draft: hidden from the help center."),
    "archive": (services.archive_article, "Archived: hidden from the help center."),
}


@editor_view
@require_POST
def article_status(request: HttpRequest, article_id: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=article_id)
    action = STATUS_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        return HttpResponseBadRequest("Unknown action.")
    change, message = action
    try:
        change(article, actor=_user(request))
    except KnowledgeBaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, message)
    return redirect(_edit_url(article, _locale(request)))


@editor_view
@require_POST
def translation_delete(request: HttpRequest, article_id: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=article_id)
    locale = request.POST.get("locale", "")
    translation = get_object_or_404(ArticleTranslation, article=article, locale=locale)
    try:
        services.delete_translation(translation)
    except KnowledgeBaseError as error:
        messages.error(request, str(error))
        return redirect(_edit_url(article, locale))
    messages.success(request, f"The {locale.upper()} translation was deleted.")
    return redirect(_edit_url(article, settings.HELP_CENTER_DEFAULT_LOCALE))


# --- Preview and images ----------------------------------------------------------------------


@editor_view
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The body as the help center will show it: sanitized HTML, for the live preview."""
    form = forms.PreviewForm(request.POST)
    if not form.is_valid():
        return HttpResponse(forms.error_text(form), status=BAD_REQUEST, content_type="text/plain")
    html = render_markdown(form.cleaned_data["body_markdown"])
    return render(request, "knowledge_base/_preview.html", {"preview_html": html})


@editor_view
@require_POST
def image_upload(request: HttpRequest) -> HttpResponse:
    """Store an image; JSON with its Markdown for the editor's script, or a redirect back
    with the Markdown in a message for a plain form post."""
    form = forms.ImageUploadForm(request.POST, request.FILES)
    wants_json = "application/json" in request.headers.get("Accept", "")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("kb_editor:list")
    error = ""
    if form.is_valid():
        try:
            image = services.upload_image(form.cleaned_data["image"], actor=_user(request))
        except KnowledgeBaseError as refused:
            error = str(refused)
        else:
            markdown = services.image_markdown(image, form.cleaned_data["alt"])
            if wants_json:
                return JsonResponse({"markdown": markdown, "url": image.file.url}, status=201)
            messages.success(request, f"Uploaded. Paste this into the body: {markdown}")
            return redirect(back)
    else:
        error = forms.error_text(form)
    if wants_json:
        return JsonResponse({"error": error}, status=BAD_REQUEST)
    messages.error(request, error)
    return redirect(back)


# --- History ---------------------------------------------------------------------------------


@editor_view
@require_GET
def article_history(request: HttpRequest, article_id: int) -> HttpResponse:
    article = get_object_or_404(_articles(), pk=article_id)
    locale = _locale(request)
    translation = get_object_or_404(ArticleTranslation, article=article, locale=locale)
    revisions = list(translation.revisions.select_related("author"))
    selected = revisions[0] if revisions else None
    wanted = request.GET.get("revision", "")
    if wanted.isdigit():
        selected = next((r for r in revisions if r.number == int(wanted)), selected)
    previous = None
    if selected is not None:
        previous = next((r for r in revisions if r.number < selected.number), None)
    context = {
        "article": article,
        "translation": translation,
        "locale": locale,
        "locales": settings.HELP_CENTER_LOCALES,
        "translations": {t.locale: t for t in article.translations.all()},
        "revisions": revisions,
        "selected": selected,
        "previous": previous,
        "diff": revision_diff(previous, selected) if selected else [],
        "is_latest": bool(revisions) and selected == revisions[0],
        "section": "articles",
    }
    return render(request, "knowledge_base/article_history.html", context)


@editor_view
@require_POST
def revision_restore(request: HttpRequest, revision_id: int) -> HttpResponse:
    revision = get_object_or_404(
        ArticleRevision.objects.select_related("translation__article"), pk=revision_id
    )
    change = services.restore_revision(revision, author=_user(request))
    article = revision.translation.article
    if change.revision is None:
        messages.info(request, f"Revision {revision.number} is already the current text.")
    else:
        messages.success(
            request,
            f"Revision {revision.number} restored as revision {change.revision.number}.",
        )
    return redirect(_edit_url(article, revision.translation.locale))
