"""The ticket composer's article search: agents only, published articles only, links in the
customer's locale with the default locale's page as the fallback."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from customers.models import Customer
from helpdesk.models import User
from knowledge_base.models import Article
from knowledge_base.portal.contact import customer_locale
from tickets.models import Ticket

URL = reverse("help:composer-articles")


@pytest.fixture
def articles(make_article: Callable[..., Article]) -> dict[str, Article]:
    return {
        "returns": make_article(
            "Return an item",
            "How to return an item.",
            translations={"de": "Artikel zurücksenden"},
        ),
        "parcel": make_article("Return label for your parcel", "Print a return label."),
        "draft": make_article("Return secrets", "Draft.", status="draft"),
    }


def test_anonymous_visitors_are_refused(
    client: Client, articles: dict[str, Article], ticket: Ticket
) -> None:
    response = client.get(URL, {"q": "return", "ticket": str(ticket.number)})

    assert response.status_code == 403
    assert "results" not in response.json()


def test_a_deactivated_agent_is_refused(
    client: Client, articles: dict[str, Article], inactive_agent: User
) -> None:
    client.force_login(inactive_agent)
    response = client.get(URL, {"q": "return"})

    assert response.status_code in (302, 403)


def test_agents_get_published_articles_in_the_customers_locale_with_a_fallback(
    client: Client, agent: User, articles: dict[str, Article], ticket: Ticket
) -> None:
    Customer.objects.filter(pk=ticket.customer_id).update(locale="de-AT")
    client.force_login(agent)

    data = client.get(URL, {"q": "return", "ticket": str(ticket.number)}).json()

    assert data["locale"] == "de"
    by_id = {row["id"]: row for row in data["results"]}
    assert articles["draft"].pk not in by_id
    translated = by_id[articles["returns"].pk]
    assert translated["locale"] == "de"
    assert translated["url"] == (
        f"{settings.PUBLIC_BASE_URL}/help/de/shipping/{articles['returns'].slug}/"
    )
    fallback = by_id[articles["parcel"].pk]
    assert fallback["locale"] == "en"
    assert fallback["url"].endswith(f"/help/shipping/{articles['parcel'].slug}/")


def test_an_empty_query_finds_nothing(client: Client, agent: User) -> None:
    client.force_login(agent)

    assert client.get(URL, {"q": "  "}).json()["results"] == []


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("de", "de"), ("de-AT", "de"), ("pt-BR", "en"), ("", "en"), ("DE_ch", "de")],
)
def test_customer_locale_picks_a_supported_one(db: None, locale: str, expected: str) -> None:
    assert customer_locale(Customer(locale=locale)) == expected


def test_without_a_ticket_the_default_locale_is_used(
    client: Client, agent: User, articles: dict[str, Article]
) -> None:
    client.force_login(agent)

    data = client.get(URL, {"q": "return", "ticket": "nope"}).json()

    assert data["locale"] == "en"
    assert {row["locale"] for row in data["results"]} == {"en"}
