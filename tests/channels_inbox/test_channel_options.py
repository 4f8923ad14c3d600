"""Channel account options: the settings that are not secret, checked per channel kind."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from channels_inbox.models import ChannelAccount
from channels_inbox.services import (
    CHANNEL_OPTIONS,
    clean_options,
    create_channel_account,
    update_channel_account,
)
from helpdesk.models import User

EVERY_EMAIL_OPTION: dict[str, Any] = {
    "subject_window_days": 14,
    "sender_rate_limit": 50,
    "verp": False,
    "automated_mail_opens_tickets": True,
    "smtp_host": "smtp.shop.test",
    "smtp_port": 587,
    "smtp_security": "starttls",
    "smtp_timeout": 12.5,
    "smtp_user": "support@shop.test",
    "imap_host": "imap.shop.test",
    "imap_port": 993,
    "imap_ssl": True,
    "imap_user": "support@shop.test",
    "imap_mailbox": "Support/Inbox",
    "inbound_provider": "mailgun",
}


def errors_of(kind: str, options: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        clean_options(kind, options)
    assert list(caught.value.message_dict) == ["options"]
    return caught.value.message_dict["options"]


def test_every_email_option_is_taken_as_given() -> None:
    assert clean_options("email", EVERY_EMAIL_OPTION) == EVERY_EMAIL_OPTION
    assert set(EVERY_EMAIL_OPTION) == set(CHANNEL_OPTIONS["email"])


@pytest.mark.parametrize(
    ("options", "cleaned"),
    [
        ({}, {}),
        ({"subject_window_days": 0}, {"subject_window_days": 0}),
        ({"subject_window_days": 365}, {"subject_window_days": 365}),
        ({"subject_window_days": 7.0}, {"subject_window_days": 7}),
        ({"sender_rate_limit": 1}, {"sender_rate_limit": 1}),
        ({"sender_rate_limit": 10_000}, {"sender_rate_limit": 10_000}),
        ({"smtp_port": 1}, {"smtp_port": 1}),
        ({"smtp_port": 65535}, {"smtp_port": 65535}),
        ({"smtp_timeout": 1}, {"smtp_timeout": 1}),
        ({"smtp_timeout": 300}, {"smtp_timeout": 300}),
        ({"smtp_security": " TLS "}, {"smtp_security": "tls"}),
        ({"smtp_host": "  smtp.shop.test "}, {"smtp_host": "smtp.shop.test"}),
        ({"inbound_provider": "Postmark"}, {"inbound_provider": "postmark"}),
        ({"inbound_provider": "sendgrid"}, {"inbound_provider": "sendgrid"}),
        ({"smtp_security": "none"}, {"smtp_security": "none"}),
    ],
)
def test_good_email_options_are_cleaned(options: dict[str, Any], cleaned: dict[str, Any]) -> None:
    assert clean_options("email", options) == cleaned


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"subject_window_days": -1}, "subject_window_days must be from 0 to 365."),
        ({"subject_window_days": 366}, "subject_window_days must be from 0 to 365."),
        ({"subject_window_days": "7"}, "subject_window_days must be a whole number from 0 to 365."),
        ({"subject_window_days": 1.5}, "subject_window_days must be a whole number from 0 to 365."),
        (
            {"subject_window_days": True},
            "subject_window_days must be a whole number from 0 to 365.",
        ),
        (
            {"subject_window_days": None},
            "subject_window_days must be a whole number from 0 to 365.",
        ),
        ({"sender_rate_limit": 0}, "sender_rate_limit must be from 1 to 10000."),
        ({"sender_rate_limit": 10_001}, "sender_rate_limit must be from 1 to 10000."),
        ({"sender_rate_limit": 10**400}, "sender_rate_limit must be from 1 to 10000."),
        ({"verp": "false"}, "verp must be true or false."),
        ({"verp": 0}, "verp must be true or false."),
        (
            {"automated_mail_opens_tickets": "yes"},
            "automated_mail_opens_tickets must be true or false.",
        ),
        (
            {"automated_mail_opens_tickets": None},
            "automated_mail_opens_tickets must be true or false.",
        ),
        ({"smtp_host": 42}, "smtp_host must be a string."),
        ({"smtp_host": "   "}, "smtp_host must not be blank; leave it out instead."),
        ({"smtp_host": "h" * 321}, "smtp_host is longer than 320 characters."),
        ({"smtp_port": 0}, "smtp_port must be from 1 to 65535."),
        ({"smtp_port": 65536}, "smtp_port must be from 1 to 65535."),
        ({"smtp_port": "587"}, "smtp_port must be a whole number from 1 to 65535."),
        ({"smtp_security": "ssl"}, "smtp_security must be one of: starttls, tls, none."),
        ({"smtp_security": 1}, "smtp_security must be a string."),
        ({"smtp_timeout": 0.5}, "smtp_timeout must be from 1 to 300."),
        ({"smtp_timeout": 301}, "smtp_timeout must be from 1 to 300."),
        ({"smtp_timeout": float("nan")}, "smtp_timeout must be from 1 to 300."),
        ({"smtp_timeout": float("inf")}, "smtp_timeout must be from 1 to 300."),
        ({"smtp_timeout": "30"}, "smtp_timeout must be a number from 1 to 300."),
        ({"smtp_user": ["a"]}, "smtp_user must be a string."),
        ({"imap_host": ""}, "imap_host must not be blank; leave it out instead."),
        ({"imap_port": 99999}, "imap_port must be from 1 to 65535."),
        ({"imap_ssl": "true"}, "imap_ssl must be true or false."),
        ({"imap_user": {"name": "x"}}, "imap_user must be a string."),
        ({"imap_mailbox": 7}, "imap_mailbox must be a string."),
        (
            {"inbound_provider": "mandrill"},
            "inbound_provider must be one of: mailgun, postmark, sendgrid.",
        ),
        (
            {"smtp_password": "hunter2"},
            "'smtp_password' is a secret: put it in the credentials, not the options.",
        ),
        (
            {"mailgun_signing_key": "key-1"},
            "'mailgun_signing_key' is a secret: put it in the credentials, not the options.",
        ),
        (
            {"smtp_hots": "smtp.shop.test"},
            "Unknown option 'smtp_hots'; email accounts take: automated_mail_opens_tickets, "
            "imap_host, imap_mailbox, imap_port, imap_ssl, imap_user, inbound_provider, "
            "sender_rate_limit, smtp_host, smtp_port, smtp_security, smtp_timeout, smtp_user, "
            "subject_window_days, verp.",
        ),
    ],
)
def test_bad_email_options_are_refused_naming_the_key(
    options: dict[str, Any], message: str
) -> None:
    assert errors_of("email", options) == [message]


def test_every_bad_key_is_reported_at_once() -> None:
    assert errors_of("email", {"verp": "no", "smtp_port": -1, "imap_host": "imap.shop.test"}) == [
        "verp must be true or false.",
        "smtp_port must be from 1 to 65535.",
    ]


def test_a_secret_value_is_never_echoed() -> None:
    [message] = errors_of("email", {"smtp_user": ["p4ss-w0rd-secret"]})

    assert "p4ss-w0rd-secret" not in message


@pytest.mark.parametrize("options", [None, [], "verp", 42, [["verp", True]]])
def test_options_must_be_an_object(options: Any) -> None:
    assert errors_of("email", options) == ["Options must be a JSON object."]


@pytest.mark.parametrize("kind", ["whatsapp", "telegram"])
def test_other_kinds_take_an_empty_object_only(kind: str) -> None:
    assert clean_options(kind, {}) == {}
    assert errors_of(kind, {"verp": True}) == [
        f"Unknown option 'verp': {kind} accounts take no options."
    ]


# --- Services ---------------------------------------------------------------------------


def test_create_stores_cleaned_options(admin: User) -> None:
    account = create_channel_account(
        kind="email",
        name="Sales",
        slug="sales",
        address="sales@shop.test",
        options={"smtp_security": "TLS", "smtp_port": 465},
        actor=admin,
    )

    account.refresh_from_db()
    assert account.options == {"smtp_security": "tls", "smtp_port": 465}


def test_create_without_options_stores_an_empty_object(admin: User) -> None:
    account = create_channel_account(kind="chat", name="Widget", slug="widget", actor=admin)

    account.refresh_from_db()
    assert account.options == {}


def test_create_refuses_bad_options_and_stores_nothing(admin: User) -> None:
    with pytest.raises(ValidationError) as caught:
        create_channel_account(
            kind="email", name="Sales", slug="sales", options={"verp": "no"}, actor=admin
        )

    assert caught.value.message_dict == {"options": ["verp must be true or false."]}
    assert not ChannelAccount.objects.filter(slug="sales").exists()


def test_update_replaces_options_and_unset_keeps_them(
    admin: User, email_account: ChannelAccount
) -> None:
    update_channel_account(email_account, actor=admin, options={"sender_rate_limit": 5})
    update_channel_account(email_account, actor=admin, name="Support desk")

    email_account.refresh_from_db()
    assert (email_account.name, email_account.options) == (
        "Support desk",
        {"sender_rate_limit": 5},
    )
    assert email_account.credentials == {"password": "mailbox-secret"}


def test_a_new_kind_must_take_the_kept_options(admin: User, email_account: ChannelAccount) -> None:
    update_channel_account(email_account, actor=admin, options={"verp": False})

    with pytest.raises(ValidationError) as caught:
        update_channel_account(email_account, actor=admin, kind="telegram", address="")

    assert caught.value.message_dict == {
        "options": ["Unknown option 'verp': telegram accounts take no options."]
    }
    email_account.refresh_from_db()
    assert (email_account.kind, email_account.options) == ("email", {"verp": False})

    update_channel_account(email_account, actor=admin, kind="telegram", address="", options={})
    email_account.refresh_from_db()
    assert (email_account.kind, email_account.options) == ("telegram", {})


def test_an_agent_cannot_change_options(agent: User, email_account: ChannelAccount) -> None:
    with pytest.raises(PermissionDenied):
        update_channel_account(email_account, actor=agent, options={"verp": False})

    email_account.refresh_from_db()
    assert email_account.options == {}


# --- Reading ----------------------------------------------------------------------------


def test_option_reads_options_before_credentials(email_account: ChannelAccount) -> None:
    email_account.options = {"smtp_host": "new.shop.test"}
    email_account.credentials = {"smtp_host": "old.shop.test", "smtp_user": "legacy"}

    assert email_account.option("smtp_host") == "new.shop.test"
    assert email_account.option("smtp_user") == "legacy"
    assert email_account.option("smtp_port") is None
