"""How a WhatsApp account is set up: its secrets are credentials, never options, and the
registry hands its kind to the WhatsApp adapter."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from channels_inbox.adapters import get_adapter
from channels_inbox.services import clean_options
from channels_inbox.whatsapp.adapter import WhatsAppAdapter


@pytest.mark.parametrize("name", ["app_secret", "verify_token", "access_token"])
def test_a_secret_put_among_the_options_is_pointed_to_the_credentials(name: str) -> None:
    with pytest.raises(ValidationError) as refused:
        clean_options("whatsapp", {name: "EAAG-secret-value"})

    assert refused.value.message_dict["options"] == [
        f"{name!r} is a secret: put it in the credentials, not the options."
    ]
    assert "EAAG-secret-value" not in str(refused.value)


def test_the_registry_hands_whatsapp_to_its_adapter() -> None:
    assert isinstance(get_adapter("whatsapp"), WhatsAppAdapter)
