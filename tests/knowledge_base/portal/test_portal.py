"""The customer portal: one-time sign-in links, and a boundary that shows a customer their
own tickets' public conversation and orders, and nothing else."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Order, OrderLine
from customers.services import create_customer
from helpdesk.models import User
from knowledge_base.models import PortalLoginLink
from knowledge_base.portal.auth import SESSION_KEY
from tickets.models import Message, Ticket
from tickets.services import add_note, add_reply, change_status

PORTAL = reverse("help:portal")


@pytest.fixture
def ana(db: None) -> Customer:
    return create_customer(name="Ana Souza", email="ana@example.com")


@pytest.fixture
def ben(db: None) -> Customer:
    return create_customer(name="Ben Ito", email="ben@example.com")


def ask_for_link(client: Client, capture: Any, email: str, **extra: Any) -> Any:
    with capture(execute=True):
        return client.post(PORTAL, {"email": email}, **extra)


def link_from_outbox() -> str:
    found = re.search(r"http://\S+/help/portal/sign-in/\S+/", str(mail.outbox[-1].body))
    assert found is not None
    return found.group(0).split("/help/", 1)[1]


def signed_in(client: Client, customer: Customer) -> Client:
    session = client.session
    session[SESSION_KEY] = customer.pk
    session.save()
    return client


def test_asking_for_a_link_mails_one_that_signs_in_once(
    client: Client, ana: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    response = ask_for_link(client, django_capture_on_commit_callbacks, "ANA@example.com")

    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.com"]
    path = "/help/" + link_from_outbox()
    link = PortalLoginLink.objects.get()
    assert link.customer == ana
    assert link.token_hash not in path  # only the hash is stored

    # Opening the link asks for a click and uses nothing up (mail scanners fetch links).
    opened = client.get(path)
    assert opened.status_code == 200
    assert client.get(path).status_code == 200
    session_before = client.session.session_key

    signed = client.post(path)
    assert signed.status_code == 302
    assert client.session[SESSION_KEY] == ana.pk
    assert client.session.session_key != session_before  # rotated
    assert "_auth_user_id" not in client.session  # not an agent sign-in

    # Second use is refused, in another browser too.
    other = Client()
    assert other.post(path).status_code == 410
    assert SESSION_KEY not in other.session
    assert other.get(path).status_code == 410


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    client: Client, ana: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    known = ask_for_link(client, django_capture_on_commit_callbacks, "ana@example.com")
    mail.outbox.clear()
    unknown = ask_for_link(client, django_capture_on_commit_callbacks, "nobody@example.com")

    assert unknown.status_code == known.status_code == 200
    strip = lambda body: body.replace("nobody@example.com", "X").replace("ana@example.com", "X")  # noqa: E731
    assert strip(unknown.content.decode()) == strip(known.content.decode())
    assert mail.outbox == []
    assert PortalLoginLink.objects.count() == 1


@pytest.mark.parametrize("email", ["", "not an address", "a@b@c"])
def test_a_bad_address_is_a_400(
    client: Client, db: None, django_capture_on_commit_callbacks: Any, email: str
) -> None:
    response = ask_for_link(client, django_capture_on_commit_callbacks, email)

    assert response.status_code == 400
    assert mail.outbox == []


def test_an_expired_link_is_refused(
    client: Client, ana: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    ask_for_link(client, django_capture_on_commit_callbacks, "ana@example.com")
    path = "/help/" + link_from_outbox()

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert client.get(path).status_code == 410
        assert client.post(path).status_code == 410
    assert SESSION_KEY not in client.session
    assert PortalLoginLink.objects.get().used_at is None


@pytest.mark.parametrize("token", ["x", "abc:def", "a" * 300])
def test_a_forged_link_is_refused(client: Client, db: None, token: str) -> None:
    path = reverse("help:portal-link", args=[token])

    assert client.get(path).status_code == 410
    assert client.post(path).status_code == 410
    assert SESSION_KEY not in client.session


def test_links_are_rate_limited_per_address(
    client: Client, ana: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    statuses = [
        ask_for_link(client, django_capture_on_commit_callbacks, "ana@example.com").status_code
        for _ in range(4)
    ]

    assert statuses == [200, 200, 200, 429]
    assert len(mail.outbox) == 3


def test_links_are_rate_limited_per_ip(
    client: Client, db: None, django_capture_on_commit_callbacks: Any
) -> None:
    statuses = [
        ask_for_link(
            client,
            django_capture_on_commit_callbacks,
            f"c{n}@example.com",
            REMOTE_ADDR="198.51.100.7",
        ).status_code
        for n in range(11)
    ]

    assert statuses == [200] * 10 + [429]


def test_the_portal_lists_only_the_customers_own_tickets(
    client: Client, ana: Customer, ben: Customer, make_ticket: Callable[..., Ticket]
) -> None:
    mine = make_ticket(sender_address="ana@example.com", subject="Where is my lamp")
    theirs = make_ticket(sender_address="ben@example.com", subject="Ben's secret order")

    body = signed_in(client, ana).get(PORTAL).content.decode()

    assert "Where is my lamp" in body
    assert f"#{mine.number}" in body
    assert "Ben&#x27;s secret order" not in body
    assert "secret" not in body
    assert client.get(reverse("help:portal-ticket", args=[theirs.number])).status_code == 404
    assert client.get(reverse("help:portal-ticket", args=[999999])).status_code == 404


def test_another_customers_ticket_takes_no_reply(
    client: Client,
    ana: Customer,
    ben: Customer,
    make_ticket: Callable[..., Ticket],
    django_capture_on_commit_callbacks: Any,
) -> None:
    theirs = make_ticket(sender_address="ben@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(client, ana).post(
            reverse("help:portal-ticket", args=[theirs.number]), {"text": "Hijack"}
        )

    assert response.status_code == 404
    assert not Message.objects.filter(text="Hijack").exists()


def test_signed_out_visitors_are_sent_to_sign_in(
    client: Client, ana: Customer, make_ticket: Callable[..., Ticket]
) -> None:
    ticket = make_ticket(sender_address="ana@example.com")

    assert client.get(reverse("help:portal-ticket", args=[ticket.number]))["Location"] == PORTAL
    assert client.get(reverse("help:portal-orders"))["Location"] == PORTAL
    assert "Email me a sign-in link" in client.get(PORTAL).content.decode()


def test_the_conversation_hides_notes_and_agents_private_data(
    client: Client,
    ana: Customer,
    agent: User,
    make_ticket: Callable[..., Ticket],
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = make_ticket(sender_address="ana@example.com", text="My lamp is broken")
    # Queued, not delivered (no delivery task runs here): a reply that failed is not shown.
    add_note(ticket, author=agent, text="Internal: customer is grumpy")
    add_reply(ticket, author=agent, text="We are sending a new lamp.", check_channel=False)

    response = signed_in(client, ana).get(reverse("help:portal-ticket", args=[ticket.number]))
    body = response.content.decode()

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert "My lamp is broken" in body
    assert "We are sending a new lamp." in body
    assert "Bob Agent" in body  # the display name
    assert "grumpy" not in body
    assert agent.email not in body
    assert agent.username not in body


def test_a_reply_lands_on_the_ticket_as_a_customer_message(
    client: Client,
    ana: Customer,
    agent: User,
    make_ticket: Callable[..., Ticket],
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = make_ticket(sender_address="ana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        change_status(ticket, Ticket.Status.PENDING, actor=agent)
        response = signed_in(client, ana).post(
            reverse("help:portal-ticket", args=[ticket.number]),
            {"text": "  It still does not work <b>at all</b>  "},
        )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("help:portal-ticket", args=[ticket.number]))
    message = Message.objects.filter(ticket=ticket).order_by("id").last()
    assert message is not None
    assert (message.direction, message.kind, message.author_customer_id) == (
        Message.Direction.INBOUND,
        Message.Kind.CUSTOMER,
        ana.pk,
    )
    assert message.text == "It still does not work <b>at all</b>"
    assert message.threading_reason == Message.ThreadingReason.TICKET_TOKEN_ADDRESS
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN  # the customer's answer reopens it
    page = client.get(reverse("help:portal-ticket", args=[ticket.number])).content.decode()
    assert "&lt;b&gt;at all&lt;/b&gt;" in page


def test_an_empty_reply_is_a_400(
    client: Client, ana: Customer, make_ticket: Callable[..., Ticket]
) -> None:
    ticket = make_ticket(sender_address="ana@example.com")
    count = Message.objects.count()

    response = signed_in(client, ana).post(
        reverse("help:portal-ticket", args=[ticket.number]), {"text": "   "}
    )

    assert response.status_code == 400
    assert Message.objects.count() == count


def test_a_reply_to_a_closed_ticket_opens_a_follow_up(
    client: Client,
    ana: Customer,
    agent: User,
    make_ticket: Callable[..., Ticket],
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = make_ticket(sender_address="ana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        change_status(ticket, Ticket.Status.CLOSED, actor=agent)
        response = signed_in(client, ana).post(
            reverse("help:portal-ticket", args=[ticket.number]), {"text": "One more thing"}
        )

    follow_up = Ticket.objects.get(follow_up_of=ticket)
    assert response["Location"].startswith(reverse("help:portal-ticket", args=[follow_up.number]))


def test_tickets_of_a_merged_customer_record_are_shown(
    client: Client, ana: Customer, make_ticket: Callable[..., Ticket]
) -> None:
    old = make_ticket(sender_address="ana.old@example.com", subject="From my old address")
    Customer.objects.filter(pk=old.customer_id).update(merged_into=ana)

    body = signed_in(client, ana).get(PORTAL).content.decode()

    assert "From my old address" in body


def test_orders_show_status_items_totals_and_safe_tracking_links(
    client: Client, ana: Customer, ben: Customer
) -> None:
    order = Order.objects.create(
        customer=ana,
        store="shop",
        external_id="1",
        number="#1042",
        placed_at=timezone.now(),
        currency="EUR",
        shipping_total="4.90",
        total="54.80",
        fulfillment_status=Order.FulfillmentStatus.FULFILLED,
        financial_status=Order.FinancialStatus.PAID,
        tracking=[
            {"carrier": "DHL", "number": "JJD000123", "url": "https://dhl.example/JJD000123"},
            {"carrier": "Evil", "number": "X1", "url": "javascript:alert(1)"},
        ],
    )
    OrderLine.objects.create(
        order=order, title="Desk lamp", quantity=2, unit_price="24.95", total="49.90"
    )
    Order.objects.create(
        customer=ben,
        store="shop",
        external_id="2",
        number="#2000",
        placed_at=timezone.now(),
        currency="EUR",
        total="1.00",
    )

    body = signed_in(client, ana).get(reverse("help:portal-orders")).content.decode()

    assert "Order #1042" in body
    assert "Fulfilled" in body
    assert "Paid" in body
    assert "Desk lamp" in body
    assert "49.90 EUR" in body
    assert "54.80 EUR" in body
    assert 'href="https://dhl.example/JJD000123"' in body
    assert "javascript:" not in body
    assert "#2000" not in body


def test_signing_out_ends_the_portal_session(client: Client, ana: Customer) -> None:
    signed_in(client, ana)

    response = client.post(reverse("help:portal-sign-out"))

    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    assert "Email me a sign-in link" in client.get(PORTAL).content.decode()
