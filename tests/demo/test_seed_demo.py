"""``manage.py seed_demo``: a small demo shop, built through the services, safe to re-run."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import phonenumbers
import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import timezone

from channels_inbox.models import ChannelAccount
from customers.models import Customer, Identity, Order
from demo.data import DEMO_PASSWORD, SHOP_DOMAIN
from demo.seed import login_lines
from helpdesk.channel_kinds import ChannelKind
from helpdesk.models import Team, User
from tickets.models import Message, Tag, Ticket, TicketActivity

SMALL = {"customers": 20, "tickets": 40}
pytestmark = pytest.mark.django_db


def seed(**options: Any) -> str:
    out = StringIO()
    call_command("seed_demo", **{**SMALL, **options}, stdout=out)
    return out.getvalue()


def model_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
    }


def test_small_seed_creates_the_whole_shop() -> None:
    """Staff, channels, customers and exactly the asked number of tickets, covering every
    channel and status, with notes, tags, merges and follow-ups."""
    seed()

    assert sorted(Team.objects.values_list("name", flat=True)) == [
        "Returns & Exchanges",
        "Support",
        "VIP & Wholesale",
    ]
    assert User.objects.filter(role=User.Role.AGENT).count() == 8
    admin = User.objects.get(role=User.Role.ADMIN)
    assert (admin.username, admin.is_superuser, admin.is_staff) == ("admin", True, True)
    assert ChannelAccount.objects.count() == 7
    assert set(ChannelAccount.objects.values_list("kind", flat=True)) == set(ChannelKind.values)
    assert not ChannelAccount.objects.filter(default_team__isnull=True).exists()
    assert Customer.objects.count() == 20
    assert Ticket.objects.count() == 40
    assert set(Ticket.objects.values_list("channel", flat=True)) == set(ChannelKind.values)
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Ticket.Status.values)
    assert Message.objects.filter(kind=Message.Kind.NOTE).exists()
    assert Message.objects.filter(kind=Message.Kind.REPLY).exists()
    assert Tag.objects.filter(tickets__isnull=False).exists()
    assert Ticket.objects.filter(merged_into__isnull=False).exists()
    assert Ticket.objects.filter(follow_up_of__isnull=False).exists()
    assert Ticket.objects.filter(orders__isnull=False).exists()


def test_agents_have_names_languages_capacity_and_teams() -> None:
    seed()

    agents = User.objects.filter(role=User.Role.AGENT).prefetch_related("teams")
    for agent in agents:
        assert agent.display_name
        assert agent.languages
        assert agent.capacity > 0
        assert agent.teams.exists()
        assert agent.email == f"{agent.username}@{SHOP_DOMAIN}"
    languages = {language for agent in agents for language in agent.languages}
    assert {"en", "de", "fr", "es", "pt"} <= languages
    assert {team.name for agent in agents for team in agent.teams.all()} == {
        "Support",
        "Returns & Exchanges",
        "VIP & Wholesale",
    }


def test_every_conversation_has_a_customer_message_and_a_believable_history() -> None:
    """Each ticket holds its customer's messages (a merged ticket's moved to its target), and
    every back-dated row lies within the last sixty days, in order."""
    seed()
    now = timezone.now()

    for ticket in Ticket.objects.all():
        if ticket.merged_into_id is None:
            assert ticket.messages.filter(kind=Message.Kind.CUSTOMER).exists(), ticket.number
        else:
            assert ticket.activities.filter(verb=TicketActivity.Verb.MERGED_INTO).exists()
        assert now - timedelta(days=60) < ticket.created_at < now
        assert ticket.created_at <= ticket.updated_at < now
    for message in Message.objects.select_related("ticket"):
        assert message.ticket.created_at <= message.created_at < now
    for activity in TicketActivity.objects.select_related("ticket"):
        assert activity.ticket.created_at <= activity.created_at < now
    for ticket in Ticket.objects.filter(status__in=["solved", "closed"], merged_into=None):
        assert ticket.first_responded_at is not None
        assert ticket.last_message_at is not None
        assert ticket.created_at < ticket.first_responded_at <= ticket.last_message_at
    # Replies are shown as delivered, never left queued for an outbound worker.
    assert not Message.objects.filter(
        kind=Message.Kind.REPLY, delivery_status=Message.DeliveryStatus.QUEUED
    ).exists()


def test_inbound_messages_carry_demo_provider_ids() -> None:
    seed()

    inbound = Message.objects.filter(kind=Message.Kind.CUSTOMER)
    ids = list(inbound.values_list("provider_message_id", flat=True))
    assert len(ids) == len(set(ids))
    assert all(pid.startswith("demo-t") for pid in ids)


def test_orders_add_up() -> None:
    """Lines sum to the subtotal; total = subtotal + shipping + tax; shipped orders have
    tracking with a carrier link."""
    seed()

    orders = Order.objects.prefetch_related("lines")
    assert 20 <= orders.count() <= 100
    for order in orders:
        lines = list(order.lines.all())
        assert lines
        for line in lines:
            assert line.total == line.unit_price * line.quantity
        assert sum((line.total for line in lines), Decimal(0)) == order.subtotal
        assert order.total == order.subtotal + order.shipping_total + order.tax_total
        assert order.customer_id is not None
        assert order.shipping_address["country_code"]
        if order.fulfillment_status in ("fulfilled", "partial", "returned"):
            (tracking,) = order.tracking
            assert tracking["number"] in tracking["url"]
            assert tracking["url"].startswith("https://")
        else:
            assert order.tracking == []


def test_phone_identities_are_valid_e164_numbers() -> None:
    seed()

    phones = Identity.objects.filter(kind__in=["whatsapp", "sms"])
    assert phones.exists()
    for identity in phones:
        number = phonenumbers.parse(identity.address)
        assert phonenumbers.is_valid_number(number), identity.address
        assert identity.address == phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.E164
        )
    assert set(Identity.objects.values_list("kind", flat=True)) == set(ChannelKind.values)


def test_second_run_changes_nothing() -> None:
    first_output = seed()
    counts = model_counts()
    last_activity = TicketActivity.objects.order_by("-id").values_list("id", flat=True).first()

    output = seed()

    assert "Demo data created" in first_output
    assert "The demo data is already there; nothing was changed." in output
    assert model_counts() == counts
    assert TicketActivity.objects.order_by("-id").values_list("id", flat=True).first() == (
        last_activity
    )


def test_second_run_completes_what_a_first_run_left_unfinished() -> None:
    """Missing objects are found one by one: a lost identity, order and ticket come back."""
    seed()
    counts = model_counts()
    plain = (
        Ticket.objects.filter(merged_into=None, follow_up_of=None, follow_ups=None)
        .exclude(merged_tickets__isnull=False)
        .order_by("-number")
        .first()
    )
    assert plain is not None
    first_id = plain.messages.order_by("id").values_list("provider_message_id", flat=True)[0]
    plain.delete()
    whatsapp = Identity.objects.filter(kind="whatsapp").order_by("id").first()
    assert whatsapp is not None
    whatsapp.delete()
    unlinked_order = Order.objects.filter(tickets=None).order_by("id").first()
    assert unlinked_order is not None
    unlinked_order.delete()

    output = seed()

    assert "Demo data created: 1 identities, 1 orders, 1 tickets." in output
    assert model_counts() == counts
    assert Message.objects.filter(provider_message_id=first_id).exists()


def test_demo_users_log_in_with_the_documented_password() -> None:
    output = seed(tickets=0)

    for username, password, _role in login_lines():
        assert password == DEMO_PASSWORD
        assert authenticate(username=username, password=password) is not None
        assert f"  {username}" in output
    assert login_lines()[0] == ("admin", "switchboard-demo", "admin")
    assert len(login_lines()) == 9


def test_existing_admin_keeps_its_password() -> None:
    User.objects.create_superuser("admin", "owner@shop.test", "owner-secret")

    output = seed(tickets=0)

    assert authenticate(username="admin", password="owner-secret") is not None
    assert User.objects.get(username="admin").email == "owner@shop.test"
    assert "These users already existed and keep their passwords: admin." in output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--customers", "0"], "--customers must be between 1 and 5000; got 0."),
        (["--tickets", "-1"], "--tickets must be between 0 and 20000; got -1."),
        (["--tickets", "20001"], "--tickets must be between 0 and 20000; got 20001."),
        (["--customers", "many"], "invalid int value: 'many'"),
    ],
)
def test_bad_options_are_refused(arguments: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("seed_demo", *arguments, stdout=StringIO())

    assert not Team.objects.exists()
    assert not Ticket.objects.exists()


def test_createsuperuser_noinput_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "owner")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "owner@shop.test")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-owner-password")

    call_command("createsuperuser", interactive=False, stdout=StringIO())

    user = User.objects.get(username="owner")
    assert (user.email, user.role, user.is_superuser, user.is_staff) == (
        "owner@shop.test",
        User.Role.ADMIN,
        True,
        True,
    )
    assert user.check_password("a-long-owner-password")


def test_createsuperuser_noinput_without_a_username_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-owner-password")

    with pytest.raises(CommandError, match="You must use --username with --noinput"):
        call_command("createsuperuser", interactive=False, stdout=StringIO())

    assert not User.objects.exists()
