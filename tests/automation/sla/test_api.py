"""The SLA policies and business-hours API: admins only, bad input is a 400 naming the
field."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from automation.models import BusinessHours, Holiday, SlaPolicy
from helpdesk.models import User
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

OFFICE = {"monday": [["09:00", "17:00"]], "tuesday": [["09:00", "12:00"], ["13:00", "17:00"]]}


@pytest.fixture
def office() -> BusinessHours:
    return BusinessHours.objects.create(
        name="Office", time_zone="Europe/Berlin", weekly_hours=OFFICE
    )


def test_admin_creates_a_policy(admin_client_api: APIClient, office: BusinessHours) -> None:
    response = admin_client_api.post(
        "/api/v1/sla-policies/",
        {
            "name": "VIP",
            "position": 1,
            "priorities": ["high", "urgent"],
            "channels": ["email"],
            "customer_tags": ["vip"],
            "first_response_minutes": 30,
            "resolution_minutes": 240,
            "business_hours": office.pk,
            "pause_statuses": ["pending"],
            "warning_minutes": 10,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    policy = SlaPolicy.objects.get(name="VIP")
    assert (policy.priorities, policy.business_hours, policy.pause_statuses) == (
        ["high", "urgent"], office, ["pending"]
    )  # fmt: skip
    listed = admin_client_api.get("/api/v1/sla-policies/").json()
    assert [item["name"] for item in listed["results"]] == ["VIP"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "A", "priorities": ["asap"]}, "priorities", "Unknown priorities: asap"),
        ({"name": "A", "channels": "email"}, "channels", "A list of channels"),
        ({"name": "A", "pause_statuses": ["solved"]}, "pause_statuses", "Unknown pause statuses"),
        ({"name": "A", "first_response_minutes": -5}, "first_response_minutes", ""),
        ({"name": "A", "business_hours": 999}, "business_hours", ""),
        ({"name": "A"}, "__all__", "Set at least one target"),
        ({"name": ""}, "name", ""),
    ],
)
def test_bad_policies_are_400_with_the_field(
    admin_client_api: APIClient, body: dict[str, Any], field: str, message: str
) -> None:
    body = (
        {"first_response_minutes": 60, **body}
        if "first_response_minutes" not in body and field != "__all__"
        else body
    )
    response = admin_client_api.post("/api/v1/sla-policies/", body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not SlaPolicy.objects.exists()


def test_admin_creates_business_hours_with_holidays(admin_client_api: APIClient) -> None:
    response = admin_client_api.post(
        "/api/v1/business-hours/",
        {
            "name": "Berlin",
            "time_zone": "Europe/Berlin",
            "weekly_hours": OFFICE,
            "holiday_country": "DE",
            "holiday_subdivision": "BY",
            "holidays": [{"date": "2026-12-24", "name": "Christmas Eve"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    hours = BusinessHours.objects.get(name="Berlin")
    assert list(hours.holidays.values_list("name", flat=True)) == ["Christmas Eve"]
    assert response.json()["holidays"] == [{"date": "2026-12-24", "name": "Christmas Eve"}]

    changed = admin_client_api.patch(
        f"/api/v1/business-hours/{hours.pk}/", {"holidays": []}, format="json"
    )
    assert changed.status_code == 200
    assert not Holiday.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"weekly_hours": {"monday": [["17:00", "09:00"]]}}, "weekly_hours"),
        ({"weekly_hours": {"someday": [["09:00", "17:00"]]}}, "weekly_hours"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_country": "DE", "holiday_subdivision": "ZZ"}, "holiday_subdivision"),
        ({"holidays": [{"date": "2026-13-40", "name": "Nope"}]}, "holidays"),
        (
            {
                "holidays": [
                    {"date": "2026-12-24", "name": "A"},
                    {"date": "2026-12-24", "name": "B"},
                ]
            },
            "holidays",
        ),
    ],
)
def test_bad_business_hours_are_400_with_the_field(
    admin_client_api: APIClient, body: dict[str, Any], field: str
) -> None:
    payload = {"name": "Bad", "time_zone": "Europe/Berlin", "weekly_hours": OFFICE, **body}
    response = admin_client_api.post("/api/v1/business-hours/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not BusinessHours.objects.exists()


def test_a_calendar_in_use_cannot_be_deleted(
    admin_client_api: APIClient, office: BusinessHours
) -> None:
    SlaPolicy.objects.create(name="Std", first_response_minutes=60, business_hours=office)
    response = admin_client_api.delete(f"/api/v1/business-hours/{office.pk}/")
    assert response.status_code == 409
    assert "Std" in response.json()["detail"]
    assert BusinessHours.objects.filter(pk=office.pk).exists()


@pytest.mark.parametrize("path", ["/api/v1/sla-policies/", "/api/v1/business-hours/"])
def test_agents_get_403_and_change_nothing(agent: User, path: str) -> None:
    client = api_client_for(agent)
    assert client.get(path).status_code == 403
    body = {"name": "X", "first_response_minutes": 5, "time_zone": "UTC", "weekly_hours": OFFICE}
    assert client.post(path, body, format="json").status_code == 403
    assert not SlaPolicy.objects.exists()
    assert not BusinessHours.objects.exists()


def test_anonymous_is_refused(anonymous_client: APIClient) -> None:
    assert anonymous_client.get("/api/v1/sla-policies/").status_code in (401, 403)
