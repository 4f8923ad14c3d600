"""The widget's settings and the start endpoint: origins, tokens, the visitor's name and
email, and the rate limit."""

from __future__ import annotations

import json
import time
from typing import Any
from unittest import mock

import pytest
from django.core import signing
from django.test import Client

from channels_inbox.chat import tokens
from channels_inbox.chat.limits import START_LIMIT
from channels_inbox.chat.models import ChatVisitor
from channels_inbox.models import ChannelAccount
from customers.models import Customer, Identity
from customers.services import create_customer
from helpdesk.models import User
from tests.channels_inbox.chat.conftest import (
    CONFIG_URL,
    EVIL,
    SHOP,
    SLUG,
    START_URL,
    new_token,
    start,
)

pytestmark = pytest.mark.django_db


# --- Settings -----------------------------------------------------------------------------


def test_config_gives_the_allowed_site_its_look_and_who_is_online(
    chat_account: ChannelAccount, online_agent: User
) -> None:
    response = Client().get(CONFIG_URL, HTTP_ORIGIN=SHOP)

    assert response.status_code == 200
    assert response.json() == {
        "title": "Shop chat",
        "brand_color": "#0a7d4f",
        "welcome_text": "Hello! Ask us anything.",
        "agents_online": True,
    }
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert response["Vary"] == "Origin"


def test_nobody_is_online_when_the_team_is_away(
    chat_account: ChannelAccount, agent: User, other_agent: User
) -> None:
    """dave is online but not on the account's team; bob is on it but offline."""
    User.objects.filter(pk=other_agent.pk).update(availability=User.Availability.ONLINE)
    User.objects.filter(pk=agent.pk).update(availability=User.Availability.AWAY)

    assert Client().get(CONFIG_URL, HTTP_ORIGIN=SHOP).json()["agents_online"] is False


def test_without_a_team_any_online_agent_counts(
    chat_account: ChannelAccount, other_agent: User
) -> None:
    ChannelAccount.objects.filter(pk=chat_account.pk).update(default_team=None)
    User.objects.filter(pk=other_agent.pk).update(availability=User.Availability.ONLINE)

    assert Client().get(CONFIG_URL, HTTP_ORIGIN=SHOP).json()["agents_online"] is True


@pytest.mark.parametrize("url", [CONFIG_URL, START_URL])
@pytest.mark.parametrize("origin", [EVIL, "null", "https://shop.example.evil.example", ""])
def test_a_foreign_origin_is_refused_without_cors_headers(
    chat_account: ChannelAccount, url: str, origin: str
) -> None:
    headers: dict[str, Any] = {"HTTP_ORIGIN": origin} if origin else {}
    client = Client()
    response = (
        client.get(url, **headers)
        if url == CONFIG_URL
        else client.post(url, "{}", content_type="text/plain", **headers)
    )

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert not ChatVisitor.objects.exists()


@pytest.mark.parametrize(
    "account", [None, {"is_active": False}, {"kind": "telegram"}], ids=["unknown", "off", "kind"]
)
def test_an_account_that_is_not_a_live_chat_is_not_found(
    chat_account: ChannelAccount, account: dict[str, Any] | None
) -> None:
    if account is not None:
        ChannelAccount.objects.filter(pk=chat_account.pk).update(**account)
    url = START_URL if account is not None else "/chat/no-such-chat/start/"

    response = Client().post(url, "{}", content_type="text/plain", HTTP_ORIGIN=SHOP)

    assert response.status_code == 404


def test_preflight_is_answered_for_the_allowed_origin_only(chat_account: ChannelAccount) -> None:
    allowed = Client().options(START_URL, HTTP_ORIGIN=SHOP)
    foreign = Client().options(START_URL, HTTP_ORIGIN=EVIL)

    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == SHOP
    assert allowed["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert foreign.status_code == 403
    assert "Access-Control-Allow-Origin" not in foreign


# --- Tokens -------------------------------------------------------------------------------


def test_a_new_visitor_gets_a_token_and_where_to_connect(chat_account: ChannelAccount) -> None:
    response = start()

    assert response.status_code == 200
    body = response.json()
    assert tokens.read_visitor_token(chat_account.pk, body["token"]) is not None
    assert body | {"token": "…"} == {
        "token": "…",
        "name": "",
        "email": "",
        "agents_online": False,
        "socket_path": f"/ws/chat/{SLUG}/",
        "upload_path": f"/chat/{SLUG}/upload/",
        "max_upload_bytes": 10 * 1024 * 1024,
        "upload_types": [
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "application/pdf",
            "text/plain",
        ],
        "ping_seconds": 25,
    }
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert response["Cache-Control"] == "no-store"
    # A page view creates no rows.
    assert not ChatVisitor.objects.exists()
    assert not Customer.objects.exists()


def test_resuming_keeps_the_visitor_and_renews_the_token(chat_account: ChannelAccount) -> None:
    first = new_token()
    visitor_id = tokens.read_visitor_token(chat_account.pk, first)

    with mock.patch("django.core.signing.time.time", return_value=time.time() + 60):
        second = new_token(token=first)

    assert second != first
    assert tokens.read_visitor_token(chat_account.pk, second) == visitor_id


def tampered(token: str) -> str:
    value, _, signature = token.rpartition(":")
    return f"{value}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


def test_tampered_expired_or_foreign_tokens_are_refused(
    chat_account: ChannelAccount, support_team: Any
) -> None:
    good = new_token()
    other_account = ChannelAccount.objects.create(
        kind="chat", name="Other shop", slug="other-chat", options={"allowed_origins": [SHOP]}
    )
    foreign = tokens.issue_visitor_token(other_account.pk, tokens.new_visitor_id())
    forged = signing.dumps({"a": chat_account.pk, "v": tokens.new_visitor_id()}, salt="other")
    issued_long_ago = time.time() - tokens.VISITOR_TOKEN_MAX_AGE.total_seconds() - 5
    with mock.patch("django.core.signing.time.time", return_value=issued_long_ago):
        expired = tokens.issue_visitor_token(chat_account.pk, tokens.new_visitor_id())

    for token in [tampered(good), foreign, forged, expired, "", "x" * 600, 42]:
        response = start(token=token)
        assert response.status_code == 401, token
        assert response.json() == {"error": "The chat session has expired.", "field": "token"}
    assert start(token=good).status_code == 200


# --- Name and email -----------------------------------------------------------------------


def test_name_and_email_make_the_visitor_a_customer_with_an_email_identity(
    chat_account: ChannelAccount,
) -> None:
    token = new_token()
    visitor_id = tokens.read_visitor_token(chat_account.pk, token)

    response = start(token=token, name="  Lena   Fischer ", email="Lena@Example.com ")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["email"]) == (
        "Lena Fischer",
        "lena@example.com",
    )
    customer = Customer.objects.get()
    assert (customer.name, customer.email) == ("Lena Fischer", "lena@example.com")
    assert sorted(customer.identities.values_list("kind", "address")) == [
        ("chat", visitor_id),
        ("email", "lena@example.com"),
    ]
    visitor = ChatVisitor.objects.get()
    assert (visitor.visitor_id, visitor.name, visitor.email, visitor.channel_account) == (
        visitor_id,
        "Lena Fischer",
        "lena@example.com",
        chat_account,
    )


def test_a_second_address_is_added_and_the_first_stays_preferred(
    chat_account: ChannelAccount,
) -> None:
    token = new_token(email="lena@example.com")

    start(token=token, email="lena.work@example.com")

    customer = Customer.objects.get()
    assert customer.email == "lena@example.com"
    assert sorted(customer.identities.filter(kind="email").values_list("address", flat=True)) == [
        "lena.work@example.com",
        "lena@example.com",
    ]
    assert ChatVisitor.objects.get().email == "lena.work@example.com"


def test_an_email_another_customer_has_is_kept_apart_never_merged(
    chat_account: ChannelAccount,
) -> None:
    """Anyone can type an address: it must not join, or reveal, that customer's record."""
    ana = create_customer(name="Ana Souza", email="ana@example.com")
    token = new_token()

    response = start(token=token, email="ana@example.com")

    assert response.status_code == 200
    visitor_customer = Identity.objects.get(kind="chat").customer
    assert visitor_customer != ana
    assert visitor_customer.email == ""
    assert list(Identity.objects.filter(kind="email").values_list("customer", flat=True)) == [
        ana.pk
    ]
    assert ChatVisitor.objects.get().email == "ana@example.com"


def test_an_agents_name_for_the_customer_is_kept(chat_account: ChannelAccount) -> None:
    token = new_token(name="Lena")
    Customer.objects.update(name="Lena Fischer (VIP)")

    start(token=token, name="L.")

    assert Customer.objects.get().name == "Lena Fischer (VIP)"
    assert ChatVisitor.objects.get().name == "L."


@pytest.mark.parametrize(
    ("body", "error", "field"),
    [
        ({"email": "not-an-address"}, "That is not an email address.", "email"),
        ({"email": 42}, "The email address must be text.", "email"),
        ({"name": ["Lena"]}, "The name must be text.", "name"),
        ({"name": "L" * 101}, "Names are at most 100 characters.", "name"),
    ],
)
def test_bad_details_are_refused_naming_the_field(
    chat_account: ChannelAccount, body: dict[str, Any], error: str, field: str
) -> None:
    response = start(**body)

    assert response.status_code == 400
    assert response.json() == {"error": error, "field": field}
    assert not ChatVisitor.objects.exists()
    assert not Customer.objects.exists()


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_refused(
    chat_account: ChannelAccount, body: bytes
) -> None:
    response = Client().post(START_URL, body, content_type="text/plain", HTTP_ORIGIN=SHOP)

    assert response.status_code == 400
    assert response.json() == {"error": "Send a JSON object."}


def test_an_oversized_body_is_refused(chat_account: ChannelAccount) -> None:
    body = json.dumps({"name": "L" * 5000})

    response = Client().post(START_URL, body, content_type="text/plain", HTTP_ORIGIN=SHOP)

    assert response.status_code == 413
    assert not Customer.objects.exists()


def test_wrong_methods_are_refused(chat_account: ChannelAccount) -> None:
    assert Client().get(START_URL, HTTP_ORIGIN=SHOP).status_code == 405
    assert Client().post(CONFIG_URL, HTTP_ORIGIN=SHOP).status_code == 405


# --- Rate limit ---------------------------------------------------------------------------


def test_starts_from_one_address_are_rate_limited(chat_account: ChannelAccount) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [start(client).status_code for _ in range(START_LIMIT.amount)]

    refused = start(client)

    assert statuses == [200] * START_LIMIT.amount
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert refused["Access-Control-Allow-Origin"] == SHOP  # so the widget can say why
    # Another address still gets in.
    assert start(Client(REMOTE_ADDR="203.0.113.8")).status_code == 200
