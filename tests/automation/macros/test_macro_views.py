"""The macro picker on the ticket page, the settings pages and the REST API."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from automation.macros.services import save_macro
from automation.models import AutoAcknowledgement, Macro
from channels_inbox.models import ChannelAccount
from customers.models import Order
from helpdesk.models import User
from tests.conftest import api_client_for
from tickets.models import Ticket, TicketActivity

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def shared(db: None) -> Macro:
    return save_macro(
        Macro(
            name="Tracking link",
            body="Hi {{ customer.first_name }}, here it is: {{ order.tracking_url }}",
            add_tags=["wismo"],
            set_status=Ticket.Status.PENDING,
        )
    )


@pytest.fixture
def carols(teammate: User) -> Macro:
    return save_macro(Macro(name="Carol's secret", owner=teammate, body="Carol here"))


# --- The picker ----------------------------------------------------------------------------


def test_the_ticket_page_has_the_picker(agent: User, ticket: Ticket) -> None:
    response = client_for(agent).get(reverse("tickets:ticket", args=[ticket.number]))

    assert response.status_code == 200
    assert b"data-macro-picker" in response.content
    assert reverse("tickets:macro-list", args=[ticket.number]).encode() in response.content


def test_the_list_offers_shared_and_own_active_macros(
    agent: User, ticket: Ticket, shared: Macro, carols: Macro
) -> None:
    bobs = save_macro(Macro(name="Bob's", owner=agent))
    save_macro(Macro(name="Retired", is_active=False))

    response = client_for(agent).get(reverse("tickets:macro-list", args=[ticket.number]))

    assert response.status_code == 200
    assert [m.pk for m in response.context["macros"]] == [bobs.pk, shared.pk]
    assert b"Carol" not in response.content


def test_preview_renders_body_and_actions_without_changing_the_ticket(
    agent: User, ticket: Ticket, order: Order, shared: Macro
) -> None:
    url = reverse("tickets:macro-preview", args=[ticket.number, shared.pk])

    response = client_for(agent).get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Hi Ana, here it is: https://track.test/JD01" in html
    assert "Add tags: wismo" in html
    assert "Set status to Pending" in html
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
    assert not TicketActivity.objects.filter(verb=TicketActivity.Verb.MACRO_APPLIED).exists()


def test_preview_escapes_customer_data(agent: User, ticket: Ticket, shared: Macro) -> None:
    customer = ticket.customer
    customer.name = "<script>alert(1)</script>"
    customer.save()

    response = client_for(agent).get(
        reverse("tickets:macro-preview", args=[ticket.number, shared.pk])
    )

    assert b"<script>alert(1)" not in response.content
    assert b"&lt;script&gt;alert(1)" in response.content


def test_apply_runs_the_actions_and_returns_the_body(
    agent: User, ticket: Ticket, order: Order, shared: Macro
) -> None:
    url = reverse("tickets:macro-apply", args=[ticket.number, shared.pk])

    response = client_for(agent).post(url, HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json() == {
        "body": "Hi Ana, here it is: https://track.test/JD01",
        "actions": ["Add tags: wismo", "Set status to Pending"],
        "summary": "Applied “Tracking link”: Add tags: wismo; Set status to Pending",
    }
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.status == "pending"
    assert list(fresh.tags.values_list("name", flat=True)) == ["wismo"]
    assert not fresh.messages.filter(direction="outbound").exists()


def test_a_plain_form_post_goes_back_to_the_ticket(
    agent: User, ticket: Ticket, shared: Macro
) -> None:
    url = reverse("tickets:macro-apply", args=[ticket.number, shared.pk])

    response = client_for(agent).post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:ticket", args=[ticket.number])


def test_apply_refused_by_the_ticket_is_a_409_and_changes_nothing(
    agent: User, ticket: Ticket, shared: Macro
) -> None:
    from tickets.services import merge_tickets, open_ticket

    target = open_ticket(customer=ticket.customer, channel="email")
    merge_tickets(ticket, target, actor=agent)
    url = reverse("tickets:macro-apply", args=[ticket.number, shared.pk])

    response = client_for(agent).post(url, HTTP_ACCEPT="application/json")

    assert response.status_code == 409
    assert "merged" in response.json()["error"]
    assert not Ticket.objects.get(pk=ticket.pk).tags.exists()


def test_someone_else_s_personal_macro_is_a_404(agent: User, ticket: Ticket, carols: Macro) -> None:
    client = client_for(agent)
    preview = client.get(reverse("tickets:macro-preview", args=[ticket.number, carols.pk]))
    apply = client.post(
        reverse("tickets:macro-apply", args=[ticket.number, carols.pk]),
        HTTP_ACCEPT="application/json",
    )

    assert (preview.status_code, apply.status_code) == (404, 404)
    carols.refresh_from_db()
    assert carols.usage_count == 0


def test_apply_is_post_only_and_for_signed_in_agents(ticket: Ticket, shared: Macro) -> None:
    url = reverse("tickets:macro-apply", args=[ticket.number, shared.pk])

    anonymous = Client().post(url)

    assert anonymous.status_code == 302
    assert "/login" in anonymous["Location"] or "login" in anonymous["Location"]
    assert not Ticket.objects.get(pk=ticket.pk).tags.exists()


def test_unknown_ticket_or_macro_is_a_404(agent: User, ticket: Ticket, shared: Macro) -> None:
    client = client_for(agent)
    assert client.get(reverse("tickets:macro-list", args=[999999])).status_code == 404
    assert (
        client.get(reverse("tickets:macro-preview", args=[ticket.number, 999999])).status_code
        == 404
    )


# --- Settings pages ------------------------------------------------------------------------


def test_an_agent_creates_a_personal_macro(agent: User) -> None:
    response = client_for(agent).post(
        reverse("settings:macro-create"),
        {
            "name": "My thanks",
            "body": "Thanks {{ customer.first_name }}! {{ agent.name }}",
            "add_tags": "thanks, Polite",
            "remove_tags": "",
            "assign": "me",
            "is_active": "on",
            "scope": "shared",  # ignored: agents cannot share
        },
    )

    assert response.status_code == 302
    macro = Macro.objects.get()
    assert (macro.owner, macro.add_tags, macro.assign) == (agent, ["thanks", "polite"], "me")


def test_an_unknown_variable_is_shown_as_a_field_error(agent: User) -> None:
    response = client_for(agent).post(
        reverse("settings:macro-create"),
        {"name": "Bad", "body": "Hi {{ customer.__class__.__mro__ }}", "is_active": "on"},
    )

    assert response.status_code == 400
    assert "“{{ customer.__class__.__mro__ }}” is not a variable" in (
        " ".join(response.context["form"].errors["body"])
    )
    assert not Macro.objects.exists()


def test_an_admin_creates_a_shared_macro(admin: User) -> None:
    response = client_for(admin).post(
        reverse("settings:macro-create"),
        {"name": "Shared one", "body": "", "scope": "shared", "is_active": "on"},
    )

    assert response.status_code == 302
    assert Macro.objects.get().owner is None


def test_duplicate_names_are_a_form_error(admin: User, shared: Macro) -> None:
    response = client_for(admin).post(
        reverse("settings:macro-create"),
        {"name": shared.name, "body": "", "scope": "shared", "is_active": "on"},
    )

    assert response.status_code == 400
    assert Macro.objects.count() == 1


def test_the_list_shows_shared_and_own_but_not_others(
    agent: User, shared: Macro, carols: Macro
) -> None:
    response = client_for(agent).get(reverse("settings:macros"))

    assert response.status_code == 200
    assert b"Tracking link" in response.content
    assert b"Carol" not in response.content
    assert reverse("settings:macro-edit", args=[shared.pk]).encode() not in response.content


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_agents_cannot_change_shared_macros(agent: User, shared: Macro, action: str) -> None:
    url = reverse(f"settings:macro-{action}", args=[shared.pk])
    response = client_for(agent).post(url, {"name": "Hijacked", "body": ""})

    assert response.status_code == 403
    shared.refresh_from_db()
    assert shared.name == "Tracking link"


def test_nobody_opens_another_agent_s_macro(admin: User, carols: Macro) -> None:
    client = client_for(admin)
    assert client.get(reverse("settings:macro-edit", args=[carols.pk])).status_code == 404
    assert client.post(reverse("settings:macro-delete", args=[carols.pk])).status_code == 404
    assert Macro.objects.filter(pk=carols.pk).exists()


def test_an_agent_deletes_their_own_macro(agent: User) -> None:
    mine = save_macro(Macro(name="Mine", owner=agent))

    response = client_for(agent).post(reverse("settings:macro-delete", args=[mine.pk]))

    assert response.status_code == 302
    assert not Macro.objects.exists()


def test_auto_acknowledgement_pages_are_for_admins(
    agent: User, admin: User, email_account: ChannelAccount
) -> None:
    url = reverse("settings:auto-acknowledgement-edit", args=[email_account.pk])
    assert client_for(agent).get(reverse("settings:auto-acknowledgements")).status_code == 403
    assert client_for(agent).post(url, {"enabled": "on"}).status_code == 403
    assert client_for(admin).get(reverse("settings:auto-acknowledgements")).status_code == 200
    assert not AutoAcknowledgement.objects.exists()


def test_an_admin_sets_up_an_acknowledgement(admin: User, email_account: ChannelAccount) -> None:
    url = reverse("settings:auto-acknowledgement-edit", args=[email_account.pk])
    fields = {
        "enabled": "on",
        "body": "We reply {{ expected_reply }}.",
        "business_hours": "",
        "expected_reply_minutes": "60",
        "period_hours": "12",
    }

    bad = client_for(admin).post(url, {**fields, "body": "{{ order.customer.email }}"})
    good = client_for(admin).post(url, fields)

    assert bad.status_code == 400
    assert "body" in bad.context["form"].errors
    assert good.status_code == 302
    ack = AutoAcknowledgement.objects.get()
    assert (ack.channel_account, ack.expected_reply_minutes, ack.period_hours) == (
        email_account,
        60,
        12,
    )


# --- REST API ------------------------------------------------------------------------------


def test_the_api_is_for_admins(agent: User, shared: Macro) -> None:
    client = api_client_for(agent)
    assert client.get("/api/v1/macros/").status_code == 403
    assert client.post("/api/v1/macros/", {"name": "x"}, format="json").status_code == 403
    assert Macro.objects.count() == 1


def test_the_api_lists_shared_and_the_admin_s_own(
    admin: User, shared: Macro, carols: Macro
) -> None:
    own = save_macro(Macro(name="Alice's", owner=admin))

    response = api_client_for(admin).get("/api/v1/macros/")

    assert response.status_code == 200
    rows = {row["name"]: row["shared"] for row in response.json()["results"]}
    assert rows == {"Alice's": False, "Tracking link": True}
    assert own.pk in [row["id"] for row in response.json()["results"]]


def test_the_api_creates_and_validates(admin: User) -> None:
    client = api_client_for(admin)

    bad = client.post(
        "/api/v1/macros/", {"name": "Bad", "body": "{% load static %}"}, format="json"
    )
    good = client.post(
        "/api/v1/macros/",
        {"name": "Good", "body": "Hi {{ customer.name }}", "add_tags": ["A"], "shared": False},
        format="json",
    )

    assert bad.status_code == 400
    assert "tags ({% … %}) are not allowed" in bad.json()["body"][0]
    assert good.status_code == 201
    assert good.json()["shared"] is False
    assert good.json()["add_tags"] == ["a"]
    assert Macro.objects.get().owner == admin


def test_the_api_updates_and_deletes(admin: User, shared: Macro, carols: Macro) -> None:
    client = api_client_for(admin)

    patched = client.patch(f"/api/v1/macros/{shared.pk}/", {"set_priority": "high"}, format="json")
    hidden = client.patch(f"/api/v1/macros/{carols.pk}/", {"name": "x"}, format="json")
    deleted = client.delete(f"/api/v1/macros/{shared.pk}/")

    assert patched.status_code == 200
    assert patched.json()["set_priority"] == "high"
    assert patched.json()["shared"] is True
    assert hidden.status_code == 404
    assert deleted.status_code == 204
    assert list(Macro.objects.all()) == [carols]
