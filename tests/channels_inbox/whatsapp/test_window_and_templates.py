"""The 24-hour customer service window as a pure function, and approved templates: stored
per account, checked, and sent through the fake Graph API in or out of the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from channels_inbox.adapters import ChannelError, get_adapter
from channels_inbox.models import ChannelAccount
from channels_inbox.whatsapp.adapter import WhatsAppAdapter, can_send_free_text
from channels_inbox.whatsapp.models import WhatsAppTemplate
from channels_inbox.whatsapp.templates import (
    create_whatsapp_template,
    delete_whatsapp_template,
    parameter_problem,
    render_template,
    update_whatsapp_template,
)
from helpdesk.models import User
from tests.channels_inbox.whatsapp.conftest import ANA, ANA_WA_ID, make_account
from tests.channels_inbox.whatsapp.fake_graph import FakeGraph, graph_error

NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


# --- The window ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "allowed"),
    [
        pytest.param(NOW - timedelta(minutes=1), True, id="a minute ago"),
        pytest.param(NOW - timedelta(hours=23, minutes=59, seconds=59), True, id="just inside"),
        pytest.param(NOW - timedelta(hours=24), False, id="exactly 24 hours"),
        pytest.param(NOW - timedelta(days=3), False, id="days ago"),
        pytest.param(NOW + timedelta(seconds=30), True, id="clock skew"),
    ],
)
def test_free_text_is_allowed_for_24_hours_after_the_customers_message(
    written: datetime, allowed: bool
) -> None:
    account = ChannelAccount(kind="whatsapp", name="Shop WhatsApp", is_active=True)

    result, reason = can_send_free_text(account, written, NOW)

    assert result is allowed
    closes = written + timedelta(hours=24)
    if allowed:
        assert reason == f"Free text can be sent until {closes:%Y-%m-%d %H:%M} UTC."
    else:
        assert reason == (
            f"The 24-hour customer service window closed at {closes:%Y-%m-%d %H:%M} UTC (24 "
            "hours after the customer's last message): only an approved template message can "
            "be sent until the customer writes again."
        )


def test_a_customer_who_never_wrote_can_only_get_a_template() -> None:
    account = ChannelAccount(kind="whatsapp", name="Shop WhatsApp", is_active=True)

    assert can_send_free_text(account, None, NOW) == (
        False,
        "The customer has not written to this WhatsApp number yet: only an approved template "
        "message can start the conversation.",
    )


def test_a_deactivated_account_sends_nothing() -> None:
    account = ChannelAccount(kind="whatsapp", name="Shop WhatsApp", is_active=False)

    assert can_send_free_text(account, NOW, NOW) == (
        False,
        "The WhatsApp account Shop WhatsApp is deactivated.",
    )


# --- Storing templates ---------------------------------------------------------------------


@pytest.fixture
def order_update(account: ChannelAccount, admin: User) -> WhatsAppTemplate:
    return create_whatsapp_template(
        account,
        name="order_update",
        language="pt_BR",
        category="utility",
        body="Olá {{1}}, o pedido {{2}} foi enviado. Rastreio: {{2}}.",
        actor=admin,
    )


def test_an_admin_stores_a_template_and_its_parameters_are_counted(
    order_update: WhatsAppTemplate,
) -> None:
    assert order_update.channel_account.whatsapp_templates.get() == order_update
    assert parameter_problem(order_update, ["Ana", "#1001"]) == ""
    assert render_template(order_update, ["Ana", "#1001"]) == (
        "Olá Ana, o pedido #1001 foi enviado. Rastreio: #1001."
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        pytest.param({"name": "Order Update"}, "name", "lowercase letters", id="name"),
        pytest.param({"language": "portuguese"}, "language", "en_US", id="language"),
        pytest.param({"category": "promo"}, "category", "not a valid choice", id="category"),
        pytest.param({"body": "Hi {{1}}, see {{3}}"}, "body", "missing {{2}}", id="gap"),
        pytest.param({"body": "   "}, "body", "empty", id="empty body"),
    ],
)
def test_a_malformed_template_is_refused(
    account: ChannelAccount, admin: User, fields: dict[str, str], field: str, message: str
) -> None:
    values = {"name": "order_update", "language": "en_US", "category": "utility", "body": "Hi"}
    values.update(fields)

    with pytest.raises(ValidationError) as refused:
        create_whatsapp_template(account, actor=admin, **values)

    assert message in " ".join(refused.value.message_dict[field])
    assert WhatsAppTemplate.objects.count() == 0


def test_the_same_name_and_language_twice_is_refused(
    order_update: WhatsAppTemplate, admin: User
) -> None:
    with pytest.raises(ValidationError):
        create_whatsapp_template(
            order_update.channel_account,
            name="order_update",
            language="pt_BR",
            category="utility",
            body="Oi {{1}}",
            actor=admin,
        )

    assert WhatsAppTemplate.objects.count() == 1


def test_templates_belong_to_whatsapp_accounts_only(
    email_account: ChannelAccount, admin: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        create_whatsapp_template(
            email_account, name="hi", language="en", category="utility", body="Hi", actor=admin
        )

    assert refused.value.message_dict["channel_account"] == [
        "Templates belong to WhatsApp accounts."
    ]


def test_only_admins_change_templates(
    order_update: WhatsAppTemplate, agent: User, admin: User
) -> None:
    with pytest.raises(PermissionDenied):
        create_whatsapp_template(
            order_update.channel_account,
            name="other",
            language="en",
            category="utility",
            body="Hi",
            actor=agent,
        )
    with pytest.raises(PermissionDenied):
        update_whatsapp_template(order_update, body="Changed", actor=agent)
    with pytest.raises(PermissionDenied):
        delete_whatsapp_template(order_update, actor=agent)

    order_update.refresh_from_db()
    assert order_update.body.startswith("Olá {{1}}")

    update_whatsapp_template(order_update, body="Oi {{1}}", actor=admin)
    order_update.refresh_from_db()
    assert order_update.body == "Oi {{1}}"
    delete_whatsapp_template(order_update, actor=admin)
    assert WhatsAppTemplate.objects.count() == 0


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        pytest.param(["Ana"], "takes 2 parameters; 1 given", id="too few"),
        pytest.param(["Ana", "#1001", "x"], "takes 2 parameters; 3 given", id="too many"),
        pytest.param(["Ana", " "], "Parameter {{2}} is empty.", id="blank"),
        pytest.param(["Ana\nSouza", "#1001"], "line breaks", id="line break"),
        pytest.param(["Ana", "#1001     x"], "more than four spaces", id="five spaces"),
    ],
)
def test_parameters_meta_would_refuse_are_named(
    order_update: WhatsAppTemplate, parameters: list[str], problem: str
) -> None:
    assert problem in parameter_problem(order_update, parameters)


# --- Sending templates ---------------------------------------------------------------------


def test_a_template_is_sent_with_its_name_language_and_parameters(
    order_update: WhatsAppTemplate, graph: FakeGraph
) -> None:
    adapter = get_adapter("whatsapp")
    assert isinstance(adapter, WhatsAppAdapter)

    result = adapter.send_template(
        order_update.channel_account,
        to_address=ANA,
        template=order_update,
        parameters=["Ana", "#1001"],
        message_id=42,
    )

    assert result.provider_message_id == "wamid.FAKE0001"
    [request] = graph.requests
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": ANA_WA_ID,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "pt_BR"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ana"},
                        {"type": "text", "text": "#1001"},
                    ],
                }
            ],
        },
        "biz_opaque_callback_data": "switchboard-message-42",
    }


def test_a_template_without_parameters_sends_no_components(
    account: ChannelAccount, admin: User, graph: FakeGraph
) -> None:
    template = create_whatsapp_template(
        account,
        name="hello_again",
        language="en",
        category="marketing",
        body="We miss you!",
        actor=admin,
    )

    WhatsAppAdapter().send_template(account, to_address=ANA, template=template, parameters=[])

    assert graph.requests[0].json()["template"] == {
        "name": "hello_again",
        "language": {"code": "en"},
    }


def test_wrong_parameters_are_refused_before_any_request(
    order_update: WhatsAppTemplate, graph: FakeGraph
) -> None:
    with pytest.raises(ChannelError) as refused:
        WhatsAppAdapter().send_template(
            order_update.channel_account, to_address=ANA, template=order_update, parameters=["Ana"]
        )

    assert refused.value.permanent is True
    assert str(refused.value) == "The template order_update (pt_BR) takes 2 parameters; 1 given."
    assert graph.requests == []


def test_another_accounts_template_is_refused_before_any_request(
    order_update: WhatsAppTemplate, graph: FakeGraph, support_team: Any
) -> None:
    other = make_account(support_team, slug="other-number", address="+34600000001")

    with pytest.raises(ChannelError) as refused:
        WhatsAppAdapter().send_template(
            other, to_address=ANA, template=order_update, parameters=["Ana", "#1001"]
        )

    assert refused.value.permanent is True
    assert graph.requests == []


def test_a_template_meta_does_not_know_is_a_permanent_error_saying_so(
    order_update: WhatsAppTemplate, graph: FakeGraph
) -> None:
    graph.script(
        "messages", 404, graph_error(132001, "Template name does not exist in the translation")
    )

    with pytest.raises(ChannelError) as refused:
        WhatsAppAdapter().send_template(
            order_update.channel_account,
            to_address=ANA,
            template=order_update,
            parameters=["Ana", "#1001"],
        )

    assert refused.value.permanent is True
    assert str(refused.value) == (
        "The template does not exist in this language or is not approved (Template name does "
        "not exist in the translation (code 132001))."
    )
