"""The rules settings page in a real Chromium: an admin builds a rule with the condition and
action rows (no JSON typed), simulates it, saves it, and turns it on from the list."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from automation.models import Rule
from helpdesk.models import Team, User
from tests.e2e.conftest import PHONE
from tests.workspace.browser.conftest import AsgiServer

pytestmark = [pytest.mark.e2e]


def _sign_in(page: Page, server: AsgiServer, username: str) -> None:
    page.goto(f"{server.url}/settings/rules/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/settings/rules/")


def test_admin_builds_simulates_saves_and_enables_a_rule(
    asgi_server: AsgiServer,
    browser: Browser,
    page: Page,
    admin: User,
    support_team: Team,
    artifacts: Path,
) -> None:
    _sign_in(page, asgi_server, "alice")
    expect(page.get_by_text("No rules yet.")).to_be_visible()
    page.get_by_role("link", name="New rule").click()

    page.get_by_label("Name").fill("Refunds to Support")
    page.get_by_label("Trigger").select_option("customer_message")
    # The JSON text areas are replaced by the builder.
    expect(page.locator("textarea[name=conditions]")).to_be_hidden()

    page.get_by_role("button", name="Add condition").click()
    conditions = page.get_by_role("list", name="Conditions")
    row = conditions.get_by_role("listitem").first
    row.get_by_label("Field").select_option("body")
    row.get_by_label("Operator").select_option("contains")
    row.get_by_label("Value").fill("refund")
    page.get_by_role("button", name="Add condition").click()
    second = conditions.get_by_role("listitem").nth(1)
    second.get_by_label("Field").select_option("priority")
    second.get_by_label("Operator").select_option("not_in")
    second.get_by_label("Value").select_option(["urgent"])

    page.get_by_role("button", name="Add action").click()
    actions = page.get_by_role("list", name="Actions, in order")
    first_action = actions.get_by_role("listitem").first
    first_action.get_by_label("Action", exact=True).select_option("assign_team")
    first_action.get_by_label("Team").select_option(str(support_team.pk))
    page.get_by_role("button", name="Add action").click()
    second_action = actions.get_by_role("listitem").nth(1)
    second_action.get_by_label("Tags").fill("refund, money")
    # Reorder: tags first.
    second_action.get_by_role("button", name="Move action up").click()

    page.get_by_role("button", name="Simulate on the last 30 days").click()
    expect(page.get_by_role("status").filter(has_text="would match")).to_be_visible()
    assert not Rule.objects.exists()
    page.screenshot(path=artifacts / "rules-form-desktop.png", full_page=True)

    page.get_by_role("button", name="Create rule").click()
    expect(page.get_by_text("Rule “Refunds to Support” created.")).to_be_visible()
    rule = Rule.objects.get()
    assert rule.trigger == "customer_message"
    assert rule.active is False
    assert rule.conditions == {
        "all": [
            {"field": "body", "op": "contains", "value": "refund"},
            {"field": "priority", "op": "not_in", "value": ["urgent"]},
        ]
    }
    assert rule.actions == [
        {"type": "add_tags", "tags": ["refund", "money"]},
        {"type": "assign_team", "team": support_team.pk},
    ]

    page.get_by_role("link", name="← Rules").click()
    page.get_by_role("button", name="Turn on Refunds to Support").click()
    expect(page.get_by_role("button", name="Turn off Refunds to Support")).to_be_visible()
    rule.refresh_from_db()
    assert rule.active is True
    page.screenshot(path=artifacts / "rules-list-desktop.png", full_page=True)

    phone = browser.new_context(viewport=PHONE, storage_state=page.context.storage_state())
    phone_page = phone.new_page()
    phone_page.goto(f"{asgi_server.url}/settings/rules/{rule.pk}/")
    expect(phone_page.get_by_role("list", name="Conditions").get_by_role("listitem")).to_have_count(
        2
    )
    phone_page.screenshot(path=artifacts / "rules-form-phone.png", full_page=True)
    phone.close()


def test_the_page_shows_schema_errors_from_the_builder(
    asgi_server: AsgiServer, page: Page, admin: User
) -> None:
    """An action left incomplete comes back as a clear message next to the builder."""
    _sign_in(page, asgi_server, "alice")
    page.goto(f"{asgi_server.url}/settings/rules/new/")
    page.get_by_label("Name").fill("Half done")
    page.get_by_role("button", name="Add action").click()  # add tags, with no tags
    page.get_by_role("button", name="Create rule").click()
    expect(
        page.get_by_role("alert")
        .filter(has_text="needs a list of tags")
        .or_(page.get_by_role("alert").filter(has_text="needs at least one tag"))
        .first
    ).to_be_visible()
    assert not Rule.objects.exists()
