"""The rules API and settings pages: admins only, strict validation with field errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from automation.models import Rule
from helpdesk.models import Team, User
from tests.conftest import api_client_for

GOOD = {
    "name": "VIP first",
    "trigger": "ticket_created",
    "conditions": {"all": [{"field": "customer_tags", "op": "any_of", "value": ["VIP"]}]},
    "actions": [{"type": "set_priority", "priority": "urgent"}],
}


def test_admin_creates_lists_and_updates_rules(admin_client_api: APIClient) -> None:
    response = admin_client_api.post("/api/v1/rules/", GOOD, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["conditions"] == {
        "all": [{"field": "customer_tags", "op": "any_of", "value": ["vip"]}]
    }
    assert body["active"] is False
    assert len(body["webhook_secret"]) == 64
    rule = Rule.objects.get()
    assert rule.created_by is not None
    assert rule.created_by.username == "alice"
    listing = admin_client_api.get("/api/v1/rules/").json()
    assert [item["name"] for item in listing["results"]] == ["VIP first"]
    patched = admin_client_api.patch(
        f"/api/v1/rules/{rule.pk}/", {"active": True, "stop_processing": True}, format="json"
    )
    assert patched.status_code == 200
    rule.refresh_from_db()
    assert (rule.active, rule.stop_processing) == (True, True)


BAD_INPUTS: list[tuple[dict[str, Any], str, str]] = [
    (
        {"conditions": {"all": [{"field": "colour", "op": "in", "value": ["red"]}]}},
        "conditions",
        "unknown field 'colour'",
    ),
    (
        {"conditions": {"all": [{"field": "priority", "op": "contains", "value": "x"}]}},
        "conditions",
        "Priority has no operator 'contains'",
    ),
    (
        {"conditions": {"all": [{"field": "priority", "op": "in", "value": ["sky-high"]}]}},
        "conditions",
        "unknown value 'sky-high'",
    ),
    (
        {"conditions": {"all": [{"field": "subject", "op": "matches", "value": "(a+)+$"}]}},
        "conditions",
        "repeats a repeated group",
    ),
    (
        {"conditions": {"all": [{"field": "subject", "op": "matches", "value": "([a-z"}]}},
        "conditions",
        "does not compile",
    ),
    (
        {"conditions": {"all": [{"field": "subject", "op": "matches", "value": "a" * 201}]}},
        "conditions",
        "longer than 200 characters",
    ),
    ({"conditions": {"every": []}}, "conditions", "a group is"),
    (
        {"conditions": {"all": [{"field": "team", "op": "in", "value": [999999]}]}},
        "conditions",
        "no team with id 999999",
    ),
    (
        {"conditions": {"all": [{"field": "order_total", "op": "gt", "value": "lots"}]}},
        "conditions",
        "is not a number",
    ),
    ({"actions": []}, "actions", "at least one action"),
    ({"actions": [{"type": "launch_rocket"}]}, "actions", "unknown action 'launch_rocket'"),
    (
        {"actions": [{"type": "set_status", "status": "sleeping"}]},
        "actions",
        "unknown status 'sleeping'",
    ),
    (
        {"actions": [{"type": "assign_agent", "agent": 424242}]},
        "actions",
        "no agent with id 424242",
    ),
    (
        {"actions": [{"type": "webhook", "url": "ftp://example.com/x"}]},
        "actions",
        "must start with http",
    ),
    (
        {"actions": [{"type": "set_status", "status": "open", "colour": "red"}]},
        "actions",
        "unknown keys colour",
    ),
    ({"trigger": "full_moon"}, "trigger", ""),
    ({"trigger": "ticket_updated", "trigger_fields": ["mood"]}, "trigger_fields", "'mood'"),
    (
        {
            "trigger": "time_based",
            "time_basis": "status_for",
            "time_status": "closed",
            "time_minutes": 10,
        },
        "time_status",
        "not closed",
    ),
    (
        {"trigger": "time_based", "time_basis": "unassigned_for", "time_minutes": 0},
        "time_minutes",
        "",
    ),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_INPUTS)
def test_bad_definitions_are_400_with_field_errors(
    admin_client_api: APIClient, change: dict[str, Any], field: str, message: str
) -> None:
    response = admin_client_api.post("/api/v1/rules/", {**GOOD, **change}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Rule.objects.exists()


@pytest.mark.parametrize("who", ["agent", "anonymous"])
def test_only_admins_use_the_api(who: str, agent: User, db: None) -> None:
    client = api_client_for(agent if who == "agent" else None)
    expected = 403 if who == "agent" else 401
    assert client.get("/api/v1/rules/").status_code == expected
    assert client.post("/api/v1/rules/", GOOD, format="json").status_code == expected
    assert not Rule.objects.exists()


def test_api_simulates_an_unsaved_rule(admin_client_api: APIClient, make_ticket: Any) -> None:
    ticket = make_ticket(subject="Refund please")
    response = admin_client_api.post(
        "/api/v1/rules/simulate/",
        {
            **GOOD,
            "conditions": {"all": [{"field": "subject", "op": "contains", "value": "refund"}]},
        },
        format="json",
    )
    assert response.status_code == 200
    data = response.json()
    assert [match["number"] for match in data["matches"]] == [ticket.number]
    assert data["matches"][0]["actions"] == ["would set priority to Urgent"]
    assert not Rule.objects.exists()


# --- Settings pages ---------------------------------------------------------------------------


@pytest.fixture
def admin_browser(admin: User) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def _post_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Urgent words",
        "description": "",
        "trigger": "customer_message",
        "conditions": json.dumps(
            {"any": [{"field": "body", "op": "contains", "value": "chargeback"}]}
        ),
        "actions": json.dumps([{"type": "set_priority", "priority": "urgent"}]),
        "save": "1",
    }
    data.update(overrides)
    return data


def test_admin_creates_a_rule_on_the_settings_page(admin_browser: Client) -> None:
    page = admin_browser.get(reverse("settings:rule-create"))
    assert page.status_code == 200
    assert b'id="rule-schema"' in page.content
    response = admin_browser.post(reverse("settings:rule-create"), _post_data())
    rule = Rule.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("settings:rule", args=[rule.pk])
    assert rule.conditions == {"any": [{"field": "body", "op": "contains", "value": "chargeback"}]}
    listing = admin_browser.get(reverse("settings:rules"))
    assert b"Urgent words" in listing.content


def test_the_form_shows_schema_errors_and_saves_nothing(admin_browser: Client) -> None:
    response = admin_browser.post(
        reverse("settings:rule-create"),
        _post_data(actions=json.dumps([{"type": "set_priority", "priority": "whenever"}])),
    )
    assert response.status_code == 400
    assert "unknown priority &#x27;whenever&#x27;" in response.content.decode()
    response = admin_browser.post(reverse("settings:rule-create"), _post_data(conditions="{oops"))
    assert response.status_code == 400
    assert b"Enter a valid JSON" in response.content
    assert not Rule.objects.exists()


def test_simulate_button_shows_matches_without_saving(
    admin_browser: Client, make_ticket: Any
) -> None:
    ticket = make_ticket(subject="Chargeback threat", text="I will file a chargeback")
    response = admin_browser.post(
        reverse("settings:rule-create"),
        _post_data(save="", simulate="1"),
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert f"#{ticket.number}" in content
    assert "would set priority to Urgent" in content
    assert not Rule.objects.exists()


def test_toggle_and_move(admin_browser: Client, make_rule: Any) -> None:
    first = make_rule(name="first", active=False)
    second = make_rule(name="second")
    admin_browser.post(reverse("settings:rule-toggle", args=[first.pk]), {"active": "1"})
    admin_browser.post(reverse("settings:rule-move", args=[second.pk]), {"direction": "up"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.active is True
    assert (second.position, first.position) == (0, 1)
    bad = admin_browser.post(reverse("settings:rule-move", args=[second.pk]), {"direction": "x"})
    assert bad.status_code == 400


@pytest.mark.parametrize("url_name", ["settings:rules", "settings:rule-create"])
def test_agents_get_403_on_the_pages(agent: User, url_name: str) -> None:
    client = Client()
    client.force_login(agent)
    assert client.get(reverse(url_name)).status_code == 403
    assert client.post(reverse("settings:rule-create"), _post_data()).status_code == 403
    assert not Rule.objects.exists()


def test_agents_cannot_toggle(agent: User, make_rule: Any, support_team: Team) -> None:
    rule = make_rule(active=False)
    client = Client()
    client.force_login(agent)
    assert (
        client.post(reverse("settings:rule-toggle", args=[rule.pk]), {"active": "1"}).status_code
        == 403
    )
    rule.refresh_from_db()
    assert rule.active is False
