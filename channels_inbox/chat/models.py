"""The live chat channel's own rows. Imported by ``channels_inbox.models``, so Django finds
them as models of the ``channels_inbox`` app."""

from __future__ import annotations

from django.db import models


class ChatVisitor(models.Model):
    """What a chat visitor told us about themselves: a name, an email address.

    A visitor is known by the id in their signed token (``channels_inbox.chat.tokens``);
    a row exists only once they give a name or an address, so a page view costs nothing.
    The address is also added to the visitor's customer as an email identity when nobody
    else has it. When another customer already has it, it is kept here only: a claim typed
    into a chat box must neither join that customer's record nor show their conversations,
    but it is still where the visitor asked to be answered when they leave the chat.
    """

    channel_account = models.ForeignKey(
        "channels_inbox.ChannelAccount", on_delete=models.CASCADE, related_name="chat_visitors"
    )
    visitor_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.visitor_id} ({self.name or self.email or 'anonymous'})"
