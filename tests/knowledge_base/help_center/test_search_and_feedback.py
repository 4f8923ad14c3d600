"""Search, suggestions while typing and "Was this helpful?": published articles only,
everything the visitor types escaped, bad input refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from knowledge_base import views
from knowledge_base.models import ArticleFeedback
from tests.knowledge_base.help_center.conftest import HelpCenter

SCRIPT = "<script>alert(1)</script>"


def test_search_page_highlights_matches(client: Client, help_center: HelpCenter) -> None:
    response = client.get("/help/search/", {"q": "customs"})

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex"
    html = response.content.decode()
    assert 'href="/help/shipping/customs-fees/"><mark>Customs</mark> fees abroad</a>' in html
    assert "<mark>customs</mark> fees on delivery" in html
    assert "Results for “customs”" in html


def test_search_in_german_links_german_addresses(client: Client, help_center: HelpCenter) -> None:
    html = client.get("/help/search/", {"q": "Sendung", "lang": "de"}).content.decode()

    assert 'href="/help/de/shipping/track-your-parcel/"><mark>Sendung</mark> verfolgen</a>' in html
    assert '<html lang="de">' in html


def test_search_never_shows_drafts_or_archived(client: Client, help_center: HelpCenter) -> None:
    html = client.get("/help/search/", {"q": "shipping"}).content.decode()

    assert 'href="/help/shipping/shipping-costs/"' in html
    assert "secret-draft" not in html
    assert "old-archived" not in html
    assert "Secret draft" not in html
    assert "Old archived" not in html
    assert "Internal plan" not in html


def test_search_without_results_says_so(client: Client, help_center: HelpCenter) -> None:
    html = client.get("/help/search/", {"q": "zeppelin"}).content.decode()

    assert "No articles match “zeppelin”" in html
    assert 'href="/help/contact/">or contact us</a>' in html


def test_search_page_in_german_speaks_german(client: Client, help_center: HelpCenter) -> None:
    html = client.get("/help/search/", {"q": "Zeppelin", "lang": "de"}).content.decode()

    assert "Keine Artikel zu „Zeppelin“" in html
    assert 'placeholder="Antworten suchen"' in html


def test_search_terms_are_escaped_in_the_page(client: Client, help_center: HelpCenter) -> None:
    response = client.get("/help/search/", {"q": f"{SCRIPT} shipping"})

    html = response.content.decode()
    assert response.status_code == 200
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_search_pages_through_results(
    client: Client, help_center: HelpCenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "SEARCH_PAGE_SIZE", 1)

    first = client.get("/help/search/", {"q": "shipping"}).content.decode()
    second = client.get("/help/search/", {"q": "shipping", "page": "2"}).content.decode()

    assert 'rel="next" href="/help/search/?lang=en&amp;q=shipping&amp;page=2"' in first
    assert 'rel="prev"' not in first
    assert 'rel="prev" href="/help/search/?lang=en&amp;q=shipping&amp;page=1"' in second


@pytest.mark.parametrize("page", ["abc", "-3", "0", "999999999999"])
def test_search_with_a_bad_page_number_still_answers(
    client: Client, help_center: HelpCenter, page: str
) -> None:
    response = client.get("/help/search/", {"q": "shipping", "page": page})

    assert response.status_code == 200


def test_search_is_rate_limited(
    client: Client, help_center: HelpCenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "SEARCH_LIMIT", views.Limit("help-search-test", 2, 60))

    codes = [client.get("/help/search/", {"q": "shipping"}).status_code for _ in range(3)]

    assert codes == [200, 200, 429]


def test_suggestions_as_json(client: Client, help_center: HelpCenter) -> None:
    response = client.get("/help/suggest/", {"q": "trac", "lang": "en"})

    assert response.status_code == 200
    results = response.json()["results"]
    assert [result["url"] for result in results] == ["/help/shipping/track-your-parcel/"]
    assert results[0]["title_html"] == "<mark>Track</mark> your parcel"


def test_suggestions_in_german(client: Client, help_center: HelpCenter) -> None:
    results = client.get("/help/suggest/", {"q": "versand", "lang": "de"}).json()["results"]

    assert "/help/de/shipping/shipping-costs/" in [result["url"] for result in results]


def test_suggestions_never_include_drafts(client: Client, help_center: HelpCenter) -> None:
    results = client.get("/help/suggest/", {"q": "secr"}).json()["results"]
    shipping = client.get("/help/suggest/", {"q": "shipp"}).json()["results"]

    assert results == []
    assert all("secret" not in result["url"] for result in shipping)
    assert all("archived" not in result["url"] for result in shipping)


def test_suggestions_escape_what_the_visitor_typed(client: Client, help_center: HelpCenter) -> None:
    response = client.get("/help/suggest/", {"q": f"{SCRIPT} track"})

    body = response.content.decode()
    assert "<script>" not in body
    for result in response.json()["results"]:
        assert "<script" not in result["title_html"]
        assert "<script" not in result["snippet_html"]


@pytest.mark.parametrize("query", ["", "   ", "!!!"])
def test_empty_suggestions(client: Client, help_center: HelpCenter, query: str) -> None:
    response = client.get("/help/suggest/", {"q": query})

    assert response.status_code == 200
    assert response.json() == {"results": []}


def test_feedback_by_javascript(client: Client, help_center: HelpCenter) -> None:
    response = client.post(
        f"/help/feedback/{help_center.track.pk}/",
        {"helpful": "no", "comment": "  The link in my mail is broken.  ", "locale": "de"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    feedback = ArticleFeedback.objects.get()
    assert (feedback.article_id, feedback.locale, feedback.helpful, feedback.comment) == (
        help_center.track.pk,
        "de",
        False,
        "The link in my mail is broken.",
    )


def test_feedback_without_javascript_shows_a_thank_you_page(
    client: Client, help_center: HelpCenter
) -> None:
    response = client.post(
        f"/help/feedback/{help_center.track.pk}/", {"helpful": "yes", "locale": "en"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Thanks for your feedback!" in html
    assert 'href="/help/shipping/track-your-parcel/">Back to the article</a>' in html
    assert ArticleFeedback.objects.get().helpful is True


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"helpful": ""},
        {"helpful": "maybe"},
        {"helpful": "yes", "comment": "x" * 2001},
    ],
)
def test_bad_feedback_is_refused(
    client: Client, help_center: HelpCenter, data: dict[str, Any]
) -> None:
    response = client.post(
        f"/help/feedback/{help_center.track.pk}/", data, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert not ArticleFeedback.objects.exists()


def test_bad_feedback_without_javascript_explains(client: Client, help_center: HelpCenter) -> None:
    response = client.post(f"/help/feedback/{help_center.track.pk}/", {"helpful": "maybe"})

    assert response.status_code == 400
    assert "Please choose Yes or No." in response.content.decode()
    assert not ArticleFeedback.objects.exists()


def test_unknown_locale_in_feedback_falls_back_to_the_default(
    client: Client, help_center: HelpCenter
) -> None:
    client.post(
        f"/help/feedback/{help_center.track.pk}/",
        {"helpful": "yes", "locale": "xx"},
        HTTP_ACCEPT="application/json",
    )

    assert ArticleFeedback.objects.get().locale == "en"


@pytest.mark.parametrize("which", ["draft", "archived"])
def test_no_feedback_on_unpublished_articles(
    client: Client, help_center: HelpCenter, which: str
) -> None:
    article = getattr(help_center, which)

    response = client.post(f"/help/feedback/{article.pk}/", {"helpful": "yes"})

    assert response.status_code == 404
    assert not ArticleFeedback.objects.exists()


def test_cross_site_feedback_is_refused(client: Client, help_center: HelpCenter) -> None:
    response = client.post(
        f"/help/feedback/{help_center.track.pk}/",
        {"helpful": "no"},
        HTTP_ORIGIN="https://evil.test",
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 403
    assert not ArticleFeedback.objects.exists()


def test_same_site_feedback_with_an_origin_is_taken(
    client: Client, help_center: HelpCenter
) -> None:
    response = client.post(
        f"/help/feedback/{help_center.track.pk}/",
        {"helpful": "yes"},
        HTTP_ORIGIN="https://help.shop.test",
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200
    assert ArticleFeedback.objects.count() == 1


def test_feedback_is_rate_limited(
    client: Client, help_center: HelpCenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "FEEDBACK_LIMIT", views.Limit("help-feedback-test", 2, 60))

    codes = [
        client.post(
            f"/help/feedback/{help_center.track.pk}/",
            {"helpful": "yes"},
            HTTP_ACCEPT="application/json",
        ).status_code
        for _ in range(3)
    ]

    assert codes == [200, 200, 429]
    assert ArticleFeedback.objects.count() == 2


def test_feedback_takes_only_posts(client: Client, help_center: HelpCenter) -> None:
    assert client.get(f"/help/feedback/{help_center.track.pk}/").status_code == 405


def test_suggestion_payload_is_plain_json(client: Client, help_center: HelpCenter) -> None:
    response = client.get("/help/suggest/", {"q": "refund"})

    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["results"][0]["url"] == "/help/returns/refund-timing/"
