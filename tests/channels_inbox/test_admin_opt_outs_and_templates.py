"""The Django admin for SMS opt-outs (listed, searched, lifted) and WhatsApp templates
(kept through their services): admins only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from channels_inbox.models import ChannelAccount
from channels_inbox.sms.keywords import keyword_of
from channels_inbox.sms.models import OptOut
from channels_inbox.sms.services import record_keyword
from channels_inbox.whatsapp.models import WhatsAppTemplate
from channels_inbox.whatsapp.templates import create_whatsapp_template
from helpdesk.models import Team, User

pytestmark = pytest.mark.django_db

ANA = "+17185550123"
BRUNO = "+17185550199"


def url(name: str, *args: Any) -> str:
    return reverse(f"admin:channels_inbox_{name}", args=args)


def flashed(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def admin_client(client: Client, admin: User) -> Client:
    client.force_login(admin)
    return client


@pytest.fixture
def agent_browser(client: Client, agent: User) -> Client:
    """bob, an agent: signed in, but not admin staff."""
    assert not agent.is_staff
    client.force_login(agent)
    return client


@pytest.fixture
def sms_account(support_team: Team) -> ChannelAccount:
    return ChannelAccount.objects.create(
        kind="sms", name="Shop SMS", slug="shop-sms", address="+14155550100"
    )


def opt_out(account: ChannelAccount, address: str, word: str = "STOP") -> OptOut:
    keyword = keyword_of(word)
    assert keyword is not None
    record_keyword(account, address=address, keyword=keyword)
    return OptOut.objects.get(channel_account=account, address=address)


# --- Opt-outs ------------------------------------------------------------------------------


def test_opt_outs_are_listed_and_searched_by_number(
    admin_client: Client, sms_account: ChannelAccount
) -> None:
    opt_out(sms_account, ANA)
    opt_out(sms_account, BRUNO, "UNSUBSCRIBE")

    everyone = admin_client.get(url("optout_changelist"))
    found = admin_client.get(url("optout_changelist"), {"q": ANA})

    assert everyone.status_code == 200
    assert [row.address for row in everyone.context["cl"].result_list] == [ANA, BRUNO]
    assert [row.address for row in found.context["cl"].result_list] == [ANA]


def test_deleting_an_opt_out_lifts_it(admin_client: Client, sms_account: ChannelAccount) -> None:
    lifted = opt_out(sms_account, ANA)
    kept = opt_out(sms_account, BRUNO)

    response = admin_client.post(url("optout_delete", lifted.pk), {"post": "yes"})

    assert response.status_code == 302
    assert list(OptOut.objects.values_list("pk", flat=True)) == [kept.pk]


def test_opt_outs_are_lifted_in_bulk_from_the_list(
    admin_client: Client, sms_account: ChannelAccount
) -> None:
    rows = [opt_out(sms_account, ANA), opt_out(sms_account, BRUNO)]

    response = admin_client.post(
        url("optout_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [row.pk for row in rows],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert OptOut.objects.count() == 0


def test_opt_outs_cannot_be_added_or_edited_by_hand(
    admin_client: Client, sms_account: ChannelAccount
) -> None:
    row = opt_out(sms_account, ANA)

    added = admin_client.post(
        url("optout_add"),
        {"channel_account": sms_account.pk, "address": BRUNO, "keyword": "STOP"},
    )
    changed = admin_client.post(url("optout_change", row.pk), {"address": BRUNO})

    assert added.status_code == 403
    assert changed.status_code == 403
    assert list(OptOut.objects.values_list("address", flat=True)) == [ANA]


def test_agents_cannot_see_or_lift_opt_outs(
    agent_browser: Client, sms_account: ChannelAccount
) -> None:
    row = opt_out(sms_account, ANA)

    listed = agent_browser.get(url("optout_changelist"))
    deleted = agent_browser.post(url("optout_delete", row.pk), {"post": "yes"})

    assert (listed.status_code, listed["Location"].split("?")[0]) == (302, "/admin/login/")
    assert (deleted.status_code, deleted["Location"].split("?")[0]) == (302, "/admin/login/")
    assert OptOut.objects.count() == 1


# --- WhatsApp templates --------------------------------------------------------------------


def template_form(account: ChannelAccount, **overrides: Any) -> dict[str, Any]:
    data = {
        "channel_account": account.pk,
        "name": "order_update",
        "language": "pt_BR",
        "category": "utility",
        "body": "Olá {{1}}, o pedido {{2}} foi enviado.",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_an_admin_adds_a_template(admin_client: Client, whatsapp_account: ChannelAccount) -> None:
    response = admin_client.post(url("whatsapptemplate_add"), template_form(whatsapp_account))

    assert response.status_code == 302, flashed(response)
    template = WhatsAppTemplate.objects.get()
    assert (template.channel_account, template.name, template.language) == (
        whatsapp_account,
        "order_update",
        "pt_BR",
    )


def test_a_template_with_a_gap_in_its_parameters_is_refused_with_the_reason(
    admin_client: Client, whatsapp_account: ChannelAccount
) -> None:
    response = admin_client.post(
        url("whatsapptemplate_add"),
        template_form(whatsapp_account, body="Hi {{1}}, see {{3}}"),
        follow=True,
    )

    assert WhatsAppTemplate.objects.count() == 0
    assert any("missing {{2}}" in message for message in flashed(response))


def test_templates_belong_to_whatsapp_accounts_only_in_the_form(
    admin_client: Client, email_account: ChannelAccount
) -> None:
    response = admin_client.post(url("whatsapptemplate_add"), template_form(email_account))

    assert response.status_code == 200
    assert "channel_account" in response.context["adminform"].form.errors
    assert WhatsAppTemplate.objects.count() == 0


def test_an_admin_edits_and_deletes_a_template(
    admin_client: Client, whatsapp_account: ChannelAccount, admin: User
) -> None:
    template = create_whatsapp_template(
        whatsapp_account, name="hi", language="en", category="utility", body="Hi", actor=admin
    )

    edited = admin_client.post(
        url("whatsapptemplate_change", template.pk),
        {"name": "hi", "language": "en", "category": "utility", "body": "Hi {{1}}"},
    )
    template.refresh_from_db()
    body = template.body
    deleted = admin_client.post(url("whatsapptemplate_delete", template.pk), {"post": "yes"})

    assert (edited.status_code, body) == (302, "Hi {{1}}")
    assert deleted.status_code == 302
    assert WhatsAppTemplate.objects.count() == 0


def test_agents_cannot_see_or_add_templates(
    agent_browser: Client, whatsapp_account: ChannelAccount
) -> None:
    listed = agent_browser.get(url("whatsapptemplate_changelist"))
    added = agent_browser.post(url("whatsapptemplate_add"), template_form(whatsapp_account))

    assert (listed.status_code, listed["Location"].split("?")[0]) == (302, "/admin/login/")
    assert (added.status_code, added["Location"].split("?")[0]) == (302, "/admin/login/")
    assert WhatsAppTemplate.objects.count() == 0
