"""Routing fixtures: the Support team with routing on, and helpers that open tickets and
change agents the way the product does (services, events run after commit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from automation.models import TeamRouting
from customers.models import Customer
from customers.services import create_customer
from helpdesk.models import Team, User
from tests.e2e.conftest import artifacts, browser, page  # noqa: F401 - for test_browser
from tests.workspace.browser.conftest import asgi_server  # noqa: F401 - for test_browser
from tickets.models import Ticket
from tickets.services import open_ticket, tag_ticket

Run = Callable[..., Any]


@pytest.fixture
def run(django_capture_on_commit_callbacks: Any) -> Run:
    """Call a service and run what it left for after commit (events, eager tasks), as the
    real commit would."""

    def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return call


@pytest.fixture
def routed_team(support_team: Team) -> Team:
    TeamRouting.objects.create(team=support_team, mode=TeamRouting.Mode.ROUND_ROBIN)
    return support_team


@pytest.fixture
def make_agent(db: None) -> Callable[..., User]:
    def make(
        username: str,
        *teams: Team,
        capacity: int = 10,
        availability: str = User.Availability.ONLINE,
        skills: list[str] | None = None,
        languages: list[str] | None = None,
    ) -> User:
        user = User.objects.create_user(
            username,
            f"{username}@shop.test",
            "pw",
            display_name=username.capitalize(),
            capacity=capacity,
            availability=availability,
            skills=skills or [],
            languages=languages or [],
        )
        user.teams.add(*teams)
        return user

    return make


@pytest.fixture
def shopper(db: None) -> Customer:
    return create_customer(name="Ana Souza", email="ana@example.com")


@pytest.fixture
def open_in(run: Run, shopper: Customer) -> Callable[..., Ticket]:
    """Open a ticket in ``team`` (events run, so routing runs), optionally tagged first:
    the tags are set in the same transaction, before routing sees the ticket."""

    def make(team: Team, *, tags: tuple[str, ...] = (), customer: Customer | None = None) -> Ticket:
        def create() -> Ticket:
            with transaction.atomic():
                ticket = open_ticket(
                    customer=customer or shopper, channel="email", subject="Help", team=team
                )
                if tags:
                    tag_ticket(ticket, list(tags), actor=None)
            return ticket

        ticket = run(create)
        return Ticket.objects.get(pk=ticket.pk)

    return make
