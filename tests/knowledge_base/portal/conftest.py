"""Fixtures of the contact form and portal tests: published articles, the support mailbox
(sending to a real SMTP sink), and rate-limit counts that do not leak between tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from channels_inbox.models import ChannelAccount
from helpdesk import ratelimits
from helpdesk.models import Team, User
from knowledge_base.models import Article, ArticleTranslation, Category
from knowledge_base.portal.services import make_form_token
from tests.caches import clear_cache
from tests.channels_inbox.email_adapter.conftest import Sink, smtp_sink  # noqa: F401

ACCOUNT = "support@acme.test"


@pytest.fixture(autouse=True)
def _no_counts_left() -> Iterator[None]:
    clear_cache()
    ratelimits.reset()
    yield
    ratelimits.reset()
    clear_cache()


@pytest.fixture
def mailbox(smtp_sink: Sink, support_team: Team) -> ChannelAccount:  # noqa: F811
    """The support mailbox; what it sends reaches ``smtp_sink``."""
    return ChannelAccount.objects.create(
        kind="email",
        name="Acme Support",
        slug="acme-support",
        address=ACCOUNT,
        credentials={
            "smtp_host": smtp_sink.host,
            "smtp_port": smtp_sink.port,
            "smtp_security": "none",
        },
        default_team=support_team,
    )


@pytest.fixture
def writer(db: None) -> User:
    return User.objects.create_user("wendy", "wendy@shop.test", "pw", display_name="Wendy")


@pytest.fixture
def make_article(writer: User) -> Callable[..., Article]:
    counter = {"n": 0}

    def make(
        title: str,
        body: str = "",
        *,
        status: str = Article.Status.PUBLISHED,
        translations: dict[str, str] | None = None,
        category: str = "shipping",
    ) -> Article:
        counter["n"] += 1
        found, _ = Category.objects.get_or_create(slug=category)
        article = Article.objects.create(
            category=found,
            slug=f"article-{counter['n']}",
            status=status,
            author=writer,
        )
        for locale, text in {"en": title, **(translations or {})}.items():
            ArticleTranslation.objects.create(
                article=article,
                locale=locale,
                title=text,
                summary=text,
                body_markdown=body,
                body_html=f"<p>{body}</p>",
                body_text=body,
            )
        return article

    return make


@pytest.fixture
def form_token() -> Callable[..., str]:
    """A contact form token rendered ``seconds_ago``."""

    def make(seconds_ago: float = 30) -> str:
        return make_form_token(now=time.time() - seconds_ago)

    return make


def contact_data(token: str, **overrides: Any) -> dict[str, str]:
    data = {
        "name": "Ana Souza",
        "email": "ana@example.com",
        "subject": "Parcel never arrived",
        "message": "Hello, my parcel for order 1042 never arrived.",
        "order_number": "",
        "website": "",
        "token": token,
    }
    data.update(overrides)
    return data
