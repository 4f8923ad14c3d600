"""The macro body's variables: exactly six (seven for acknowledgements), nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from automation.macros.templating import (
    AUTO_ACK_VARIABLES,
    VARIABLES,
    render_template,
    validate_template,
)
from customers.models import Order
from helpdesk.models import User
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_every_variable_renders_the_ticket_s_values(
    ticket: Ticket, order: Order, agent: User
) -> None:
    """Given Ana's ticket with order #1001, each variable becomes its plain value."""
    text = (
        "{{ customer.first_name }}|{{ customer.name }}|{{ order.number }}|"
        "{{ order.tracking_url }}|{{ agent.name }}|{{ ticket.number }}"
    )

    rendered = render_template(text, ticket=ticket, agent=agent)

    assert rendered == f"Ana|Ana Souza|#1001|https://track.test/JD01|Bob Agent|{ticket.number}"


@pytest.mark.parametrize(
    "text",
    ["{{customer.first_name}}", "{{   customer.first_name\t}}", "{{\ncustomer.first_name\n}}"],
)
def test_whitespace_inside_the_braces_does_not_matter(ticket: Ticket, text: str) -> None:
    validate_template(text)
    assert render_template(text, ticket=ticket) == "Ana"


def test_the_most_recently_placed_linked_order_is_used(ticket: Ticket, order: Order) -> None:
    """Given a second, newer linked order and an unlinked even newer one, the newer linked
    order fills the order variables."""
    newer = Order.objects.create(
        customer=ticket.customer,
        store="shop",
        external_id="1002",
        number="#1002",
        placed_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        currency="EUR",
        total=Decimal("10"),
    )
    ticket.orders.add(newer)
    Order.objects.create(
        customer=ticket.customer,
        store="shop",
        external_id="1003",
        number="#1003",
        placed_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        currency="EUR",
        total=Decimal("10"),
    )

    rendered = render_template("{{ order.number }} [{{ order.tracking_url }}]", ticket=ticket)

    assert rendered == "#1002 []"


def test_a_ticket_without_an_order_renders_the_order_variables_empty(ticket: Ticket) -> None:
    rendered = render_template(
        "Order {{ order.number }}, tracking {{ order.tracking_url }}.", ticket=ticket
    )

    assert rendered == "Order , tracking ."


def test_without_an_agent_agent_name_is_empty(ticket: Ticket) -> None:
    assert render_template("-{{ agent.name }}-", ticket=ticket) == "--"


def test_values_are_plain_text_and_escaped_for_html(ticket: Ticket) -> None:
    """A customer named like markup or template syntax is inserted as it is, never
    interpreted; rendered for HTML it is escaped."""
    customer = ticket.customer
    customer.name = "<b>{{ ticket.number }}</b> {% load x %}"
    customer.save()

    text = render_template("Hi {{ customer.name }}", ticket=ticket)
    html = render_template("Hi {{ customer.name }} & co", ticket=ticket, html=True)

    assert text == "Hi <b>{{ ticket.number }}</b> {% load x %}"
    assert html == "Hi &lt;b&gt;{{ ticket.number }}&lt;/b&gt; {% load x %} &amp; co"


def test_text_without_variables_is_valid_and_unchanged(ticket: Ticket) -> None:
    text = "Thanks! Price: {price} and a } brace, 100% sure #1."
    validate_template(text)
    assert render_template(text, ticket=ticket) == text


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{{ customer.email }}", "{{ customer.email }}"),
        ("{{ order.customer.email }}", "{{ order.customer.email }}"),
        ("{{ customer.__class__ }}", "{{ customer.__class__ }}"),
        ("{{ customer.__class__.__mro__ }}", "{{ customer.__class__.__mro__ }}"),
        ("{{ ''.join }}", "{{ ''.join }}"),
        ("{{ customer.name() }}", "{{ customer.name() }}"),
        ("{{ customer['name'] }}", "{{ customer['name'] }}"),
        ("{{ ticket.number + 1 }}", "{{ ticket.number + 1 }}"),
        ("{{ expected_reply }}", "{{ expected_reply }}"),
        ("{{ }}", "{{ }}"),
        ("{{ CUSTOMER.NAME }}", "{{ CUSTOMER.NAME }}"),
    ],
)
def test_unknown_variables_and_expressions_are_rejected_by_name(text: str, named: str) -> None:
    with pytest.raises(ValidationError) as raised:
        validate_template(f"Hello {text}!")

    assert raised.value.messages == [
        f"“{named}” is not a variable you can use. Use one of: " + ", ".join(VARIABLES) + "."
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{% load static %}", "“{% load static %}”: tags ({% … %}) are not allowed."),
        ("{% include 'x.html' %}", "“{% include 'x.html' %}”: tags ({% … %}) are not allowed."),
        ("{%load%}", "“{%load%}”: tags ({% … %}) are not allowed."),
        ("{# secret #}", "“{# secret #}”: comments ({# … #}) are not allowed."),
        ("{{ customer.name|upper }}", "“{{ customer.name|upper }}”: filters (|) are not allowed."),
        (
            "{{ customer.name | safe }}",
            "“{{ customer.name | safe }}”: filters (|) are not allowed.",
        ),
        ("{{ {{ customer.name }} }}", "“{{ {{ customer.name }}”: braces cannot be nested."),
        ("{{ customer.name", "“{{” without its pair: write variables as {{ customer.name }}."),
        ("customer.name }}", "“}}” without its pair: write variables as {{ customer.name }}."),
        ("{% if x", "“{%” without its pair: write variables as {{ customer.name }}."),
    ],
)
def test_template_syntax_is_rejected(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        validate_template(text)

    assert raised.value.messages[0] == message


def test_every_problem_is_listed() -> None:
    with pytest.raises(ValidationError) as raised:
        validate_template("{{ customer.email }} and {% now %} and {{ agent.name }}")

    assert len(raised.value.messages) == 2


def test_expected_reply_is_allowed_only_for_acknowledgements() -> None:
    validate_template("We reply {{ expected_reply }}.", variables=AUTO_ACK_VARIABLES)
    with pytest.raises(ValidationError):
        validate_template("We reply {{ expected_reply }}.")


def test_rendering_refuses_an_invalid_template(ticket: Ticket) -> None:
    """A body written around the model's validation still never runs as a template."""
    with pytest.raises(ValidationError):
        render_template("{{ customer.__class__ }}", ticket=ticket)
