"""Every write to teams and agents goes through these functions.

Configuration belongs to admins: each function checks that ``actor`` is one and raises
``django.core.exceptions.PermissionDenied`` otherwise, so a caller that forgot its own
permission check still cannot change anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, Q

from helpdesk.events import AgentAvailabilityChanged, AgentRoutingChanged, emit
from helpdesk.models import Team, User


class HelpdeskError(Exception):
    """A configuration change that is not allowed; the message is fit to show the admin."""


class Unset:
    """The type of ``UNSET``: "leave this field as it is" in an update function."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset()


def check_admin(actor: User | None) -> None:
    """Raise PermissionDenied unless ``actor`` is an active admin."""
    if actor is None or not actor.is_admin:
        raise PermissionDenied("Only admins can change the help desk's configuration.")


def insert_unique(instance: Model) -> None:
    """Insert a new row that ``full_clean`` has checked. Two requests creating the same slug
    or username at the same moment both pass that check; the unique constraint then refuses
    the second, and this turns its IntegrityError into the ValidationError (a 400) the check
    would have given a moment later."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationError(
            f"A {instance._meta.verbose_name} with the same unique values was just created; "
            "change them and try again."
        ) from None


# --- Teams ---------------------------------------------------------------------------------


def create_team(*, name: str, slug: str, description: str = "", actor: User) -> Team:
    check_admin(actor)
    team = Team(name=name.strip(), slug=slug, description=description)
    team.full_clean()
    insert_unique(team)
    return team


def update_team(
    team: Team,
    *,
    actor: User,
    name: str | Unset = UNSET,
    slug: str | Unset = UNSET,
    description: str | Unset = UNSET,
) -> Team:
    check_admin(actor)
    changes = {"name": name, "slug": slug, "description": description}
    changed = [field for field, value in changes.items() if not isinstance(value, Unset)]
    for field in changed:
        value = changes[field]
        setattr(team, field, value.strip() if field == "name" and isinstance(value, str) else value)
    team.full_clean()
    if changed:
        team.save(update_fields=changed)
    return team


def delete_team(team: Team, *, actor: User) -> None:
    """Tickets and channel accounts of the team keep existing, without a team."""
    check_admin(actor)
    team.delete()


# --- Agents --------------------------------------------------------------------------------


def _check_keeps_an_admin(agent: User, *, role: str, is_active: bool) -> None:
    """Refuse a change that would leave nobody able to configure the help desk.

    The caller holds a transaction; the admin rows are locked so two admins demoting each
    other at the same moment cannot both succeed.
    """
    if agent.pk is None or not agent.is_admin:
        return
    if is_active and (role == User.Role.ADMIN or agent.is_superuser):
        return
    admins = (
        User.objects.select_for_update()
        .filter(Q(role=User.Role.ADMIN) | Q(is_superuser=True), is_active=True)
        .exclude(pk=agent.pk)
        .order_by("pk")
    )
    if not list(admins.values_list("pk", flat=True)):
        raise HelpdeskError(f"{agent} is the last active admin; make someone else an admin first.")


def create_agent(
    *,
    username: str,
    email: str = "",
    password: str | None = None,
    display_name: str = "",
    first_name: str = "",
    last_name: str = "",
    role: str = User.Role.AGENT,
    teams: Iterable[Team] = (),
    capacity: int = 20,
    languages: Iterable[str] = (),
    skills: Iterable[str] = (),
    availability: str = User.Availability.OFFLINE,
    time_zone: str = "",
    is_active: bool = True,
    actor: User,
) -> User:
    """A new agent or admin. Without a password the account cannot sign in with one until an
    admin sets it (or a password reset does)."""
    check_admin(actor)
    agent = User(
        username=username,
        email=email.strip().lower(),
        display_name=display_name.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        role=role,
        capacity=capacity,
        languages=list(languages),
        skills=list(skills),
        availability=availability,
        time_zone=time_zone,
        is_active=is_active,
    )
    if password:
        agent.set_password(password)
    else:
        agent.set_unusable_password()
    agent.full_clean()
    with transaction.atomic():
        insert_unique(agent)
        agent.teams.set(list(teams))
    return agent


def update_agent(
    agent: User,
    *,
    actor: User,
    username: str | Unset = UNSET,
    email: str | Unset = UNSET,
    password: str | Unset | None = UNSET,
    display_name: str | Unset = UNSET,
    first_name: str | Unset = UNSET,
    last_name: str | Unset = UNSET,
    role: str | Unset = UNSET,
    teams: Iterable[Team] | Unset = UNSET,
    capacity: int | Unset = UNSET,
    languages: Iterable[str] | Unset = UNSET,
    skills: Iterable[str] | Unset = UNSET,
    availability: str | Unset = UNSET,
    time_zone: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> User:
    """Change the given fields. ``password=None`` makes the password unusable."""
    check_admin(actor)
    plain: dict[str, object] = {
        "username": username,
        "email": email.strip().lower() if isinstance(email, str) else email,
        "display_name": display_name.strip() if isinstance(display_name, str) else display_name,
        "first_name": first_name.strip() if isinstance(first_name, str) else first_name,
        "last_name": last_name.strip() if isinstance(last_name, str) else last_name,
        "role": role,
        "capacity": capacity,
        "languages": list(languages) if not isinstance(languages, Unset) else languages,
        "skills": list(skills) if not isinstance(skills, Unset) else skills,
        "availability": availability,
        "time_zone": time_zone,
        "is_active": is_active,
    }
    with transaction.atomic():
        agent = User.objects.select_for_update().get(pk=agent.pk)
        availability_before = agent.availability
        _check_keeps_an_admin(
            agent,
            role=agent.role if isinstance(role, Unset) else role,
            is_active=agent.is_active if isinstance(is_active, Unset) else is_active,
        )
        changed = [field for field, value in plain.items() if not isinstance(value, Unset)]
        for field in changed:
            setattr(agent, field, plain[field])
        if is_active is False:
            changed.append("availability")
            agent.availability = User.Availability.OFFLINE
        if not isinstance(password, Unset):
            changed.append("password")
            if password:
                agent.set_password(password)
            else:
                agent.set_unusable_password()
        agent.full_clean()
        if changed:
            agent.save(update_fields=sorted(set(changed)))
        if not isinstance(teams, Unset):
            agent.teams.set(list(teams))
        if agent.availability != availability_before:
            emit(AgentAvailabilityChanged(user_id=agent.pk, availability=agent.availability))
        routing_fields = sorted(
            {"capacity", "skills", "languages"}.intersection(changed)
            | (set() if isinstance(teams, Unset) else {"teams"})
        )
        if routing_fields:
            emit(AgentRoutingChanged(user_id=agent.pk, fields=tuple(routing_fields)))
    return agent


def deactivate_agent(agent: User, *, actor: User) -> User:
    """Sign the agent out of Switchboard for good. The row stays, so the tickets, messages and
    audit lines that name the agent keep doing so; assignments are left for a lead to move."""
    return update_agent(agent, actor=actor, is_active=False)


def set_availability(agent: User, availability: str, *, actor: User) -> User:
    """An agent sets their own availability; an admin may set anyone's."""
    if actor.pk != agent.pk:
        check_admin(actor)
    if availability not in User.Availability.values:
        raise HelpdeskError(f"{availability!r} is not an availability.")
    with transaction.atomic():
        # The row lock orders two changes of one agent, so the last event names the last value.
        agent = User.objects.select_for_update().get(pk=agent.pk)
        if agent.availability == availability:
            return agent
        agent.availability = availability
        agent.save(update_fields=["availability"])
        # Routing hands out work to an agent coming online and may take it back from one
        # going offline.
        emit(AgentAvailabilityChanged(user_id=agent.pk, availability=availability))
    return agent
