"""helpdesk models: the ticket-number sequence and what makes a user an admin."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from helpdesk.models import Sequence, User

pytestmark = pytest.mark.django_db


def test_sequence_starts_at_one_and_increments() -> None:
    assert [Sequence.next_value("ticket_number") for _ in range(3)] == [1, 2, 3]
    assert Sequence.objects.get(name="ticket_number").value == 3


def test_sequences_count_independently() -> None:
    Sequence.next_value("a")
    Sequence.next_value("a")

    assert Sequence.next_value("b") == 1
    assert Sequence.next_value("a") == 3


def test_sequence_continues_from_its_stored_value() -> None:
    """Numbers continue after an import or a restore that set the counter."""
    Sequence.objects.create(name="ticket_number", value=1041)

    assert Sequence.next_value("ticket_number") == 1042


@pytest.mark.parametrize(
    ("role", "is_superuser", "is_active", "expected"),
    [
        (User.Role.ADMIN, False, True, True),
        (User.Role.AGENT, False, True, False),
        (User.Role.AGENT, True, True, True),
        (User.Role.ADMIN, False, False, False),
        (User.Role.AGENT, True, False, False),
    ],
)
def test_is_admin(role: str, is_superuser: bool, is_active: bool, expected: bool) -> None:
    """Admins by role or superuser flag, and only while active."""
    user = User.objects.create_user(
        "frank", "frank@shop.test", "pw", role=role, is_superuser=is_superuser, is_active=is_active
    )

    assert user.is_admin is expected


def test_a_new_user_is_an_agent() -> None:
    user = User.objects.create_user("grace", "grace@shop.test", "pw")

    assert (user.role, user.is_admin, user.is_superuser) == (User.Role.AGENT, False, False)


def test_user_name_prefers_the_display_name() -> None:
    user = User.objects.create_user("heidi", first_name="Heidi", last_name="Klum")

    assert user.name == "Heidi Klum"
    user.display_name = "Heidi K."
    assert user.name == "Heidi K."
    assert str(User.objects.create_user("ivan")) == "ivan"


def test_createsuperuser_noinput_makes_an_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    """createsuperuser --noinput with DJANGO_SUPERUSER_* variables gives a working admin."""
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@shop.test")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-passphrase-42")

    call_command("createsuperuser", interactive=False, verbosity=0)

    user = User.objects.get(username="root")
    assert (user.role, user.is_superuser, user.is_staff, user.is_admin) == (
        User.Role.ADMIN,
        True,
        True,
        True,
    )
    assert user.email == "root@shop.test"
    assert user.check_password("a-long-passphrase-42")


def test_create_superuser_keeps_an_explicit_role() -> None:
    """The manager only defaults the role; a caller's choice stands."""
    user = User.objects.create_superuser("root2", "r@shop.test", "pw", role=User.Role.AGENT)

    assert user.role == User.Role.AGENT
    assert user.is_admin is True
