"""Every write to channel accounts goes through these functions; only admins may call them.

Credentials are provider secrets. They are checked for shape here (a flat object of strings)
and never echoed: error messages name a key at most, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from channels_inbox.models import ChannelAccount
from customers.identities import normalize_address
from helpdesk.channel_kinds import PHONE_CHANNELS, ChannelKind
from helpdesk.models import Team, User
from helpdesk.services import UNSET, Unset, check_admin, insert_unique

MAX_CREDENTIAL_KEYS = 50
MAX_CREDENTIAL_KEY_LENGTH = 100
MAX_CREDENTIAL_VALUE_LENGTH = 10_000

# Channels whose address is a handle customers write to, checked like a customer's handle;
# the other channels' addresses are labels (a page name, a bot name) and stay free text.
NORMALIZED_ADDRESS_KINDS = frozenset({ChannelKind.EMAIL, *PHONE_CHANNELS})


def clean_credentials(credentials: Any) -> dict[str, str]:
    """A copy of ``credentials`` when it is a JSON object of string values; ValidationError
    (on ``credentials``) otherwise."""
    if not isinstance(credentials, Mapping):
        raise ValidationError({"credentials": ["Credentials must be an object of string values."]})
    if len(credentials) > MAX_CREDENTIAL_KEYS:
        raise ValidationError({"credentials": [f"At most {MAX_CREDENTIAL_KEYS} credentials."]})
    cleaned: dict[str, str] = {}
    errors: list[str] = []
    for key, value in credentials.items():
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_CREDENTIAL_KEY_LENGTH:
            errors.append(f"Credential names are 1 to {MAX_CREDENTIAL_KEY_LENGTH} characters.")
        elif not isinstance(value, str):
            errors.append(f"The value of {key!r} must be a string.")
        elif len(value) > MAX_CREDENTIAL_VALUE_LENGTH:
            errors.append(f"The value of {key!r} is too long.")
        else:
            cleaned[key] = value
    if errors:
        raise ValidationError({"credentials": errors})
    return cleaned


def normalize_account_address(kind: str, address: str) -> str:
    """The address in its canonical form for ``kind``; ValidationError (on ``address``)."""
    address = address.strip()
    if not address or kind not in NORMALIZED_ADDRESS_KINDS:
        return address
    try:
        return normalize_address(kind, address)
    except ValidationError as error:
        raise ValidationError({"address": error.messages}) from None


def create_channel_account(
    *,
    kind: str,
    name: str,
    slug: str,
    address: str = "",
    credentials: Mapping[str, str] | None = None,
    default_team: Team | None = None,
    is_active: bool = True,
    actor: User,
) -> ChannelAccount:
    check_admin(actor)
    account = ChannelAccount(
        kind=kind,
        name=name.strip(),
        slug=slug,
        address=normalize_account_address(kind, address),
        credentials=clean_credentials(credentials if credentials is not None else {}),
        default_team=default_team,
        is_active=is_active,
    )
    account.full_clean()
    insert_unique(account)
    return account


def update_channel_account(
    account: ChannelAccount,
    *,
    actor: User,
    kind: str | Unset = UNSET,
    name: str | Unset = UNSET,
    slug: str | Unset = UNSET,
    address: str | Unset = UNSET,
    credentials: Mapping[str, str] | Unset = UNSET,
    default_team: Team | Unset | None = UNSET,
    is_active: bool | Unset = UNSET,
) -> ChannelAccount:
    """Change the given fields; credentials left UNSET keep their stored values, and given
    ones replace them all (a key left out is removed)."""
    check_admin(actor)
    with transaction.atomic():
        account = ChannelAccount.objects.select_for_update().get(pk=account.pk)
        changes: dict[str, Any] = {
            "kind": kind,
            "name": name.strip() if isinstance(name, str) else name,
            "slug": slug,
            "default_team": default_team,
            "is_active": is_active,
        }
        if not isinstance(credentials, Unset):
            changes["credentials"] = clean_credentials(credentials)
        effective_kind = account.kind if isinstance(kind, Unset) else kind
        if not isinstance(address, Unset):
            changes["address"] = normalize_account_address(effective_kind, address)
        elif not isinstance(kind, Unset):
            # The stored address must still make sense on the new channel.
            changes["address"] = normalize_account_address(effective_kind, account.address)
        changed = [field for field, value in changes.items() if not isinstance(value, Unset)]
        for field in changed:
            setattr(account, field, changes[field])
        account.full_clean()
        if changed:
            account.save(update_fields=[*changed, "updated_at"])
    return account


def deactivate_channel_account(account: ChannelAccount, *, actor: User) -> ChannelAccount:
    """Stop taking in and sending through the account. The row stays, so its tickets, messages
    and stored deliveries keep pointing at it; an admin can turn it back on."""
    return update_channel_account(account, actor=actor, is_active=False)
