"""The automation settings pages read a fixed number of queries however many rules, policies,
calendars, macros, teams and agents there are: pinned here, with a first lot of objects and
then three times as many."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from automation.macros.services import save_macro
from automation.models import BusinessHours, Macro, Rule, SlaPolicy, TeamRouting
from automation.routing.services import configure_routing
from automation.rules.services import save_rule
from automation.sla.services import save_business_hours, save_sla_policy
from helpdesk.models import Team, User
from helpdesk.services import create_agent, create_team

pytestmark = pytest.mark.django_db

WEEK = {"monday": [["09:00", "17:00"]], "friday": [["09:00", "15:00"]]}


def add_objects(admin: User, start: int, count: int) -> None:
    """``count`` of each kind of object the settings pages list, numbered from ``start``."""
    for n in range(start, start + count):
        hours = save_business_hours(
            BusinessHours(name=f"Office {n}", time_zone="Europe/Berlin", weekly_hours=WEEK)
        )
        save_sla_policy(
            SlaPolicy(
                name=f"Policy {n}", position=n, first_response_minutes=60, business_hours=hours
            )
        )
        save_macro(Macro(name=f"Macro {n}", body="Hello {{ customer.first_name }}", owner=None))
        save_rule(
            Rule(
                name=f"Rule {n}",
                trigger=Rule.Trigger.TICKET_CREATED,
                conditions={},
                actions=[{"type": "add_tags", "tags": [f"tag{n}"]}],
            ),
            actor=admin,
        )
        team = create_team(name=f"Team {n}", slug=f"team-{n}", actor=admin)
        configure_routing(
            team,
            actor=admin,
            mode=TeamRouting.Mode.ROUND_ROBIN,
            match_skills=False,
            match_language=False,
            hand_back_on_offline=False,
            escalation_team=None,
            capacity_statuses=["new", "open"],
        )
        create_agent(
            username=f"agent{n}",
            email=f"agent{n}@shop.test",
            password="pw",
            actor=admin,
            teams=[team],
        )


# The session and the admin, then the page's own reads.
QUERIES = {
    "/settings/rules/": 3,  # the rules
    "/settings/sla-policies/": 3,  # the policies, their calendars joined
    "/settings/business-hours/": 5,  # calendars, their holidays, the policies on them
    "/settings/macros/": 3,  # the shared and own macros
    "/settings/routing/": 7,  # teams and members, routing (twice), queues, who is online
    "/settings/teams/": 8,  # agents, their loads, rows and teams; teams and their members
}
PAGES = list(QUERIES)


@pytest.mark.parametrize("path", PAGES)
def test_settings_lists_cost_the_same_queries_for_more_objects(
    admin: User, path: str, django_assert_num_queries: Callable[..., Any]
) -> None:
    client = Client()
    client.force_login(admin)
    add_objects(admin, 0, 2)
    first = client.get(path)
    assert first.status_code == 200
    with django_assert_num_queries(QUERIES[path]) as few:
        client.get(path)

    add_objects(admin, 2, 6)
    with django_assert_num_queries(len(few.captured_queries)):
        more = client.get(path)

    assert more.status_code == 200
    assert b"7" in more.content  # the new objects are listed (names end in their number)
    assert Team.objects.count() == 8
    assert Rule.objects.count() == 8
