"""The public help center: home, category, article, search, suggestions, feedback, sitemap
and robots.txt. Anonymous visitors only ever see published articles; nothing here shows an
author, an agent or any internal field.

Pages other than search are cached whole (``knowledge_base.cache``) under the path, the
locale and the cache generation that publishing bumps; an article's views are counted on
every request, cached or not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from django import forms
from django.conf import settings
from django.db.models import Count
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from helpdesk import ratelimits
from helpdesk.ratelimits import Limit
from knowledge_base import cache as page_cache
from knowledge_base import links, services
from knowledge_base.models import (
    Article,
    ArticleTranslation,
    Category,
    CategoryTranslation,
    SectionTranslation,
)
from knowledge_base.search import search_page, suggest_articles

PUBLISHED = Article.Status.PUBLISHED
POPULAR_COUNT = 8
RELATED_COUNT = 5
SEARCH_PAGE_SIZE = 10
MAX_SEARCH_PAGE = 50
MAX_QUERY_LENGTH = 200
SUGGESTION_COUNT = 6
# Per visitor address, per minute: generous for people, a wall for scrapers.
SEARCH_LIMIT = Limit("help-search", 60, 60)
SUGGEST_LIMIT = Limit("help-suggest", 180, 60)
FEEDBACK_LIMIT = Limit("help-feedback", 10, 60)
# Browsers may keep a public page this long; the server-side cache is invalidated at once.
BROWSER_MAX_AGE = 60
# The sitemap protocol's limit of addresses per file.
SITEMAP_MAX_URLS = 50_000


class _Localized(Protocol):
    locale: str


Item = TypeVar("Item", bound=_Localized)


@dataclass(frozen=True)
class ArticleLink:
    title: str
    summary: str
    url: str
    locale: str


@dataclass(frozen=True)
class CategoryCard:
    slug: str
    name: str
    description: str
    icon: str
    url: str
    article_count: int


@dataclass
class SectionBlock:
    name: str
    articles: list[ArticleLink] = field(default_factory=list)


@dataclass(frozen=True)
class Alternate:
    locale: str
    url: str


# --- Reading published content ----------------------------------------------------------------


def _preferred(rows: Iterable[Item], locale: str, key: Callable[[Item], Any]) -> dict[Any, Item]:
    """One row per key: the one in ``locale``, else the default locale's, else any."""
    order = {locale: 0, links.default_locale(): 1}
    best: dict[Any, tuple[int, Item]] = {}
    for row in rows:
        rank = order.get(row.locale, 2)
        owner = key(row)
        if owner not in best or rank < best[owner][0]:
            best[owner] = (rank, row)
    return {owner: row for owner, (_rank, row) in best.items()}


def _article_links(articles: list[Article], locale: str) -> list[ArticleLink]:
    return [link for _article, link in _links_with_articles(articles, locale)]


def _links_with_articles(articles: list[Article], locale: str) -> list[tuple[Article, ArticleLink]]:
    """Each of ``articles`` (with ``category`` loaded) and its link, titled in ``locale``
    where translated; an article with no translation at all is left out."""
    translations = _preferred(
        ArticleTranslation.objects.filter(article__in=articles).only(
            "article_id", "locale", "title", "summary"
        ),
        locale,
        key=lambda translation: translation.article_id,
    )
    return [
        (
            article,
            ArticleLink(
                title=translations[article.pk].title,
                summary=translations[article.pk].summary,
                url=links.article_path(article.category.slug, article.slug, locale),
                locale=translations[article.pk].locale,
            ),
        )
        for article in articles
        if article.pk in translations
    ]


def _category_names(category_ids: Iterable[int], locale: str) -> dict[int, CategoryTranslation]:
    return _preferred(
        CategoryTranslation.objects.filter(category_id__in=list(category_ids)),
        locale,
        key=lambda translation: translation.category_id,
    )


def _published_articles() -> Any:
    return (
        Article.objects.filter(status=PUBLISHED)
        .select_related("category")
        .only("id", "slug", "section_id", "position", "category__slug")
    )


# --- Page cache --------------------------------------------------------------------------------


def _cached_page(
    request: HttpRequest,
    locale: str,
    build: Callable[[], tuple[HttpResponseBase, int | None]],
) -> HttpResponseBase:
    """The page at this path from the cache, or built, stored and returned; ``build`` gives
    the response and the article it shows, if any. Only a 200 is stored. The query string
    is not part of the key: no cached page depends on it."""
    built_in, page = page_cache.lookup_page(request.path, locale)
    if page is None:
        built, article_id = build()
        if built.status_code != 200 or not isinstance(built, HttpResponse):
            return built
        page = page_cache.CachedPage(
            content=built.content,
            content_type=built["Content-Type"],
            article_id=article_id,
        )
        page_cache.store_page(request.path, locale, built_in, page)
    if page.article_id is not None:
        services.record_view(page.article_id)
    response = HttpResponse(page.content, content_type=page.content_type)
    patch_cache_control(response, public=True, max_age=BROWSER_MAX_AGE)
    return response


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render in the page's locale: Django's own words (dates, form errors) follow it."""
    with translation.override(context["help_locale"]):
        return render(request, template, context, status=status)


# --- Pages -------------------------------------------------------------------------------------


@require_safe
def home(request: HttpRequest, locale: str | None = None) -> HttpResponseBase:
    locale = locale or links.default_locale()
    return _cached_page(request, locale, lambda: (_home_page(request, locale), None))


def _home_page(request: HttpRequest, locale: str) -> HttpResponse:
    counts = dict(
        Article.objects.filter(status=PUBLISHED)
        .values_list("category_id")
        .annotate(count=Count("id"))
        .values_list("category_id", "count")
    )
    categories = list(Category.objects.filter(pk__in=counts.keys()).order_by("position", "slug"))
    names = _category_names(counts.keys(), locale)
    cards = [
        CategoryCard(
            slug=category.slug,
            name=names[category.pk].name if category.pk in names else category.slug,
            description=names[category.pk].description if category.pk in names else "",
            icon=category.icon,
            url=links.category_path(category.slug, locale),
            article_count=counts[category.pk],
        )
        for category in categories
    ]
    popular = list(_published_articles().order_by("-view_count", "id")[:POPULAR_COUNT])
    alternates = [
        Alternate(code, links.absolute(links.home_url(code))) for code in links.supported_locales()
    ]
    return _render(
        request,
        "help/home.html",
        {
            "help_locale": locale,
            "categories": cards,
            "popular": _article_links(popular, locale),
            "canonical_url": links.absolute(links.home_url(locale)),
            "alternates": alternates,
            "x_default_url": links.absolute(links.home_url(links.default_locale())),
            "locale_paths": {code: links.home_url(code) for code in links.supported_locales()},
        },
    )


@require_safe
def category(request: HttpRequest, category: str, locale: str | None = None) -> HttpResponseBase:
    locale = locale or links.default_locale()
    return _cached_page(request, locale, lambda: (_category_page(request, category, locale), None))


def _category_page(request: HttpRequest, slug: str, locale: str) -> HttpResponse:
    found = Category.objects.filter(slug=slug).first()
    if found is None:
        raise Http404("No such category.")
    articles = list(_published_articles().filter(category=found).order_by("position", "id"))
    if not articles:
        raise Http404("No published article in this category.")
    names = _category_names([found.pk], locale)
    name = names.get(found.pk)
    section_names = _preferred(
        SectionTranslation.objects.filter(section__category=found).select_related("section"),
        locale,
        key=lambda translation: translation.section_id,
    )
    sections = sorted(
        (translation.section for translation in section_names.values()),
        key=lambda section: (section.position, section.slug),
    )
    blocks = {section.pk: SectionBlock(section_names[section.pk].name) for section in sections}
    unsectioned = SectionBlock("")
    for listed, link in _links_with_articles(articles, locale):
        block = blocks.get(listed.section_id or 0, unsectioned)
        block.articles.append(link)
    groups = [block for block in blocks.values() if block.articles]
    if unsectioned.articles:
        groups.append(unsectioned)
    locale_paths = {code: links.category_path(slug, code) for code in links.supported_locales()}
    return _render(
        request,
        "help/category.html",
        {
            "help_locale": locale,
            "category_name": name.name if name else slug,
            "category_description": name.description if name else "",
            "groups": groups,
            "canonical_url": links.absolute(locale_paths[locale]),
            "alternates": [
                Alternate(code, links.absolute(path)) for code, path in locale_paths.items()
            ],
            "x_default_url": links.absolute(locale_paths[links.default_locale()]),
            "locale_paths": locale_paths,
            "breadcrumbs": [(_home_label(), links.home_url(locale))],
        },
    )


def _home_label() -> str:
    return str(settings.HELP_CENTER_NAME)


@require_safe
def article(
    request: HttpRequest, category: str, article: str, locale: str | None = None
) -> HttpResponseBase:
    locale = locale or links.default_locale()
    return _cached_page(
        request, locale, lambda: _article_response(request, category, article, locale)
    )


def _article_response(
    request: HttpRequest, category_slug: str, article_slug: str, locale: str
) -> tuple[HttpResponseBase, int]:
    found = (
        Article.objects.filter(slug=article_slug, status=PUBLISHED)
        .select_related("category")
        .first()
    )
    if found is None:
        raise Http404("No such article.")
    if found.category.slug != category_slug:
        # The article moved to another category: its old address still leads to it.
        return HttpResponsePermanentRedirect(links.article_url(found, locale)), found.pk
    return _article_page(request, found, locale), found.pk


def _article_page(request: HttpRequest, article: Article, locale: str) -> HttpResponse:
    """``article`` is published, with its category loaded."""
    translations = {
        translation.locale: translation
        for translation in ArticleTranslation.objects.filter(article=article).only(
            "id", "article_id", "locale", "title", "summary", "body_html", "updated_at"
        )
    }
    if not translations:
        raise Http404("This article has no text yet.")
    shown = _preferred(translations.values(), locale, key=lambda t: t.article_id)[article.pk]
    category_slug = article.category.slug
    available = [code for code in links.supported_locales() if code in translations]
    default = links.default_locale()
    canonical_locale = shown.locale if shown.locale in links.supported_locales() else default
    alternates = [
        Alternate(code, links.absolute(links.article_path(category_slug, article.slug, code)))
        for code in available
    ]
    x_default_locale = default if default in translations else (available or [default])[0]
    category_name = _category_names([article.category_id], locale).get(article.category_id)
    section_name = None
    if article.section_id is not None:
        section_name = _preferred(
            SectionTranslation.objects.filter(section_id=article.section_id),
            locale,
            key=lambda translation: translation.section_id,
        ).get(article.section_id)
    related_query = _published_articles().exclude(pk=article.pk)
    if article.section_id is not None:
        related_query = related_query.filter(section_id=article.section_id)
    else:
        related_query = related_query.filter(category_id=article.category_id)
    related = list(related_query.order_by("position", "id")[:RELATED_COUNT])
    category_label = category_name.name if category_name else category_slug
    breadcrumbs = [
        (_home_label(), links.home_url(locale)),
        (category_label, links.category_path(category_slug, locale)),
    ]
    return _render(
        request,
        "help/article.html",
        {
            "help_locale": locale,
            "content_locale": shown.locale,
            "is_fallback": shown.locale != locale,
            "article_id": article.pk,
            "translation": shown,
            "updated_at": _latest(shown.updated_at, article.published_at),
            "section_name": section_name.name if section_name else "",
            "related": _article_links(related, locale),
            "canonical_url": links.absolute(
                links.article_path(category_slug, article.slug, canonical_locale)
            ),
            "alternates": alternates,
            "x_default_url": links.absolute(
                links.article_path(category_slug, article.slug, x_default_locale)
            ),
            "locale_paths": {
                code: links.article_path(category_slug, article.slug, code)
                for code in links.supported_locales()
            },
            "breadcrumbs": breadcrumbs,
            "feedback_url": reverse("help:feedback", kwargs={"article_id": article.pk}),
        },
    )


def _latest(*moments: datetime | None) -> datetime | None:
    present = [moment for moment in moments if moment is not None]
    return max(present) if present else None


# --- Search and suggestions --------------------------------------------------------------------


def _client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _too_many(limit: Limit, request: HttpRequest) -> bool:
    return not ratelimits.hit(limit, _client_address(request)).allowed


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    locale = links.normalize_locale(request.GET.get("lang"))
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    try:
        page_number = int(request.GET.get("page", "1"))
    except ValueError:
        page_number = 1
    page_number = min(max(page_number, 1), MAX_SEARCH_PAGE)
    context: dict[str, Any] = {
        "help_locale": locale,
        "query": query,
        "hits": [],
        "page_number": page_number,
        "canonical_url": "",
        "locale_paths": {code: links.search_url(code) for code in links.supported_locales()},
    }
    if query:
        if _too_many(SEARCH_LIMIT, request):
            response = _render(
                request, "help/search.html", {**context, "rate_limited": True}, status=429
            )
            response["Retry-After"] = str(SEARCH_LIMIT.seconds)
            return response
        page = search_page(
            query,
            locale,
            page_size=SEARCH_PAGE_SIZE,
            offset=(page_number - 1) * SEARCH_PAGE_SIZE,
        )
        context["has_next"] = page.has_next
        context["hits"] = [
            (hit, links.article_path(hit.category_slug, hit.article_slug, locale))
            for hit in page.hits
        ]
        base = f"{reverse('help:search')}?lang={locale}&q="
        context["page_base_url"] = base
    response = _render(request, "help/search.html", context)
    # Search results are the visitor's own; robots need not index them.
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
def suggest(request: HttpRequest) -> HttpResponse:
    """Articles for what the visitor is typing, as JSON: titles as HTML (escaped, matches
    in ``<mark>``), addresses in the visitor's locale."""
    locale = links.normalize_locale(request.GET.get("lang"))
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    if not query:
        return JsonResponse({"results": []})
    if _too_many(SUGGEST_LIMIT, request):
        return JsonResponse({"error": "Too many requests; wait a minute."}, status=429)
    hits = suggest_articles(query, locale, limit=SUGGESTION_COUNT)
    return JsonResponse(
        {
            "results": [
                {
                    "title": hit.title,
                    "title_html": str(hit.title_html),
                    "snippet_html": str(hit.snippet_html),
                    "url": links.article_path(hit.category_slug, hit.article_slug, locale),
                    "locale": hit.locale,
                }
                for hit in hits
            ]
        }
    )


# --- Feedback ----------------------------------------------------------------------------------


class FeedbackForm(forms.Form):
    """ "Was this helpful?": yes or no, and an optional comment."""

    helpful = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")], coerce=lambda value: value == "yes"
    )
    comment = forms.CharField(
        required=False, max_length=services.MAX_FEEDBACK_COMMENT_LENGTH, strip=True
    )
    locale = forms.CharField(required=False, max_length=12)


# The article page is cached whole and shared by every visitor, so it cannot carry a
# visitor's CSRF token; the form is anonymous and changes nothing but a counter, and a
# cross-site post is refused by its Origin instead.
@csrf_exempt
@require_POST
def feedback(request: HttpRequest, article_id: int) -> HttpResponse:
    wants_json = "application/json" in request.headers.get("Accept", "")
    origin = request.headers.get("Origin")
    if origin and origin not in _own_origins(request):
        return _feedback_error(request, wants_json, {"__all__": ["Cross-site post refused."]}, 403)
    article = (
        Article.objects.filter(pk=article_id, status=PUBLISHED).select_related("category").first()
    )
    if article is None:
        raise Http404("No such article.")
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return _feedback_error(request, wants_json, form.errors.get_json_data(), 400, article)
    if _too_many(FEEDBACK_LIMIT, request):
        return _feedback_error(
            request, wants_json, {"__all__": ["Too many answers; wait a minute."]}, 429, article
        )
    locale = links.normalize_locale(form.cleaned_data["locale"])
    services.record_feedback(
        article,
        locale=locale,
        helpful=form.cleaned_data["helpful"],
        comment=form.cleaned_data["comment"],
    )
    if wants_json:
        return JsonResponse({"ok": True})
    return _render(
        request,
        "help/feedback_thanks.html",
        {"help_locale": locale, "article_url": links.article_url(article, locale)},
    )


def _own_origins(request: HttpRequest) -> set[str]:
    return {
        f"{request.scheme}://{request.get_host()}",
        str(settings.PUBLIC_BASE_URL).rstrip("/"),
    }


def _feedback_error(
    request: HttpRequest,
    wants_json: bool,
    errors: dict[str, Any],
    status: int,
    article: Article | None = None,
) -> HttpResponse:
    if wants_json:
        return JsonResponse({"ok": False, "errors": errors}, status=status)
    locale = links.normalize_locale(request.POST.get("locale"))
    return _render(
        request,
        "help/feedback_thanks.html",
        {
            "help_locale": locale,
            "errors": errors,
            "article_url": links.article_url(article, locale) if article else "",
        },
        status=status,
    )


# --- Sitemap and robots ------------------------------------------------------------------------


@require_safe
def sitemap(request: HttpRequest) -> HttpResponseBase:
    """All public addresses, or, past the protocol's 50,000 per file, an index of parts."""
    return _cached_page(request, links.default_locale(), lambda: (_sitemap(None), None))


@require_safe
def sitemap_part(request: HttpRequest, part: int) -> HttpResponseBase:
    return _cached_page(request, links.default_locale(), lambda: (_sitemap(part), None))


def _sitemap(part: int | None) -> HttpResponse:
    urls = _sitemap_urls()
    parts = max(1, -(-len(urls) // SITEMAP_MAX_URLS))
    if part is None and parts > 1:
        content = render_to_string(
            "help/sitemap_index.xml",
            {
                "parts": [
                    links.absolute(reverse("help:sitemap-part", kwargs={"part": number}))
                    for number in range(1, parts + 1)
                ]
            },
        )
    else:
        number = part or 1
        if number > parts:
            raise Http404("No such sitemap part.")
        start = (number - 1) * SITEMAP_MAX_URLS
        content = render_to_string(
            "help/sitemap.xml", {"urls": urls[start : start + SITEMAP_MAX_URLS]}
        )
    return HttpResponse(content, content_type="application/xml; charset=utf-8")


def _sitemap_urls() -> list[tuple[str, datetime | None]]:
    """Every published article in each locale it is written in, and every category with a
    published article in each locale it is named in, in the help center's order."""
    order = {code: index for index, code in enumerate(links.supported_locales())}
    urls: list[tuple[str, datetime | None]] = [
        (links.absolute(links.home_url(code)), None) for code in order
    ]
    categories_with_articles = set(
        Article.objects.filter(status=PUBLISHED).values_list("category_id", flat=True)
    )
    category_rows = sorted(
        CategoryTranslation.objects.filter(
            category_id__in=categories_with_articles, locale__in=order
        ).values_list("category__position", "category__slug", "locale"),
        key=lambda row: (row[0], row[1], order[row[2]]),
    )
    urls.extend(
        (links.absolute(links.category_path(slug, code)), None)
        for _position, slug, code in category_rows
    )
    article_rows = sorted(
        ArticleTranslation.objects.filter(article__status=PUBLISHED, locale__in=order).values_list(
            "article__category__position",
            "article__position",
            "article_id",
            "locale",
            "article__category__slug",
            "article__slug",
            "updated_at",
        ),
        key=lambda row: (row[0], row[1], row[2], order[row[3]]),
    )
    urls.extend(
        (links.absolute(links.article_path(category_slug, article_slug, code)), updated_at)
        for _c, _p, _id, code, category_slug, article_slug, updated_at in article_rows
    )
    return urls


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    """The site's robots.txt: crawlers may read the help center, and nothing else."""
    help_root = links.home_url(links.default_locale())
    lines = [
        "User-agent: *",
        f"Allow: {help_root}",
        f"Disallow: {reverse('help:search')}",
        f"Disallow: {reverse('help:suggest')}",
        f"Disallow: {help_root}feedback/",
        f"Disallow: {help_root}portal/",
        f"Disallow: {help_root}contact/",
        "Disallow: /",
        "",
        f"Sitemap: {links.absolute(reverse('help:sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
