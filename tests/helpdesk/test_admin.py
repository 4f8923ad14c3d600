"""The Django admin for users, teams, counters and API tokens, and who may sign in to it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from helpdesk.admin import clean_language_codes
from helpdesk.models import Sequence, Team, User
from helpdesk.validators import normalize_time_zone
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client, admin: User) -> Client:
    """alice, signed in to the admin (role admin makes her staff)."""
    assert admin.is_staff
    client.force_login(admin)
    return client


def flashed(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def user_form(user: User, **overrides: Any) -> dict[str, Any]:
    """The POST of the user change form as the page would send it unchanged."""
    user.refresh_from_db()
    data: dict[str, Any] = {
        "username": user.username,
        "display_name": user.display_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "time_zone": user.time_zone,
        "role": user.role,
        "teams": [team.pk for team in user.teams.all()],
        "capacity": user.capacity,
        "languages": '["en"]',
        "availability": user.availability,
        "is_active": "on" if user.is_active else "",
        "_save": "Save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


# --- Who gets in ---------------------------------------------------------------------------


def test_role_admin_signs_in_and_sees_every_switchboard_screen(staff_client: Client) -> None:
    """alice is an admin by role, not a superuser: the role alone opens the admin."""
    response = staff_client.get("/admin/")

    assert response.status_code == 200
    models = {
        model["object_name"]
        for app in response.context["app_list"]
        for model in app["models"]
        if model["perms"]["view"]
    }
    assert models >= {
        "User",
        "Team",
        "Sequence",
        "Customer",
        "Identity",
        "CustomerMerge",
        "Order",
        "Ticket",
        "Message",
        "Attachment",
        "Tag",
        "TicketActivity",
        "ChannelAccount",
        "InboundEvent",
    }


def test_agent_cannot_reach_the_admin(client: Client, agent: User) -> None:
    client.force_login(agent)

    for url in ("/admin/", reverse("admin:helpdesk_user_changelist")):
        response = client.get(url)

        assert response.status_code == 302
        assert response["Location"] == f"/admin/login/?next={url}"


def test_agent_cannot_sign_in_through_the_login_form(client: Client, agent: User) -> None:
    response = client.post("/admin/login/", {"username": "bob", "password": "pw"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_admin_signs_in_through_the_login_form(client: Client, admin: User) -> None:
    response = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": "pw"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(admin.pk)


def test_deactivated_admin_is_sent_to_the_login(client: Client, admin: User) -> None:
    admin.is_active = False
    admin.save()
    client.force_login(admin)

    response = client.get("/admin/")

    assert response.status_code == 302


# --- Users ---------------------------------------------------------------------------------


def test_user_changelist_searches_and_filters(
    staff_client: Client, agent: User, teammate: User, other_agent: User, support_team: Team
) -> None:
    url = reverse("admin:helpdesk_user_changelist")

    by_name = staff_client.get(url, {"q": "carol", "role": "agent"})
    by_team = staff_client.get(url, {"teams__id__exact": support_team.pk})

    assert by_name.status_code == 200
    assert [u.username for u in by_name.context["cl"].result_list] == ["carol"]
    assert [u.username for u in by_team.context["cl"].result_list] == ["bob", "carol"]
    assert "Support" in by_team.content.decode()


def test_user_change_and_add_pages_answer(staff_client: Client, agent: User) -> None:
    change = staff_client.get(reverse("admin:helpdesk_user_change", args=[agent.pk]))
    add = staff_client.get(reverse("admin:helpdesk_user_add"))

    assert (change.status_code, add.status_code) == (200, 200)
    assert "Bob Agent" in change.content.decode()


def test_user_change_goes_through_update_agent(
    staff_client: Client, agent: User, support_team: Team, returns_team: Team
) -> None:
    response = staff_client.post(
        reverse("admin:helpdesk_user_change", args=[agent.pk]),
        user_form(
            agent,
            display_name="  Bob B.  ",
            languages='["EN", "pt-BR", "en"]',
            time_zone="Europe/Berlin",
            teams=[returns_team.pk],
            capacity="5",
        ),
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.display_name, agent.languages, agent.time_zone, agent.capacity) == (
        "Bob B.",
        ["en", "pt-BR"],
        "Europe/Berlin",
        5,
    )
    assert list(agent.teams.all()) == [returns_team]


def test_promoting_an_agent_to_admin_makes_them_staff(staff_client: Client, agent: User) -> None:
    response = staff_client.post(
        reverse("admin:helpdesk_user_change", args=[agent.pk]), user_form(agent, role="admin")
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.role, agent.is_staff) == ("admin", True)


def test_the_last_admin_cannot_demote_themselves(staff_client: Client, admin: User) -> None:
    response = staff_client.post(
        reverse("admin:helpdesk_user_change", args=[admin.pk]), user_form(admin, role="agent")
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:helpdesk_user_change", args=[admin.pk])
    assert flashed(response) == [
        "Nothing was saved: Alice Admin is the last active admin; make someone else an admin first."
    ]
    admin.refresh_from_db()
    assert (admin.role, admin.is_staff) == ("admin", True)


def test_only_a_superuser_may_grant_superuser(staff_client: Client, agent: User) -> None:
    response = staff_client.post(
        reverse("admin:helpdesk_user_change", args=[agent.pk]),
        user_form(agent, is_superuser="on"),
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.is_superuser, agent.is_staff) == (False, False)


def test_superuser_may_grant_superuser(client: Client, agent: User) -> None:
    root = User.objects.create_superuser("root", "root@shop.test", "pw")
    client.force_login(root)

    response = client.post(
        reverse("admin:helpdesk_user_change", args=[agent.pk]),
        user_form(agent, is_superuser="on"),
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.is_superuser, agent.is_staff) == (True, True)


def test_user_add_goes_through_create_agent(staff_client: Client) -> None:
    response = staff_client.post(
        reverse("admin:helpdesk_user_add"),
        {
            "username": "frank",
            "email": "Frank@Shop.test",
            "display_name": "Frank",
            "role": "agent",
            "usable_password": "true",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
            "_save": "Save",
        },
    )

    frank = User.objects.get(username="frank")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:helpdesk_user_change", args=[frank.pk])
    assert (frank.email, frank.role, frank.is_staff) == ("frank@shop.test", "agent", False)
    assert frank.check_password("a-long-unusual-passphrase")


def test_user_add_without_a_password_leaves_it_unusable(staff_client: Client) -> None:
    response = staff_client.post(
        reverse("admin:helpdesk_user_add"),
        {"username": "grace", "role": "admin", "usable_password": "false", "_save": "Save"},
    )

    grace = User.objects.get(username="grace")
    assert response.status_code == 302
    assert (grace.has_usable_password(), grace.is_staff) == (False, True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("languages", '"en"'),
        ("languages", '["en", 7]'),
        ("languages", '["english language"]'),
        ("languages", "[not json"),
        ("time_zone", "Mars/Olympus"),
        ("role", "owner"),
        ("capacity", "-1"),
        ("availability", "asleep"),
        ("teams", ["x"]),
    ],
)
def test_user_form_rejects_bad_input(
    staff_client: Client, agent: User, field: str, value: Any
) -> None:
    response = staff_client.post(
        reverse("admin:helpdesk_user_change", args=[agent.pk]), user_form(agent, **{field: value})
    )

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    agent.refresh_from_db()
    assert (agent.languages, agent.time_zone, agent.role) == ([], "", "agent")


def test_language_codes_are_cleaned() -> None:
    assert clean_language_codes(["EN", " de-AT ", "en", "zh-Hant"]) == ["en", "de-AT", "zh-Hant"]
    assert clean_language_codes(["pt_br", "ZH-HANT", "es-419", "pt-BR"]) == [
        "pt-BR",
        "zh-Hant",
        "es-419",
    ]
    assert clean_language_codes(None) == []


def test_too_many_languages_are_refused() -> None:
    with pytest.raises(Exception, match="at most 20"):
        clean_language_codes([f"e{chr(97 + i % 26)}" for i in range(21)])


def test_time_zone_names_are_checked() -> None:
    assert normalize_time_zone(" Europe/Lisbon ") == "Europe/Lisbon"
    assert normalize_time_zone("") == ""
    with pytest.raises(Exception, match="not a time zone"):
        normalize_time_zone("Europe/Atlantis")


# --- Teams and counters --------------------------------------------------------------------


def test_team_pages_answer_and_search(
    staff_client: Client, support_team: Team, returns_team: Team, agent: User
) -> None:
    listed = staff_client.get(reverse("admin:helpdesk_team_changelist"), {"q": "ret"})
    change = staff_client.get(reverse("admin:helpdesk_team_change", args=[support_team.pk]))
    add = staff_client.get(reverse("admin:helpdesk_team_add"))

    assert [t.name for t in listed.context["cl"].result_list] == ["Returns"]
    assert (change.status_code, add.status_code) == (200, 200)


def test_team_add_change_and_delete_go_through_the_services(staff_client: Client) -> None:
    added = staff_client.post(
        reverse("admin:helpdesk_team_add"),
        {"name": "  Billing ", "slug": "billing", "description": ""},
    )
    team = Team.objects.get(slug="billing")
    assert (added.status_code, team.name) == (302, "Billing")

    changed = staff_client.post(
        reverse("admin:helpdesk_team_change", args=[team.pk]),
        {"name": "Billing & Payments", "slug": "billing", "description": "Invoices"},
    )
    team.refresh_from_db()
    assert (changed.status_code, team.name, team.description) == (
        302,
        "Billing & Payments",
        "Invoices",
    )

    deleted = staff_client.post(
        reverse("admin:helpdesk_team_delete", args=[team.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()


def test_team_keeps_its_tickets_when_deleted(
    staff_client: Client, support_team: Team, ticket: Ticket
) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(team=support_team)

    staff_client.post(
        reverse("admin:helpdesk_team_changelist"),
        {"action": "delete_selected", "_selected_action": [support_team.pk], "post": "yes"},
    )

    ticket.refresh_from_db()
    assert ticket.team is None
    assert not Team.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "slug": "x"},
        {"name": "Sales", "slug": "not a slug"},
        {"name": "Support", "slug": "support"},
    ],
)
def test_team_form_rejects_bad_input(
    staff_client: Client, support_team: Team, data: dict[str, str]
) -> None:
    response = staff_client.post(reverse("admin:helpdesk_team_add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert list(Team.objects.values_list("slug", flat=True)) == ["support"]


def test_sequences_are_read_only(staff_client: Client, ticket: Ticket) -> None:
    counter = Sequence.objects.get(name="ticket_number")

    listed = staff_client.get(reverse("admin:helpdesk_sequence_changelist"), {"q": "ticket"})
    shown = staff_client.get(reverse("admin:helpdesk_sequence_change", args=[counter.pk]))
    edit = staff_client.post(
        reverse("admin:helpdesk_sequence_change", args=[counter.pk]), {"value": "1"}
    )
    add = staff_client.get(reverse("admin:helpdesk_sequence_add"))

    assert [s.pk for s in listed.context["cl"].result_list] == ["ticket_number"]
    assert (shown.status_code, edit.status_code, add.status_code) == (200, 403, 403)
    counter.refresh_from_db()
    assert counter.value == ticket.number


# --- API tokens ----------------------------------------------------------------------------


def test_admin_by_role_issues_lists_and_revokes_api_tokens(
    staff_client: Client, admin: User, agent: User, teammate: User
) -> None:
    """alice is no superuser and holds no Django permission: her role opens the token screen."""
    assert not admin.is_superuser
    Token.objects.create(user=teammate)

    index = staff_client.get("/admin/")
    added = staff_client.post(
        reverse("admin:authtoken_tokenproxy_add"), {"user": agent.pk, "_save": "Save"}
    )
    listed = staff_client.get(reverse("admin:authtoken_tokenproxy_changelist"), {"q": "bob"})
    # The token screens are addressed by the user's id, not by the key.
    deleted = staff_client.post(
        reverse("admin:authtoken_tokenproxy_delete", args=[teammate.pk]), {"post": "yes"}
    )

    tokens = {
        model["object_name"]: model["perms"]
        for app in index.context["app_list"]
        for model in app["models"]
    }
    assert tokens["TokenProxy"] == {"add": True, "change": True, "delete": True, "view": True}
    assert (added.status_code, deleted.status_code) == (302, 302)
    issued = Token.objects.get(user=agent)
    assert [token.key for token in listed.context["cl"].result_list] == [issued.key]
    assert list(Token.objects.values_list("user__username", flat=True)) == ["bob"]


def test_agent_cannot_reach_the_token_screen(client: Client, agent: User) -> None:
    client.force_login(agent)
    url = reverse("admin:authtoken_tokenproxy_add")

    response = client.post(url, {"user": agent.pk})

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={url}"
    assert not Token.objects.exists()
