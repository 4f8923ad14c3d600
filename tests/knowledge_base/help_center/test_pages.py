"""The public help center's pages: published content only, locales and their fallback,
SEO tags, the page cache and the view count."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from helpdesk.models import User
from knowledge_base import cache as page_cache
from knowledge_base import links, services
from knowledge_base.cache import bump_generation
from knowledge_base.models import Article
from tests.knowledge_base.help_center.conftest import HelpCenter

BASE = "https://help.shop.test"


def _links(html: str, rel: str) -> list[tuple[str, str]]:
    """(hreflang or "", href) of every <link rel=...> in ``html``."""
    found = []
    for tag in re.findall(r"<link [^>]*>", html):
        if f'rel="{rel}"' in tag:
            hreflang = re.search(r'hreflang="([^"]+)"', tag)
            href = re.search(r'href="([^"]+)"', tag)
            assert href is not None
            found.append((hreflang.group(1) if hreflang else "", href.group(1)))
    return found


def test_links_design(help_center: HelpCenter) -> None:
    """Default locale at the root, other locales prefixed; absolute URLs on the public base."""
    assert links.article_url(help_center.track, "en") == "/help/shipping/track-your-parcel/"
    assert links.article_url(help_center.track, "de") == "/help/de/shipping/track-your-parcel/"
    assert links.category_url(help_center.shipping, "de") == "/help/de/shipping/"
    assert links.home_url("en") == "/help/"
    assert links.home_url("de") == "/help/de/"
    assert (
        links.absolute_article_url(help_center.track, "en")
        == f"{BASE}/help/shipping/track-your-parcel/"
    )


@pytest.mark.parametrize(
    ("slug", "reserved"),
    [
        ("de", True),
        ("fr", True),  # not offered today, but a locale's shape: kept free for one
        ("pt-br", True),
        ("search", True),
        ("contact", True),
        ("portal", True),
        ("shipping", False),
        ("tv-and-audio", False),
    ],
)
def test_reserved_category_slugs(slug: str, reserved: bool) -> None:
    assert links.is_reserved_category_slug(slug) is reserved


def test_home_shows_categories_with_counts_and_popular_articles(
    client: Client, help_center: HelpCenter
) -> None:
    Article.objects.filter(pk=help_center.refund.pk).update(view_count=50)
    Article.objects.filter(pk=help_center.draft.pk).update(view_count=500)

    response = client.get("/help/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Acme Outdoor Help</title>" in html
    assert "Shipping" in html
    assert "3 articles" in html
    assert "Returns and refunds" in html
    assert "1 article<" in html
    popular = html.split('id="help-popular-title"')[1]
    assert popular.index("When do I get my refund?") < popular.index("Track your parcel")
    assert "Secret draft" not in html
    assert "Old archived" not in html
    assert _links(html, "canonical") == [("", f"{BASE}/help/")]


def test_german_home_names_categories_in_german(client: Client, help_center: HelpCenter) -> None:
    html = client.get("/help/de/").content.decode()

    assert '<html lang="de">' in html
    assert "Versand" in html
    # Not translated yet: the English name stands in.
    assert "Returns and refunds" in html
    assert 'href="/help/de/shipping/"' in html
    assert _links(html, "canonical") == [("", f"{BASE}/help/de/")]


def test_category_page_lists_sections_and_published_articles(
    client: Client, help_center: HelpCenter
) -> None:
    html = client.get("/help/shipping/").content.decode()

    assert "<h1>Shipping</h1>" in html
    delivery = html.index("<h2>Delivery</h2>")
    abroad = html.index("<h2>Abroad</h2>")
    assert delivery < html.index("Track your parcel") < html.index("Shipping costs") < abroad
    assert abroad < html.index("Customs fees abroad")
    assert 'href="/help/shipping/track-your-parcel/"' in html
    assert "Secret draft" not in html
    assert "Old archived" not in html


def test_german_category_page_links_german_addresses(
    client: Client, help_center: HelpCenter
) -> None:
    html = client.get("/help/de/shipping/").content.decode()

    assert "<h1>Versand</h1>" in html
    assert "<h2>Zustellung</h2>" in html
    assert 'href="/help/de/shipping/track-your-parcel/">Sendung verfolgen</a>' in html
    # Untranslated article: English title, German address (the page falls back).
    assert 'href="/help/de/shipping/customs-fees/">Customs fees abroad</a>' in html


@pytest.mark.parametrize(
    "path",
    [
        "/help/nowhere/",
        "/help/de/nowhere/",
        "/help/xx/shipping/",  # not a locale: a category "xx" with an article "shipping"
        "/help/shipping/secret-draft/",
        "/help/de/shipping/secret-draft/",
        "/help/shipping/old-archived/",
        "/help/shipping/no-such-article/",
    ],
)
def test_unknown_draft_and_archived_pages_are_not_found(
    client: Client, help_center: HelpCenter, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert b"Secret draft" not in response.content
    assert b"Internal plan" not in response.content


def test_category_with_only_drafts_is_not_found(
    client: Client, help_center: HelpCenter, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        hidden = services.save_category("hidden", names={"en": ("Hidden", "")})
        services.create_article(
            category=hidden, slug="wip", author=agent, locale="en", title="Work in progress"
        )

    assert client.get("/help/hidden/").status_code == 404
    assert "Hidden" not in client.get("/help/").content.decode()


def test_article_page(client: Client, help_center: HelpCenter, agent: User) -> None:
    response = client.get("/help/shipping/track-your-parcel/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Track your parcel · Acme Outdoor Help</title>" in html
    assert '<meta name="description" content="Where your parcel is right now.">' in html
    assert "<h1>Track your parcel</h1>" in html
    assert "<strong>tracking link</strong>" in html
    assert "Updated <time" in html
    # Breadcrumbs: home › category › this article.
    crumbs = html.split('aria-label="Breadcrumb"')[1].split("</nav>")[0]
    assert 'href="/help/"' in crumbs
    assert 'href="/help/shipping/">Shipping</a>' in crumbs
    # Related: the same section, published only.
    related = html.split('id="help-related-title"')[1]
    assert "Shipping costs" in related
    assert "Secret draft" not in html
    assert "Old archived" not in related
    # The feedback form posts to the article's feedback address.
    assert f'action="/help/feedback/{help_center.track.pk}/"' in html
    # No agent data on a public page.
    assert agent.email not in html
    assert "Bob Agent" not in html


def test_article_canonical_and_hreflang(client: Client, help_center: HelpCenter) -> None:
    english = client.get("/help/shipping/track-your-parcel/").content.decode()
    german = client.get("/help/de/shipping/track-your-parcel/").content.decode()

    expected_alternates = [
        ("en", f"{BASE}/help/shipping/track-your-parcel/"),
        ("de", f"{BASE}/help/de/shipping/track-your-parcel/"),
        ("x-default", f"{BASE}/help/shipping/track-your-parcel/"),
    ]
    assert _links(english, "alternate") == expected_alternates
    assert _links(german, "alternate") == expected_alternates
    assert _links(english, "canonical") == [("", f"{BASE}/help/shipping/track-your-parcel/")]
    assert _links(german, "canonical") == [("", f"{BASE}/help/de/shipping/track-your-parcel/")]
    assert "<h1>Sendung verfolgen</h1>" in german
    assert '<html lang="de">' in german
    assert "Diesen Artikel gibt es noch nicht" not in german
    assert "Aktualisiert am <time" in german
    assert ">Ja</button>" in german


def test_untranslated_article_falls_back_to_english_with_a_note(
    client: Client, help_center: HelpCenter
) -> None:
    response = client.get("/help/de/shipping/customs-fees/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Customs fees abroad</h1>" in html
    # The note, and the words around the article, are in the visitor's language.
    assert "Diesen Artikel gibt es noch nicht in Ihrer Sprache" in html
    assert "War dieser Artikel hilfreich?" in html
    assert '<article class="help-article" lang="en">' in html
    # The English page is the original: canonical, and the only language alternate.
    assert _links(html, "canonical") == [("", f"{BASE}/help/shipping/customs-fees/")]
    assert _links(html, "alternate") == [
        ("en", f"{BASE}/help/shipping/customs-fees/"),
        ("x-default", f"{BASE}/help/shipping/customs-fees/"),
    ]
    # The locale switcher still offers both languages.
    assert 'hreflang="en" lang="en"' in html


def test_article_under_an_old_category_redirects(client: Client, help_center: HelpCenter) -> None:
    response = client.get("/help/returns/track-your-parcel/")

    assert response.status_code == 301
    assert response["Location"] == "/help/shipping/track-your-parcel/"


def test_article_views_are_counted_on_cached_pages_too(
    client: Client, help_center: HelpCenter, django_assert_num_queries: Any
) -> None:
    client.get("/help/shipping/track-your-parcel/")
    # Cached: the view is counted in the cache, no query at all.
    with django_assert_num_queries(0):
        response = client.get("/help/shipping/track-your-parcel/")

    assert response.status_code == 200
    assert services.flush_view_counts() == 2
    help_center.track.refresh_from_db()
    assert help_center.track.view_count == 2


def test_cached_pages_change_when_the_generation_is_bumped(
    client: Client, help_center: HelpCenter, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    client.get("/help/")
    assert "Brand new article" not in client.get("/help/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        fresh = services.create_article(
            category=help_center.returns,
            slug="brand-new",
            author=agent,
            locale="en",
            title="Brand new article",
        )
    # Saving a draft changes nothing visible: the cached page stays.
    assert "Brand new article" not in client.get("/help/returns/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.publish_article(fresh, actor=agent)

    assert "Brand new article" in client.get("/help/returns/").content.decode()
    assert client.get("/help/returns/brand-new/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        services.unpublish_article(fresh, actor=agent)
    assert client.get("/help/returns/brand-new/").status_code == 404
    assert "Brand new article" not in client.get("/help/returns/").content.decode()


def test_a_cached_page_is_served_from_the_cache_until_bumped(
    client: Client, help_center: HelpCenter
) -> None:
    client.get("/help/")
    # A change made behind the services' back is not seen until the generation moves.
    Article.objects.filter(pk=help_center.refund.pk).update(status=Article.Status.DRAFT)
    assert "When do I get my refund?" in client.get("/help/").content.decode()

    bump_generation()

    assert "When do I get my refund?" not in client.get("/help/").content.decode()


def test_branding_from_settings(client: Client, help_center: HelpCenter, settings: Any) -> None:
    settings.HELP_CENTER_NAME = "Nordic Bikes Support"
    settings.HELP_CENTER_LOGO_URL = "https://cdn.nordic.test/logo.svg"
    settings.HELP_CENTER_BRAND_COLOR = "#ffcc00"

    html = client.get("/help/").content.decode()

    assert "<title>Nordic Bikes Support</title>" in html
    assert '<img src="https://cdn.nordic.test/logo.svg"' in html
    # A light brand colour gets dark text.
    assert "--brand: #ffcc00; --brand-text: #111111;" in html


def test_layout_landmarks_and_header_links(client: Client, help_center: HelpCenter) -> None:
    html = client.get("/help/shipping/").content.decode()

    assert '<a class="help-skip" href="#main">' in html
    assert '<main id="main"' in html
    assert 'role="search"' in html
    assert 'href="/help/contact/">Contact us</a>' in html
    assert 'href="/help/portal/">Sign in</a>' in html
    assert 'href="/help/de/shipping/" hreflang="de" lang="de"' in html


def test_sitemap_lists_only_published_pages(client: Client, help_center: HelpCenter) -> None:
    response = client.get("/help/sitemap.xml")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    locations = re.findall(r"<loc>([^<]+)</loc>", response.content.decode())
    assert locations == [
        f"{BASE}/help/",
        f"{BASE}/help/de/",
        f"{BASE}/help/shipping/",
        f"{BASE}/help/de/shipping/",
        f"{BASE}/help/returns/",
        f"{BASE}/help/shipping/customs-fees/",
        f"{BASE}/help/shipping/track-your-parcel/",
        f"{BASE}/help/de/shipping/track-your-parcel/",
        f"{BASE}/help/shipping/shipping-costs/",
        f"{BASE}/help/de/shipping/shipping-costs/",
        f"{BASE}/help/returns/refund-timing/",
    ]
    assert "<lastmod>" in response.content.decode()


def test_a_long_sitemap_becomes_an_index_of_parts(
    client: Client, help_center: HelpCenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("knowledge_base.views.SITEMAP_MAX_URLS", 5)

    index = client.get("/help/sitemap.xml").content.decode()
    second = client.get("/help/sitemap-2.xml").content.decode()

    assert "<sitemapindex" in index
    assert re.findall(r"<loc>([^<]+)</loc>", index) == [
        f"{BASE}/help/sitemap-1.xml",
        f"{BASE}/help/sitemap-2.xml",
        f"{BASE}/help/sitemap-3.xml",
    ]
    assert re.findall(r"<loc>([^<]+)</loc>", second)[0] == f"{BASE}/help/shipping/customs-fees/"
    assert client.get("/help/sitemap-4.xml").status_code == 404


def test_robots_txt(client: Client) -> None:
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Allow: /help/" in lines
    assert "Disallow: /help/search/" in lines
    assert "Disallow: /help/portal/" in lines
    assert "Disallow: /" in lines
    assert f"Sitemap: {BASE}/help/sitemap.xml" in lines


def test_public_pages_refuse_posts_and_answer_head(client: Client, help_center: HelpCenter) -> None:
    assert client.post("/help/").status_code == 405
    assert client.post("/help/shipping/track-your-parcel/").status_code == 405
    assert client.head("/help/shipping/track-your-parcel/").status_code == 200


def test_a_page_built_while_publishing_is_not_served(db: None) -> None:
    """A page built in one generation and stored after the next began is a miss."""
    built_in, page = page_cache.lookup_page("/help/x/", "en")
    assert page is None

    bump_generation()  # something is published while the page is being built
    page_cache.store_page("/help/x/", "en", built_in, page_cache.CachedPage(b"old", "text/html"))

    assert page_cache.lookup_page("/help/x/", "en")[1] is None
    current, _ = page_cache.lookup_page("/help/x/", "en")
    page_cache.store_page("/help/x/", "en", current, page_cache.CachedPage(b"new", "text/html"))
    assert page_cache.lookup_page("/help/x/", "en") == (
        current,
        page_cache.CachedPage(b"new", "text/html"),
    )


def test_category_cards_show_their_icon(
    client: Client, help_center: HelpCenter, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.save_category(
            "shipping",
            names={"en": ("Shipping", "Delivery times, costs and tracking")},
            position=1,
            icon="truck",
        )

    html = client.get("/help/").content.decode()

    card = html.split('href="/help/shipping/"')[1].split("</a>")[0]
    assert '<svg class="help-icon"' in card
    assert 'aria-hidden="true"' in card


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        # Counts per category, the categories, their names, the popular articles and titles.
        ("/help/", 5),
        ("/help/de/", 5),
        # The category, its articles, its name, its sections' names, the articles' titles.
        ("/help/shipping/", 5),
        # The article, its translations, category and section names, the related articles
        # and their titles (the view is counted in the cache, not here).
        ("/help/shipping/track-your-parcel/", 6),
        ("/help/sitemap.xml", 3),
    ],
)
def test_query_counts_of_uncached_pages(
    client: Client,
    help_center: HelpCenter,
    django_assert_num_queries: Any,
    path: str,
    queries: int,
) -> None:
    with django_assert_num_queries(queries):
        response = client.get(path)

    assert response.status_code == 200
