from django.db import models


class ChannelKind(models.TextChoices):
    """The channels a customer can reach the shop on. Shared by identities, tickets and
    channel accounts, so it lives with the code every app depends on."""

    EMAIL = "email", "Email"
    CHAT = "chat", "Live chat"
    WHATSAPP = "whatsapp", "WhatsApp"
    SMS = "sms", "SMS"
    MESSENGER = "messenger", "Messenger"
    INSTAGRAM = "instagram", "Instagram"
    TELEGRAM = "telegram", "Telegram"


PHONE_CHANNELS = frozenset({ChannelKind.WHATSAPP, ChannelKind.SMS})
# ChannelKind.values builds its list anew on each read; membership tests on the paths every
# message takes use this.
CHANNEL_KINDS = frozenset(ChannelKind.values)
