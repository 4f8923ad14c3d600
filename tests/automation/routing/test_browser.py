"""The routing and teams settings pages and the availability switch in a real Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from automation.models import TeamRouting
from helpdesk.models import Team, User
from tests.e2e.conftest import PHONE
from tests.workspace.browser.conftest import AsgiServer

pytestmark = pytest.mark.e2e


def sign_in(page: Page, server: AsgiServer, username: str, target: str) -> None:
    page.goto(f"{server.url}{target}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}{target}")


def test_admin_configures_routing_and_sees_the_errors(
    asgi_server: AsgiServer,
    page: Page,
    browser: Browser,
    admin: User,
    agent: User,
    support_team: Team,
    returns_team: Team,
    artifacts: Path,
) -> None:
    User.objects.filter(pk=agent.pk).update(
        availability="online", skills=["refund"], languages=["en", "de"]
    )
    sign_in(page, asgi_server, "alice", "/settings/routing/")
    expect(page.get_by_role("heading", name="Routing", exact=True)).to_be_visible()
    page.get_by_role("link", name="Edit routing of Support").click()

    # No status counts toward capacity: refused, with the reason next to the field.
    page.get_by_label("New", exact=True).uncheck()
    page.get_by_label("Open", exact=True).uncheck()
    page.get_by_role("button", name="Save routing").click()
    expect(page.get_by_text("Choose at least one status.")).to_be_visible()
    page.screenshot(path=str(artifacts / "routing-edit-error-desktop.png"), full_page=True)

    page.get_by_label("Routing", exact=True).select_option("round_robin")
    page.get_by_label("Match skills").check()
    page.get_by_label("New", exact=True).check()
    page.get_by_label("Open", exact=True).check()
    page.get_by_label("Escalation team").select_option(label="Returns")
    page.get_by_role("button", name="Save routing").click()

    expect(page).to_have_url(f"{asgi_server.url}/settings/routing/")
    expect(page.get_by_text("Routing of Support saved.")).to_be_visible()
    row = page.get_by_role("row", name="Support")
    expect(row).to_contain_text("Round-robin")
    expect(row).to_contain_text("Returns")
    routing = TeamRouting.objects.get(team=support_team)
    assert (routing.mode, routing.match_skills, routing.escalation_team) == (
        "round_robin",
        True,
        returns_team,
    )
    page.screenshot(path=str(artifacts / "routing-list-desktop.png"), full_page=True)

    page.goto(f"{asgi_server.url}/settings/teams/")
    expect(page.get_by_role("row", name="Bob Agent Online")).to_contain_text("refund")
    page.screenshot(path=str(artifacts / "teams-desktop.png"), full_page=True)

    phone = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    phone.add_cookies(page.context.cookies())  # type: ignore[arg-type]
    small = phone.new_page()
    for name, path in (("routing", "/settings/routing/"), ("teams", "/settings/teams/")):
        small.goto(f"{asgi_server.url}{path}")
        small.screenshot(path=str(artifacts / f"{name}-phone.png"), full_page=True)
    small.goto(f"{asgi_server.url}/settings/routing/{support_team.pk}/")
    small.screenshot(path=str(artifacts / "routing-edit-phone.png"), full_page=True)
    phone.close()


def test_agent_switches_availability_from_the_workspace(
    asgi_server: AsgiServer,
    page: Page,
    agent: User,
    artifacts: Path,
) -> None:
    sign_in(page, asgi_server, "bob", "/inbox/")
    switch = page.get_by_label("Your availability")
    expect(switch).to_have_value("offline")

    # The test database is SQLite in memory, shared between connections, where a table being
    # read cannot be written: the switch is used once the inbox has finished its own loads.
    page.wait_for_load_state("networkidle")
    with page.expect_response(
        lambda response: (
            response.url.endswith("/availability/") and response.request.method == "POST"
        )
    ) as posted:
        switch.select_option("online")

    assert posted.value.status == 200
    expect(page.get_by_label("Your availability")).to_have_value("online")
    assert User.objects.get(pk=agent.pk).availability == "online"
    page.screenshot(path=str(artifacts / "workspace-availability-desktop.png"))
