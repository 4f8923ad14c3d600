"""The deflection funnel: suggestions shown, opened, forms abandoned after opening one, and
forms submitted, counted per article and per form rendering."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from knowledge_base.models import Article, DeflectionEvent
from knowledge_base.portal.services import (
    FunnelCounts,
    funnel_counts,
    read_form_token,
    record_abandoned_funnels,
)
from knowledge_base.portal.tasks import record_abandoned_contact_forms_task
from tests.knowledge_base.portal.conftest import contact_data

SUGGEST = reverse("help:contact-suggestions")


@pytest.fixture
def articles(make_article: Callable[..., Article]) -> dict[str, Article]:
    return {
        "track": make_article("Track your parcel", "Every parcel has a tracking number."),
        "late": make_article("My parcel is late", "Parcels take three to five days."),
        "refund": make_article("Refunds", "Money back within 14 days.", category="returns"),
        "draft": make_article("Parcel secrets", "Draft about parcel.", status="draft"),
    }


def suggest(client: Client, token: str, q: str, **extra: Any) -> Any:
    return client.get(SUGGEST, {"q": q, "t": token, "lang": "en"}, **extra)


def kinds(funnel: str) -> list[tuple[str, int | None]]:
    return sorted(
        DeflectionEvent.objects.filter(funnel=funnel).values_list("kind", "article_id"),
        key=lambda row: (row[0], row[1] or 0),
    )


def test_suggestions_list_published_matches_and_count_each_shown_once(
    client: Client, articles: dict[str, Article], form_token: Callable[..., str]
) -> None:
    token = form_token()
    first = suggest(client, token, "parcel")
    suggest(client, token, "parcel")  # typed again: not counted twice

    body = first.content.decode()
    assert first.status_code == 200
    assert "Track your <mark>parcel</mark>" in body
    assert "My <mark>parcel</mark> is late" in body
    assert "secrets" not in body  # a draft is never suggested
    assert "Refunds" not in body
    funnel = read_form_token(token).funnel  # type: ignore[union-attr]
    assert kinds(funnel) == sorted(
        [("shown", articles["track"].pk), ("shown", articles["late"].pk)]
    )


def test_short_queries_and_forged_tokens_count_nothing(
    client: Client, articles: dict[str, Article], form_token: Callable[..., str]
) -> None:
    assert suggest(client, form_token(), "pa").content.strip() == b""
    forged = suggest(client, "nope", "parcel")

    assert f"/help/contact/open/{articles['track'].pk}/" in forged.content.decode()
    assert DeflectionEvent.objects.count() == 0


def test_search_terms_are_escaped_in_suggestions(
    client: Client, articles: dict[str, Article], form_token: Callable[..., str]
) -> None:
    response = suggest(client, form_token(), '<script>alert(1)</script> parcel"><img>')

    assert b"<script>" not in response.content
    assert b"<img>" not in response.content


def test_suggestions_are_rate_limited_per_ip(
    client: Client, articles: dict[str, Article], form_token: Callable[..., str]
) -> None:
    token = form_token()
    statuses = {suggest(client, token, f"parcel {n}").status_code for n in range(120)}
    assert statuses == {200}

    assert suggest(client, token, "parcel").status_code == 429


def test_opening_a_suggestion_counts_it_and_goes_to_the_article(
    client: Client, articles: dict[str, Article], form_token: Callable[..., str]
) -> None:
    token = form_token()
    response = client.get(
        reverse("help:contact-open", args=[articles["late"].pk]), {"t": token, "lang": "en"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/help/shipping/{articles['late'].slug}/"
    funnel = read_form_token(token).funnel  # type: ignore[union-attr]
    assert kinds(funnel) == [("opened", articles["late"].pk)]


def test_the_open_redirect_only_leads_to_published_articles(
    client: Client, articles: dict[str, Article], form_token: Callable[..., str]
) -> None:
    response = client.get(
        reverse("help:contact-open", args=[articles["draft"].pk]), {"t": form_token()}
    )

    assert response["Location"] == reverse("help:contact")
    assert DeflectionEvent.objects.count() == 0


def test_the_funnel_counts_shown_opened_abandoned_and_submitted_per_article(
    client: Client,
    articles: dict[str, Article],
    mailbox: ChannelAccount,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    track, late = articles["track"], articles["late"]
    # Visitor 1 sees both, opens "late", and leaves: deflected.
    one = form_token()
    suggest(client, one, "parcel")
    client.get(reverse("help:contact-open", args=[late.pk]), {"t": one})
    # Visitor 2 sees both, opens "track", and still writes to us.
    two = form_token()
    suggest(client, two, "parcel")
    client.get(reverse("help:contact-open", args=[track.pk]), {"t": two})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("help:contact"), contact_data(two))
    # Visitor 3 sees only "track" and writes.
    three = form_token()
    suggest(client, three, "track")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("help:contact"), contact_data(three, email="bo@example.com"))

    # Nothing is abandoned until the funnel has been quiet for an hour.
    assert record_abandoned_funnels() == 0
    later = timezone.now() + timedelta(hours=1, minutes=1)
    assert record_abandoned_funnels(now=later) == 1
    assert record_abandoned_funnels(now=later) == 0  # idempotent

    assert funnel_counts() == {
        track.pk: FunnelCounts(shown=3, opened=1, abandoned=0, submitted=2),
        late.pk: FunnelCounts(shown=2, opened=1, abandoned=1, submitted=1),
    }
    # Each submitted row names the ticket the form opened.
    assert DeflectionEvent.objects.filter(kind="submitted", ticket__isnull=True).count() == 0


def test_a_form_submitted_without_suggestions_is_one_submitted_row(
    client: Client,
    mailbox: ChannelAccount,
    form_token: Callable[..., str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("help:contact"), contact_data(form_token()))

    row = DeflectionEvent.objects.get()
    assert (row.kind, row.article_id, row.ticket is not None) == ("submitted", None, True)


def test_the_periodic_task_records_abandoned_forms(
    client: Client, articles: dict[str, Article], form_token: Callable[..., str]
) -> None:
    token = form_token()
    client.get(reverse("help:contact-open", args=[articles["track"].pk]), {"t": token})
    DeflectionEvent.objects.update(created_at=timezone.now() - timedelta(hours=2))

    assert record_abandoned_contact_forms_task.delay().get() == 1
    assert funnel_counts()[articles["track"].pk].abandoned == 1
