"""The SMS channel's own rows. Imported by ``channels_inbox.models``, so Django finds
them as models of the ``channels_inbox`` app."""

from __future__ import annotations

from django.db import models


class OptOut(models.Model):
    """A phone number that told one account to stop messaging it (SMS STOP and its
    synonyms). While the row exists nothing is sent to the number from the account; the
    number's opt-in keyword (START) deletes it.

    Kept per account and number rather than on the customer's identity, because that is
    how the opt-out works: it is addressed to one sender (Twilio blocks that sender, not the
    shop's other numbers), it holds before the number belongs to any customer and through
    customer merges, and the send path has exactly the account and the number.
    """

    channel_account = models.ForeignKey(
        "channels_inbox.ChannelAccount", on_delete=models.CASCADE, related_name="opt_outs"
    )
    address = models.CharField(max_length=32, help_text="The phone number in E.164.")
    keyword = models.CharField(max_length=32, help_text="What the customer sent, e.g. STOP.")
    opted_out_at = models.DateTimeField()

    class Meta:
        ordering = ["channel_account", "address"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_account", "address"], name="opt_out_unique_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_account_id}:{self.address} ({self.keyword})"
