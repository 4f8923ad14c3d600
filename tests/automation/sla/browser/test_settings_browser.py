"""The SLA settings pages in a real Chromium: an admin sets up business hours (with a
mistake the page explains) and a policy that uses them, with the keyboard."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from automation.models import BusinessHours, SlaPolicy
from helpdesk.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

# Set SLA_SCREENSHOTS=/some/dir to keep screenshots of each page at desktop and phone width.
SHOTS = os.environ.get("SLA_SCREENSHOTS", "")


def _sign_in(page: Page, live_server: Any, user: User) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def _shoot(page: Page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", (1440, 900)), ("phone", (390, 844))):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.screenshot(path=f"{SHOTS}/{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_admin_sets_up_business_hours_and_a_policy(
    page: Page, live_server: Any, admin: User
) -> None:
    _sign_in(page, live_server, admin)
    page.goto(f"{live_server.url}/settings/business-hours/new/")
    page.get_by_label("Name").fill("Berlin office")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Monday").fill("09:00-13:00, 12:00-17:00")
    page.get_by_label("Public holidays of").fill("DE")
    page.get_by_label("Custom holidays").fill("2026-12-24 Christmas Eve")
    page.get_by_role("button", name="Save business hours").click()

    expect(page.get_by_role("alert").first).to_contain_text("Please correct")
    expect(page.get_by_text("must not overlap")).to_be_visible()
    _shoot(page, "hours-error")

    page.get_by_label("Monday").fill("09:00-12:00, 13:00-17:00")
    page.get_by_label("Monday").press("Enter")  # submits, as a keyboard user would
    expect(page.get_by_role("heading", name="Business hours")).to_be_visible()
    expect(page.get_by_role("link", name="Berlin office")).to_be_visible()
    _shoot(page, "hours-list")
    hours = BusinessHours.objects.get()
    assert hours.weekly_hours["monday"] == [["09:00", "12:00"], ["13:00", "17:00"]]

    page.goto(f"{live_server.url}/settings/sla-policies/new/")
    page.get_by_label("Name").fill("VIP")
    page.get_by_label("Urgent").check()
    page.get_by_label("First response (minutes)").fill("30")
    page.get_by_label("Resolution (minutes)").fill("480")
    page.get_by_label("Business hours").select_option(label="Berlin office")
    _shoot(page, "policy-form")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("link", name="VIP")).to_be_visible()
    expect(page.locator("nav a[aria-current=page]")).to_have_text("SLA policies")
    _shoot(page, "policy-list")
    policy = SlaPolicy.objects.get()
    assert (policy.priorities, policy.business_hours) == (["urgent"], hours)
