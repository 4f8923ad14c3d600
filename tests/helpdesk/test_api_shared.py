"""The API pieces every app shares: strict serializers, Django errors as 400s, strict
boolean filters, and lists that refuse query parameters they do not know."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.test import APIClient

from helpdesk.api.exceptions import validation_error_from_django
from helpdesk.api.filters import AgentFilter
from helpdesk.api.serializers import StrictSerializer
from helpdesk.models import Team, User
from helpdesk.services import create_team, insert_unique, update_agent


class NoteSerializer(StrictSerializer):
    text = serializers.CharField()
    created_at = serializers.DateTimeField(read_only=True)


class ParentSerializer(StrictSerializer):
    notes = NoteSerializer(many=True)


def test_known_fields_pass() -> None:
    serializer = NoteSerializer(data={"text": "Hello"})

    assert serializer.is_valid()
    assert serializer.validated_data == {"text": "Hello"}


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"text": "Hi", "txet": "typo"}, {"txet": ["Unknown field."]}),
        ({"text": "Hi", "created_at": "2025-01-01"}, {"created_at": ["This field is read-only."]}),
        (
            {"text": "Hi", "a": 1, "b": 2},
            {"a": ["Unknown field."], "b": ["Unknown field."]},
        ),
    ],
)
def test_unknown_and_read_only_fields_are_refused(
    data: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    serializer = NoteSerializer(data=data)

    assert not serializer.is_valid()
    assert serializer.errors == errors


def test_nested_strict_serializers_refuse_unknown_fields_by_position() -> None:
    serializer = ParentSerializer(data={"notes": [{"text": "ok"}, {"text": "x", "pin": True}]})

    assert not serializer.is_valid()
    assert serializer.errors == {"notes": {1: {"pin": ["Unknown field."]}}}


def test_the_csrf_token_of_an_html_form_is_not_an_unknown_field() -> None:
    form = QueryDict("text=Hello&csrfmiddlewaretoken=abc")

    serializer = NoteSerializer(data=form)

    assert serializer.is_valid(), serializer.errors


# Every list of the API, with the query parameters it accepts besides ``format``.
LISTS = [
    (
        "/api/v1/tickets/",
        "assignee, channel, channel_account, cursor, customer, ordering, page_size, priority, "
        "status, tag, team, updated_since",
    ),
    ("/api/v1/customers/", "cursor, include_merged, page_size, q, tag, updated_since"),
    ("/api/v1/customer-merges/", "cursor, customer, page_size, undone"),
    (
        "/api/v1/orders/",
        "cursor, customer, financial_status, fulfillment_status, number, page_size, store",
    ),
    ("/api/v1/teams/", "cursor, page_size"),
    ("/api/v1/agents/", "availability, cursor, is_active, page_size, role, team"),
    ("/api/v1/channel-accounts/", "cursor, is_active, kind, page_size"),
]


@pytest.mark.parametrize(("path", "accepted"), LISTS)
def test_every_list_refuses_an_unknown_query_parameter_by_name(
    admin_client_api: APIClient, path: str, accepted: str
) -> None:
    """A typo such as ?stauts=open would otherwise list every row as if it had filtered."""
    response = admin_client_api.get(path, {"page_size": "5", "sort": "name", "Page_Size": "5"})

    assert response.status_code == 400
    message = f"Unknown query parameter; this list accepts {accepted}."
    assert response.json() == {"Page_Size": [message], "sort": [message]}


@pytest.mark.parametrize(("path", "accepted"), LISTS)
def test_every_list_takes_its_own_parameters_and_format(
    admin_client_api: APIClient, path: str, accepted: str
) -> None:
    response = admin_client_api.get(path, {"page_size": "5", "format": "json"})

    assert response.status_code == 200, response.content
    assert list(response.json()) == ["next", "previous", "results"]


def test_django_errors_become_field_errors() -> None:
    by_field = validation_error_from_django(DjangoValidationError({"slug": ["Taken."]}))
    bare = validation_error_from_django(DjangoValidationError("Bad."), field="address")
    unnamed = validation_error_from_django(DjangoValidationError("Bad."))

    assert by_field.detail == {"slug": ["Taken."]}
    assert bare.detail == {"address": ["Bad."]}
    assert unnamed.detail == ["Bad."]


@pytest.mark.parametrize(
    ("raw", "valid", "expected"),
    [
        ("true", True, ["alice"]),
        ("True", True, ["alice"]),
        ("1", True, ["alice"]),
        ("false", True, ["erin"]),
        ("0", True, ["erin"]),
        ("", True, ["alice", "erin"]),
        ("yes", False, None),
        ("no", False, None),
    ],
)
def test_strict_boolean_filter(
    admin: User, inactive_agent: User, raw: str, valid: bool, expected: list[str] | None
) -> None:
    filterset = AgentFilter(
        QueryDict(f"is_active={raw}"), queryset=User.objects.order_by("username")
    )

    assert filterset.is_valid() is valid
    if expected is not None:
        assert [user.username for user in filterset.qs] == expected
    else:
        assert filterset.errors["is_active"] == ["Use true or false."]


def test_a_concurrent_duplicate_insert_is_a_validation_error(db: None) -> None:
    """The row passed full_clean, then another request took its slug first."""
    late = Team(name="Support", slug="support")
    late.full_clean()
    Team.objects.create(name="Support desk", slug="support")

    with pytest.raises(DjangoValidationError) as raised:
        insert_unique(late)

    assert raised.value.messages == [
        "A team with the same unique values was just created; change them and try again."
    ]
    assert list(Team.objects.values_list("name", flat=True)) == ["Support desk"]


def test_configuration_services_refuse_agents_whatever_the_caller_checked(
    agent: User, support_team: Team
) -> None:
    with pytest.raises(PermissionDenied):
        create_team(name="Shadow", slug="shadow", actor=agent)
    with pytest.raises(PermissionDenied):
        update_agent(agent, actor=agent, role=User.Role.ADMIN)

    assert list(Team.objects.values_list("slug", flat=True)) == ["support"]
    agent.refresh_from_db()
    assert agent.role == User.Role.AGENT
