"""A small published help center: shipping (English and German, in two sections) and
returns (English only), with a draft and an archived article that must never show.

alice (admin) and bob (agent) are the suite's actors; bob writes the articles.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from helpdesk import ratelimits
from helpdesk.models import User
from knowledge_base import services
from knowledge_base.models import Article, Category
from tests.caches import clear_cache


@dataclass
class HelpCenter:
    shipping: Category
    returns: Category
    track: Article  # en + de, section "delivery"
    costs: Article  # en + de, section "delivery"
    customs: Article  # en only, section "abroad"
    refund: Article  # en only, category returns, no section
    draft: Article
    archived: Article


@pytest.fixture(autouse=True)
def _fresh_cache_and_limits(settings: Any) -> Iterator[None]:
    settings.HELP_CENTER_LOCALES = ["en", "de"]
    settings.HELP_CENTER_DEFAULT_LOCALE = "en"
    settings.PUBLIC_BASE_URL = "https://help.shop.test"
    settings.HELP_CENTER_NAME = "Acme Outdoor Help"
    clear_cache()
    ratelimits.reset()
    yield
    clear_cache()
    ratelimits.reset()


@pytest.fixture
def help_center(agent: User, django_capture_on_commit_callbacks: Any) -> HelpCenter:
    with django_capture_on_commit_callbacks(execute=True):
        shipping = services.save_category(
            "shipping",
            names={
                "en": ("Shipping", "Delivery times, costs and tracking"),
                "de": ("Versand", "Lieferzeiten, Kosten und Sendungsverfolgung"),
            },
            position=1,
        )
        returns = services.save_category(
            "returns", names={"en": ("Returns and refunds", "Send something back")}, position=2
        )
        delivery = services.save_section(
            shipping, "delivery", names={"en": "Delivery", "de": "Zustellung"}, position=1
        )
        abroad = services.save_section(shipping, "abroad", names={"en": "Abroad"}, position=2)

        def article(
            slug: str,
            category: Category,
            title: str,
            body: str,
            *,
            summary: str = "",
            section: Any = None,
            german: tuple[str, str, str] | None = None,
            status: str = "published",
            position: int = 0,
        ) -> Article:
            created = services.create_article(
                category=category,
                slug=slug,
                author=agent,
                locale="en",
                title=title,
                summary=summary,
                body_markdown=body,
                section=section,
                position=position,
            )
            if german:
                services.save_translation(
                    created,
                    locale="de",
                    title=german[0],
                    summary=german[1],
                    body_markdown=german[2],
                    author=agent,
                )
            if status == "published":
                services.publish_article(created, actor=agent)
            elif status == "archived":
                services.publish_article(created, actor=agent)
                services.archive_article(created, actor=agent)
            created.refresh_from_db()
            return created

        track = article(
            "track-your-parcel",
            shipping,
            "Track your parcel",
            "Open the **tracking link** in your shipping confirmation email.",
            summary="Where your parcel is right now.",
            section=delivery,
            german=(
                "Sendung verfolgen",
                "Wo Ihr Paket gerade ist.",
                "Öffnen Sie den Link zur Sendungsverfolgung in der Versandbestätigung.",
            ),
            position=1,
        )
        costs = article(
            "shipping-costs",
            shipping,
            "Shipping costs",
            "Shipping is free above 50 euros; below, a parcel costs 4.90.",
            summary="What delivery costs.",
            section=delivery,
            german=("Versandkosten", "Was die Lieferung kostet.", "Ab 50 Euro versandkostenfrei."),
            position=2,
        )
        customs = article(
            "customs-fees",
            shipping,
            "Customs fees abroad",
            "Parcels shipped outside the EU may owe customs fees on delivery.",
            summary="Fees on parcels leaving the EU.",
            section=abroad,
        )
        refund = article(
            "refund-timing",
            returns,
            "When do I get my refund?",
            "Refunds reach your account within 5 days of your return arriving.",
            summary="How long refunds take.",
        )
        draft = article(
            "secret-draft",
            shipping,
            "Secret draft about shipping",
            "Internal plan: shipping prices go up.",
            section=delivery,
            status="draft",
        )
        archived = article(
            "old-archived",
            shipping,
            "Old archived shipping rules",
            "Shipping used to be slow.",
            section=delivery,
            status="archived",
        )
    return HelpCenter(shipping, returns, track, costs, customs, refund, draft, archived)
