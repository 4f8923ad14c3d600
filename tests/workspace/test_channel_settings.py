"""/settings/channels/: admins see every channel account with its webhook URL and last
delivery, switch accounts on and off, edit the chat widget's look and origins, and keep
WhatsApp's approved templates. Agents and visitors are refused."""

from __future__ import annotations

import pytest
from django.test import Client

from channels_inbox.models import ChannelAccount, InboundEvent
from channels_inbox.whatsapp.models import WhatsAppTemplate
from helpdesk.models import Team, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin: User) -> Client:
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def chat_account(support_team: Team) -> ChannelAccount:
    return ChannelAccount.objects.create(
        kind="chat",
        name="Shop chat",
        slug="shop-chat",
        options={"allowed_origins": ["https://shop.example.com"], "brand_color": "#2f5bea"},
        default_team=support_team,
    )


def test_the_list_shows_each_account_with_its_webhook_and_last_delivery(
    admin_client: Client, whatsapp_account: ChannelAccount, email_account: ChannelAccount
) -> None:
    InboundEvent.objects.create(
        channel_account=whatsapp_account, external_id="wamid.1", payload=b"{}", status="failed"
    )

    response = admin_client.get("/settings/channels/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "WhatsApp" in page
    assert "Support mailbox" in page
    assert f"/webhooks/whatsapp/{whatsapp_account.slug}/" in page
    assert "Arrives by SMTP or IMAP" in page
    assert ">Failed<" in page
    assert "Nothing yet" in page  # the mailbox has no delivery
    assert 'aria-current="page">Channel accounts<' in page


def test_the_list_costs_a_fixed_number_of_queries(
    admin_client: Client,
    whatsapp_account: ChannelAccount,
    email_account: ChannelAccount,
    django_assert_max_num_queries: object,
) -> None:
    for number in range(3):
        InboundEvent.objects.create(
            channel_account=whatsapp_account, external_id=f"wamid.{number}", payload=b"{}"
        )

    with django_assert_max_num_queries(6):  # type: ignore[operator]
        admin_client.get("/settings/channels/")


@pytest.mark.parametrize("actor", ["agent", "anonymous"])
def test_only_admins_reach_the_page(
    actor: str, agent: User, whatsapp_account: ChannelAccount
) -> None:
    client = Client()
    if actor == "agent":
        client.force_login(agent)

    listing = client.get("/settings/channels/")
    toggle = client.post(f"/settings/channels/{whatsapp_account.pk}/active/", {"active": "0"})

    expected = 403 if actor == "agent" else 302
    assert listing.status_code == expected
    assert toggle.status_code == expected
    whatsapp_account.refresh_from_db()
    assert whatsapp_account.is_active is True


def test_an_admin_deactivates_and_activates_an_account(
    admin_client: Client, whatsapp_account: ChannelAccount
) -> None:
    url = f"/settings/channels/{whatsapp_account.pk}/active/"

    off = admin_client.post(url, {"active": "0", "next": "list"})
    whatsapp_account.refresh_from_db()
    assert off.status_code == 302
    assert off["Location"] == "/settings/channels/"
    assert whatsapp_account.is_active is False

    admin_client.post(url, {"active": "1"})
    whatsapp_account.refresh_from_db()
    assert whatsapp_account.is_active is True


def test_a_bad_active_value_is_a_400(
    admin_client: Client, whatsapp_account: ChannelAccount
) -> None:
    response = admin_client.post(
        f"/settings/channels/{whatsapp_account.pk}/active/", {"active": "x"}
    )

    assert response.status_code == 400
    whatsapp_account.refresh_from_db()
    assert whatsapp_account.is_active is True


def test_an_admin_edits_the_chat_widget(admin_client: Client, chat_account: ChannelAccount) -> None:
    response = admin_client.post(
        f"/settings/channels/{chat_account.pk}/",
        {
            "name": "Help chat",
            "brand_color": "#aa3300",
            "allowed_origins": "https://shop.example.com\n\nhttps://www.shop.example.com\n",
        },
    )

    assert response.status_code == 302
    chat_account.refresh_from_db()
    assert chat_account.name == "Help chat"
    assert chat_account.options["brand_color"] == "#aa3300"
    assert chat_account.options["allowed_origins"] == [
        "https://shop.example.com",
        "https://www.shop.example.com",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Chat", "brand_color": "red", "allowed_origins": ""}, "#rrggbb"),
        ({"name": "Chat", "brand_color": "", "allowed_origins": "not an origin"}, "not an origin"),
        ({"name": "", "brand_color": "", "allowed_origins": ""}, "This field is required."),
    ],
)
def test_bad_chat_settings_are_refused_with_the_reason(
    admin_client: Client, chat_account: ChannelAccount, data: dict[str, str], message: str
) -> None:
    response = admin_client.post(f"/settings/channels/{chat_account.pk}/", data)

    assert response.status_code == 400
    assert message in response.content.decode()
    chat_account.refresh_from_db()
    assert chat_account.name == "Shop chat"
    assert chat_account.options["brand_color"] == "#2f5bea"


def test_an_admin_adds_and_removes_a_whatsapp_template(
    admin_client: Client, whatsapp_account: ChannelAccount
) -> None:
    added = admin_client.post(
        f"/settings/channels/{whatsapp_account.pk}/templates/",
        {
            "name": "order_update",
            "language": "en",
            "category": "utility",
            "body": "Hi {{1}}, order {{2}} shipped.",
        },
    )

    assert added.status_code == 302
    template = WhatsAppTemplate.objects.get()
    assert (template.name, template.language, template.body) == (
        "order_update",
        "en",
        "Hi {{1}}, order {{2}} shipped.",
    )
    page = admin_client.get(f"/settings/channels/{whatsapp_account.pk}/").content.decode()
    assert "2 parameters" in page

    removed = admin_client.post(
        f"/settings/channels/{whatsapp_account.pk}/templates/{template.pk}/delete/"
    )

    assert removed.status_code == 302
    assert not WhatsAppTemplate.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "Order Update", "language": "en", "category": "utility", "body": "Hi"},
            "lowercase",
        ),
        (
            {"name": "x", "language": "english", "category": "utility", "body": "Hi"},
            "language code",
        ),
        ({"name": "x", "language": "en", "category": "utility", "body": "Hi {{2}}"}, "missing"),
        ({"name": "x", "language": "en", "category": "spam", "body": "Hi"}, "valid choice"),
    ],
)
def test_bad_templates_are_refused_with_the_reason(
    admin_client: Client, whatsapp_account: ChannelAccount, data: dict[str, str], message: str
) -> None:
    response = admin_client.post(f"/settings/channels/{whatsapp_account.pk}/templates/", data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not WhatsAppTemplate.objects.exists()


def test_templates_belong_to_whatsapp_accounts_only(
    admin_client: Client, email_account: ChannelAccount
) -> None:
    response = admin_client.post(
        f"/settings/channels/{email_account.pk}/templates/",
        {"name": "x", "language": "en", "category": "utility", "body": "Hi"},
    )

    assert response.status_code == 404
    assert not WhatsAppTemplate.objects.exists()


def test_the_settings_hub_lists_the_page(admin_client: Client) -> None:
    page = admin_client.get("/settings/").content.decode()

    assert 'href="/settings/channels/"' in page
