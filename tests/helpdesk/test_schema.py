"""The OpenAPI schema and its browsable docs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from helpdesk.models import User

# The endpoints of helpdesk, customers and channels_inbox (tickets checks its own).
CONFIGURATION_AND_CUSTOMER_URLS = [
    path("api/v1/", include("helpdesk.api.urls")),
    path("api/v1/", include("customers.api.urls")),
    path("api/v1/", include("channels_inbox.api.urls")),
]


@pytest.fixture
def clean_generator_stats() -> Iterator[None]:
    GENERATOR_STATS.reset()
    yield
    GENERATOR_STATS.reset()


def test_signed_in_user_gets_the_schema(agent_client: APIClient) -> None:
    response = agent_client.get("/api/v1/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["info"]["title"] == "Switchboard API"
    for route in (
        "/api/v1/teams/",
        "/api/v1/agents/me/",
        "/api/v1/customers/{id}/merge/",
        "/api/v1/customer-merges/{id}/undo/",
        "/api/v1/orders/",
        "/api/v1/channel-accounts/{id}/",
    ):
        assert route in schema["paths"]


def test_docs_page_renders_for_a_signed_in_user(agent: User) -> None:
    client = APIClient()
    client.force_login(agent)

    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"/api/v1/schema/" in response.content
    # Served from our own static files: the help desk never loads code from a CDN.
    bundle = b"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert bundle in response.content
    assert b"cdn." not in response.content
    assert b"https://" not in response.content


def test_schema_of_these_apps_is_valid_and_warning_free(
    db: None, clean_generator_stats: None
) -> None:
    """What ``spectacular --validate --fail-on-warn`` checks, for these apps' endpoints."""
    generator = SchemaGenerator(patterns=CONFIGURATION_AND_CUSTOMER_URLS)

    schema = generator.get_schema(request=None, public=True)

    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache
    assert not GENERATOR_STATS._error_cache


def test_channel_account_schema_never_offers_credentials_in_a_response(db: None) -> None:
    schema = SchemaGenerator(patterns=CONFIGURATION_AND_CUSTOMER_URLS).get_schema(
        request=None, public=True
    )
    components = schema["components"]["schemas"]

    assert "credentials" not in components["ChannelAccount"]["properties"]
    assert (
        components["ChannelAccountWriteRequest"]["properties"]["credentials"]["writeOnly"] is True
    )
    assert components["PatchedAgentWriteRequest"]["properties"]["password"]["writeOnly"] is True
