"""The Django admin for channel accounts (write-only credentials) and raw deliveries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_inbox.models import ChannelAccount, InboundEvent
from helpdesk.models import Team, User
from tickets.models import Message

pytestmark = pytest.mark.django_db

SECRETS = ("wa-secret-token", "wa-app-secret")


@pytest.fixture
def staff_client(client: Client, admin: User) -> Client:
    """alice, signed in to the admin (role admin makes her staff)."""
    assert admin.is_staff
    client.force_login(admin)
    return client


@pytest.fixture
def delivery(whatsapp_account: ChannelAccount) -> InboundEvent:
    return InboundEvent.objects.create(
        channel_account=whatsapp_account,
        external_id="wamid.HBgL",
        payload=b'{"entry": [{"changes": [{"value": {"text": "<b>Hi</b> there"}}]}]}',
        headers={"X-Hub-Signature-256": "sha256=abc"},
    )


def url(name: str, *args: Any) -> str:
    return reverse(f"admin:channels_inbox_{name}", args=args)


def flashed(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def account_form(account: ChannelAccount, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": account.kind,
        "name": account.name,
        "slug": account.slug,
        "address": account.address,
        "default_team": account.default_team_id or "",
        "is_active": "on" if account.is_active else "",
        "new_credentials": "",
        "_save": "Save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


# --- Channel accounts ----------------------------------------------------------------------


def test_account_changelist_searches_and_filters(
    staff_client: Client, whatsapp_account: ChannelAccount, email_account: ChannelAccount
) -> None:
    response = staff_client.get(
        url("channelaccount_changelist"), {"q": "whats", "kind": "whatsapp"}
    )

    assert response.status_code == 200
    assert [a.pk for a in response.context["cl"].result_list] == [whatsapp_account.pk]
    assert not any(secret in response.content.decode() for secret in SECRETS)


def test_account_change_page_never_shows_the_secrets(
    staff_client: Client, whatsapp_account: ChannelAccount
) -> None:
    response = staff_client.get(url("channelaccount_change", whatsapp_account.pk))

    page = response.content.decode()
    assert response.status_code == 200
    assert "access_token, app_secret" in page  # which keys are set, not their values
    for secret in SECRETS:
        assert secret not in page
    assert 'name="credentials"' not in page


def test_account_add_page_answers(staff_client: Client) -> None:
    response = staff_client.get(url("channelaccount_add"))

    assert response.status_code == 200
    assert 'name="new_credentials"' in response.content.decode()


def test_blank_new_credentials_keep_the_stored_ones(
    staff_client: Client, whatsapp_account: ChannelAccount
) -> None:
    response = staff_client.post(
        url("channelaccount_change", whatsapp_account.pk),
        account_form(whatsapp_account, name="WhatsApp EU"),
    )

    assert response.status_code == 302
    whatsapp_account.refresh_from_db()
    assert whatsapp_account.name == "WhatsApp EU"
    assert whatsapp_account.credentials == {
        "access_token": "wa-secret-token",
        "app_secret": "wa-app-secret",
    }


def test_new_credentials_replace_the_stored_ones(
    staff_client: Client, whatsapp_account: ChannelAccount
) -> None:
    response = staff_client.post(
        url("channelaccount_change", whatsapp_account.pk),
        account_form(whatsapp_account, new_credentials='{"access_token": "rotated-token"}'),
    )

    assert response.status_code == 302
    whatsapp_account.refresh_from_db()
    assert whatsapp_account.credentials == {"access_token": "rotated-token"}


def test_account_add_goes_through_the_service(staff_client: Client, support_team: Team) -> None:
    response = staff_client.post(
        url("channelaccount_add"),
        {
            "kind": "sms",
            "name": "Shop SMS",
            "slug": "shop-sms",
            "address": "+1 (415) 555-0100",
            "default_team": support_team.pk,
            "is_active": "on",
            "new_credentials": '{"auth_token": "tw-secret"}',
        },
    )

    assert response.status_code == 302
    account = ChannelAccount.objects.get(slug="shop-sms")
    assert (account.address, account.credentials, account.default_team) == (
        "+14155550100",
        {"auth_token": "tw-secret"},
        support_team,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"token": "leaked-secret"', "Not valid JSON (line 1, column 26)."),
        ('["leaked-secret"]', 'Enter a JSON object, e.g. {"api_token": "..."}.'),
        ('"leaked-secret"', 'Enter a JSON object, e.g. {"api_token": "..."}.'),
        ("{}", "Enter at least one key, or leave the field blank."),
        ('{"token": 12345}', "The value of 'token' must be a string."),
        ('{"token": {"nested": "leaked-secret"}}', "The value of 'token' must be a string."),
        ('{" ": "leaked-secret"}', "Credential names are 1 to 100 characters."),
        ("[" * 100_000, "Not valid credentials: nested too deeply."),
    ],
)
def test_bad_new_credentials_are_refused_without_echoing_them(
    staff_client: Client, whatsapp_account: ChannelAccount, text: str, message: str
) -> None:
    response = staff_client.post(
        url("channelaccount_change", whatsapp_account.pk),
        account_form(whatsapp_account, new_credentials=text),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["new_credentials"] == [message]
    page = response.content.decode()
    assert "leaked-secret" not in page
    assert not any(secret in page for secret in SECRETS)
    whatsapp_account.refresh_from_db()
    assert whatsapp_account.credentials["access_token"] == "wa-secret-token"


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "carrier-pigeon"), ("slug", "not a slug"), ("slug", "support-mail")],
)
def test_account_form_rejects_bad_fields(
    staff_client: Client,
    whatsapp_account: ChannelAccount,
    email_account: ChannelAccount,
    field: str,
    value: str,
) -> None:
    response = staff_client.post(
        url("channelaccount_change", whatsapp_account.pk),
        account_form(whatsapp_account, **{field: value}),
    )

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    whatsapp_account.refresh_from_db()
    assert (whatsapp_account.kind, whatsapp_account.slug) == ("whatsapp", "whatsapp-main")


def test_account_form_rejects_an_address_that_is_not_a_phone_number(
    staff_client: Client, whatsapp_account: ChannelAccount
) -> None:
    response = staff_client.post(
        url("channelaccount_change", whatsapp_account.pk),
        account_form(whatsapp_account, address="call me maybe"),
    )

    assert response.status_code == 200
    assert "address" in response.context["adminform"].form.errors
    whatsapp_account.refresh_from_db()
    assert whatsapp_account.address == "+14155550100"


def test_accounts_are_deactivated_not_deleted(
    staff_client: Client, whatsapp_account: ChannelAccount, email_account: ChannelAccount
) -> None:
    delete = staff_client.post(url("channelaccount_delete", whatsapp_account.pk), {"post": "yes"})
    deactivate = staff_client.post(
        url("channelaccount_changelist"),
        {"action": "deactivate", "_selected_action": [whatsapp_account.pk], "index": "0"},
    )

    assert delete.status_code == 403
    assert flashed(deactivate) == ["Deactivated 1 account(s)."]
    whatsapp_account.refresh_from_db()
    email_account.refresh_from_db()
    assert (whatsapp_account.is_active, email_account.is_active) == (False, True)


# --- Inbound deliveries --------------------------------------------------------------------


def test_delivery_changelist_searches_and_filters(
    staff_client: Client, delivery: InboundEvent
) -> None:
    found = staff_client.get(
        url("inboundevent_changelist"), {"q": "wamid.HBgL", "status__exact": "pending"}
    )
    partial_id = staff_client.get(url("inboundevent_changelist"), {"q": "HBgL"})
    by_kind = staff_client.get(
        url("inboundevent_changelist"), {"channel_account__kind__exact": "email"}
    )

    assert found.status_code == 200
    assert [e.pk for e in found.context["cl"].result_list] == [delivery.pk]
    assert list(partial_id.context["cl"].result_list) == []
    assert list(by_kind.context["cl"].result_list) == []


def test_delivery_page_shows_the_payload_escaped(
    staff_client: Client, delivery: InboundEvent
) -> None:
    response = staff_client.get(url("inboundevent_change", delivery.pk))

    page = response.content.decode()
    assert response.status_code == 200
    assert "&lt;b&gt;Hi&lt;/b&gt; there" in page
    assert "<b>Hi</b>" not in page
    assert "X-Hub-Signature-256" in page


def test_delivery_page_shows_a_non_json_payload_as_received(
    staff_client: Client, whatsapp_account: ChannelAccount
) -> None:
    event = InboundEvent.objects.create(
        channel_account=whatsapp_account, external_id="sms-1", payload=b"Body=Hi&From=%2B1415"
    )

    response = staff_client.get(url("inboundevent_change", event.pk))

    assert "Body=Hi&amp;From=%2B1415" in response.content.decode()


def test_delivery_list_and_page_show_when_it_is_tried_next(
    staff_client: Client, delivery: InboundEvent
) -> None:
    retry_at = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    InboundEvent.objects.filter(pk=delivery.pk).update(
        status="failed", attempts=2, next_attempt_at=retry_at, error="Timeout talking to Graph"
    )

    listed = staff_client.get(url("inboundevent_changelist"))
    shown = staff_client.get(url("inboundevent_change", delivery.pk))

    assert "next_attempt_at" in listed.context["cl"].list_display
    assert [e.next_attempt_at for e in listed.context["cl"].result_list] == [retry_at]
    assert "column-next_attempt_at" in listed.content.decode()
    assert "Next attempt at" in shown.content.decode()
    assert "Timeout talking to Graph" in shown.content.decode()


def process_again(client: Client, *events: InboundEvent) -> Any:
    return client.post(
        url("inboundevent_changelist"),
        {"action": "process_again", "_selected_action": [e.pk for e in events], "index": "0"},
    )


def test_process_again_resets_the_deliveries_and_processes_them_after_commit(
    staff_client: Client,
    email_account: ChannelAccount,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    mail = (
        b"From: Ana <ana@example.com>\r\nTo: support@shop.test\r\nSubject: Parcel\r\n"
        b"Message-ID: <parcel-1@example.com>\r\n\r\nStill waiting.\r\n"
    )
    failed = InboundEvent.objects.create(
        channel_account=email_account,
        external_id="parcel-1@example.com",
        payload=mail,
        status="failed",
        attempts=5,
        error="Gave up after 5 attempts: deadlock detected",
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = process_again(staff_client, failed)

    assert flashed(response) == ["Queued 1 event(s) to be processed again."]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.error) == ("pending", 0, "")
    assert len(callbacks) == 1

    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()

    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("processed", 1)
    assert list(Message.objects.values_list("text", flat=True)) == ["Still waiting."]


def test_process_again_leaves_a_delivery_a_worker_holds(
    staff_client: Client,
    delivery: InboundEvent,
    email_account: ChannelAccount,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    lease = timezone.now() + timedelta(minutes=5)
    InboundEvent.objects.filter(pk=delivery.pk).update(attempts=1, next_attempt_at=lease)
    ignored = InboundEvent.objects.create(
        channel_account=email_account, external_id="loop-1", payload=b"", status="ignored"
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = process_again(staff_client, delivery, ignored)

    assert flashed(response) == [
        "Queued 1 event(s) to be processed again.",
        f"Left alone, a worker is processing them: {delivery.pk}.",
    ]
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.next_attempt_at) == (1, lease)
    ignored.refresh_from_db()
    assert ignored.status == "pending"
    assert len(callbacks) == 1


def test_deliveries_are_read_only(staff_client: Client, delivery: InboundEvent) -> None:
    add = staff_client.get(url("inboundevent_add"))
    edit = staff_client.post(url("inboundevent_change", delivery.pk), {"status": "processed"})
    delete = staff_client.post(url("inboundevent_delete", delivery.pk), {"post": "yes"})

    assert (add.status_code, edit.status_code, delete.status_code) == (403, 403, 403)
    delivery.refresh_from_db()
    assert delivery.status == "pending"
