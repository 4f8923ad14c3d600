"""The SLA settings pages: admins only, clear field errors on bad input."""

from __future__ import annotations

import pytest
from django.test import Client

from automation.models import BusinessHours, Holiday, SlaPolicy
from helpdesk.models import Team, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(admin: User) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def hours_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Berlin office",
        "time_zone": "Europe/Berlin",
        "holiday_country": "DE",
        "holiday_subdivision": "",
        "monday": "09:00-12:00, 13:00-17:00",
        "tuesday": "09:00-17:00",
        "wednesday": "",
        "thursday": "",
        "friday": "09:00-15:00",
        "saturday": "",
        "sunday": "",
        "holidays_text": "2026-12-24 Christmas Eve\n2026-12-31 New Year's Eve",
    }
    data.update(overrides)
    return data


def test_admin_creates_and_edits_business_hours(admin_browser: Client) -> None:
    response = admin_browser.post("/settings/business-hours/new/", hours_form())
    assert response.status_code == 302
    hours = BusinessHours.objects.get()
    assert hours.weekly_hours == {
        "monday": [["09:00", "12:00"], ["13:00", "17:00"]],
        "tuesday": [["09:00", "17:00"]],
        "friday": [["09:00", "15:00"]],
    }
    assert list(Holiday.objects.values_list("name", flat=True)) == [
        "Christmas Eve",
        "New Year's Eve",
    ]
    page = admin_browser.get(f"/settings/business-hours/{hours.pk}/")
    assert page.status_code == 200
    assert "09:00–12:00, 13:00–17:00" in page.content.decode()
    listing = admin_browser.get("/settings/business-hours/").content.decode()
    assert "Berlin office" in listing


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"monday": "9-17"}, "is not a time of the form HH:MM"),
        ({"monday": "17:00-09:00"}, "ends before it starts"),
        ({"monday": "09:00-13:00, 12:00-17:00"}, "must not overlap"),
        ({"time_zone": "Berlin"}, "is not an IANA time zone"),
        ({"holidays_text": "24.12.2026 Christmas"}, "is not a date like 2026-12-24"),
        ({"holiday_country": "DE", "holiday_subdivision": "XX"}, "is not a subdivision of DE"),
        (
            {"monday": "", "tuesday": "", "friday": ""},
            "Open at least one interval in the week.",
        ),
    ],
)
def test_bad_business_hours_show_the_error(
    admin_browser: Client, overrides: dict[str, str], message: str
) -> None:
    response = admin_browser.post("/settings/business-hours/new/", hours_form(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BusinessHours.objects.exists()


def test_admin_creates_edits_and_deletes_a_policy(
    admin_browser: Client, returns_team: Team
) -> None:
    data = {
        "name": "VIP",
        "position": "1",
        "active": "on",
        "priorities": ["high", "urgent"],
        "customer_tags": "VIP, wholesale ,vip",
        "first_response_minutes": "30",
        "resolution_minutes": "480",
        "pause_statuses": ["pending"],
        "warning_minutes": "10",
        "escalate_raise_priority": "on",
        "escalate_to_team": str(returns_team.pk),
    }
    response = admin_browser.post("/settings/sla-policies/new/", data)
    assert response.status_code == 302, response.content.decode()
    policy = SlaPolicy.objects.get()
    assert (policy.priorities, policy.customer_tags, policy.pause_statuses) == (
        ["high", "urgent"], ["vip", "wholesale"], ["pending"]
    )  # fmt: skip
    assert "VIP" in admin_browser.get("/settings/sla-policies/").content.decode()

    edit = admin_browser.post(f"/settings/sla-policies/{policy.pk}/", {**data, "name": "Gold"})
    assert edit.status_code == 302
    assert SlaPolicy.objects.get().name == "Gold"

    assert admin_browser.post(f"/settings/sla-policies/{policy.pk}/delete/").status_code == 302
    assert not SlaPolicy.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "No targets", "position": "0", "warning_minutes": "0"},
            "Set at least one target",
        ),
        (
            {"name": "X", "position": "0", "warning_minutes": "0", "first_response_minutes": "-1"},
            "greater than or equal to 0",
        ),
        (
            {
                "name": "X",
                "position": "0",
                "warning_minutes": "0",
                "first_response_minutes": "5",
                "priorities": ["asap"],
            },
            "Select a valid choice",
        ),
        ({"name": "", "position": "0", "warning_minutes": "0"}, "This field is required"),
    ],
)
def test_bad_policies_show_the_error(
    admin_browser: Client, data: dict[str, object], message: str
) -> None:
    response = admin_browser.post("/settings/sla-policies/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SlaPolicy.objects.exists()


def test_a_calendar_in_use_is_not_deleted(admin_browser: Client) -> None:
    hours = BusinessHours.objects.create(
        name="Office", time_zone="UTC", weekly_hours={"monday": [["09:00", "17:00"]]}
    )
    SlaPolicy.objects.create(name="Std", first_response_minutes=60, business_hours=hours)
    response = admin_browser.post(f"/settings/business-hours/{hours.pk}/delete/", follow=True)
    assert "These SLA policies use the calendar: Std" in response.content.decode()
    assert BusinessHours.objects.filter(pk=hours.pk).exists()


@pytest.mark.parametrize(
    "path",
    [
        "/settings/sla-policies/",
        "/settings/sla-policies/new/",
        "/settings/business-hours/",
        "/settings/business-hours/new/",
    ],
)
def test_agents_get_403(agent: User, path: str) -> None:
    client = Client()
    client.force_login(agent)
    assert client.get(path).status_code == 403
    assert client.post(path, {"name": "X", "first_response_minutes": "5"}).status_code == 403
    assert not SlaPolicy.objects.exists()
    assert not BusinessHours.objects.exists()
