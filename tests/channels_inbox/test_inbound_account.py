"""The account a webhook is for: read on every request with a statement of its own."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_inbox.adapters.inbound import active_account
from channels_inbox.models import ChannelAccount
from helpdesk.channel_kinds import ChannelKind
from helpdesk.models import Team

pytestmark = pytest.mark.django_db


def test_the_account_is_read_as_the_orm_reads_it(support_team: Team) -> None:
    account = ChannelAccount.objects.create(
        kind=ChannelKind.SMS,
        name="Text us",
        slug="text-us",
        address="+15005550006",
        credentials={"account_sid": "AC0123456789", "auth_token": "token-1"},
        options={"messaging_service_sid": "MG0123456789"},
        default_team=support_team,
    )

    found = active_account(account.slug, ChannelKind.SMS)

    assert found is not None
    assert found.pk == account.pk
    stored = ChannelAccount.objects.get(pk=account.pk)
    for field in ("kind", "name", "slug", "address", "credentials", "options", "is_active"):
        assert getattr(found, field) == getattr(stored, field), field
    assert found.credentials == {"account_sid": "AC0123456789", "auth_token": "token-1"}
    assert found.options == {"messaging_service_sid": "MG0123456789"}
    assert found.default_team_id == support_team.pk


def test_bookkeeping_timestamps_are_left_unread_yet_still_readable(
    whatsapp_account: ChannelAccount,
) -> None:
    found = active_account(whatsapp_account.slug, ChannelKind.WHATSAPP)
    assert found is not None
    assert found.get_deferred_fields() == {"created_at", "updated_at"}

    with CaptureQueriesContext(connection) as queries:
        created_at = found.created_at
    assert created_at == ChannelAccount.objects.get(pk=whatsapp_account.pk).created_at
    assert len(queries) == 1


@pytest.mark.parametrize("case", ["inactive", "other kind", "unknown slug"])
def test_no_account_when_it_cannot_receive(whatsapp_account: ChannelAccount, case: str) -> None:
    slug, kind = whatsapp_account.slug, ChannelKind.WHATSAPP
    if case == "inactive":
        ChannelAccount.objects.filter(pk=whatsapp_account.pk).update(is_active=False)
    elif case == "other kind":
        kind = ChannelKind.SMS
    else:
        slug = "no-such-account"

    assert active_account(slug, kind) is None
