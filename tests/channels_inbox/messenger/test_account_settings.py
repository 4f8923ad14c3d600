"""How a Messenger or Instagram account is set up: its one option, its secrets pointed to
the credentials, and the registry handing each kind to its adapter."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from channels_inbox.adapters import get_adapter
from channels_inbox.meta_messaging.adapter import InstagramAdapter, MessengerAdapter
from channels_inbox.services import clean_options


@pytest.mark.parametrize("kind", ["messenger", "instagram"])
def test_the_human_agent_tag_is_a_switch(kind: str) -> None:
    assert clean_options(kind, {"human_agent_tag": True}) == {"human_agent_tag": True}
    with pytest.raises(ValidationError) as refused:
        clean_options(kind, {"human_agent_tag": "yes"})
    assert refused.value.message_dict["options"] == ["human_agent_tag must be true or false."]


@pytest.mark.parametrize("name", ["app_secret", "verify_token", "page_access_token"])
def test_a_secret_put_among_the_options_is_pointed_to_the_credentials(name: str) -> None:
    with pytest.raises(ValidationError) as refused:
        clean_options("messenger", {name: "EAAG-secret-value"})

    assert refused.value.message_dict["options"] == [
        f"{name!r} is a secret: put it in the credentials, not the options."
    ]
    assert "EAAG-secret-value" not in str(refused.value)


def test_the_registry_hands_each_kind_to_its_adapter() -> None:
    messenger, instagram = get_adapter("messenger"), get_adapter("instagram")

    assert isinstance(messenger, MessengerAdapter)
    assert isinstance(instagram, InstagramAdapter)
    assert (messenger.kind, instagram.kind) == ("messenger", "instagram")
