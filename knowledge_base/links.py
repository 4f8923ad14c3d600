"""Addresses of the public help center's pages: the one place that knows the URL design.

The default locale lives at the root (``/help/``, ``/help/<category>/``,
``/help/<category>/<article>/``); every other locale has its code as the first segment
(``/help/de/``, ``/help/de/<category>/<article>/``), so each language version has an address
of its own for ``hreflang`` and canonical links. Locale codes are therefore reserved: a
category may never be called ``de``. Slugs are language-neutral: an article keeps its slug
in every locale.

Anything that links to the help center (the agents' "insert article link", the contact
form's suggestions, e-mails) goes through these functions rather than building paths.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

if TYPE_CHECKING:
    from knowledge_base.models import Article, Category

# Paths under /help/ that are pages of their own, never a category.
RESERVED_SLUGS = frozenset({"search", "suggest", "sitemap.xml", "contact", "portal", "feedback"})
# What the URLs' locale segment looks like (``LocaleConverter``): two letters, maybe a region.
LOCALE_SHAPE = re.compile(r"[a-z]{2}(?:-[a-z0-9]{2,8})?")


def is_reserved_category_slug(slug: str) -> bool:
    """True for a slug no category may take: a page of its own under /help/, or anything
    shaped like a locale code (``de``, ``pt-br``), which the URLs read as a locale."""
    return slug in RESERVED_SLUGS or bool(LOCALE_SHAPE.fullmatch(slug))


def supported_locales() -> tuple[str, ...]:
    """The help center's locales (``settings.HELP_CENTER_LOCALES``), the default first."""
    default = settings.HELP_CENTER_DEFAULT_LOCALE
    return (default, *(code for code in settings.HELP_CENTER_LOCALES if code != default))


def default_locale() -> str:
    return str(settings.HELP_CENTER_DEFAULT_LOCALE)


def is_prefixed_locale(code: str) -> bool:
    """True for a locale that appears as the first segment of its pages' paths."""
    return code in supported_locales()[1:]


def normalize_locale(code: str | None) -> str:
    """``code`` if it is a supported locale, else the default one (for ``?lang=``)."""
    return code if code in supported_locales() else default_locale()


def home_url(locale: str) -> str:
    if is_prefixed_locale(locale):
        return reverse("help:home-locale", kwargs={"locale": locale})
    return reverse("help:home")


def category_url(category: Category, locale: str) -> str:
    return category_path(category.slug, locale)


def category_path(category_slug: str, locale: str) -> str:
    if is_prefixed_locale(locale):
        return reverse("help:category-locale", kwargs={"locale": locale, "category": category_slug})
    return reverse("help:category", kwargs={"category": category_slug})


def article_url(article: Article, locale: str) -> str:
    """The article's path in ``locale`` (an unsupported locale gives the default one's)."""
    return article_path(article.category.slug, article.slug, locale)


def article_path(category_slug: str, article_slug: str, locale: str) -> str:
    kwargs = {"category": category_slug, "article": article_slug}
    if is_prefixed_locale(locale):
        return reverse("help:article-locale", kwargs={"locale": locale, **kwargs})
    return reverse("help:article", kwargs=kwargs)


def search_url(locale: str) -> str:
    base = reverse("help:search")
    return base if locale == default_locale() else f"{base}?lang={locale}"


def absolute(path: str) -> str:
    """``path`` on the public address customers use (``settings.PUBLIC_BASE_URL``)."""
    return f"{settings.PUBLIC_BASE_URL}{path}"


def absolute_article_url(article: Article, locale: str) -> str:
    return absolute(article_url(article, locale))


def absolute_category_url(category: Category, locale: str) -> str:
    return absolute(category_url(category, locale))
