"""The registry of channel adapters: a new channel is one module and one row here."""

from __future__ import annotations

import logging
import threading

from django.utils.module_loading import import_string

from channels_inbox.adapters.base import (
    ChannelAdapter,
    ChannelError,
    OutboundMessage,
    ParseResult,
    SendResult,
    StatusUpdate,
)

__all__ = [
    "ADAPTER_PATHS",
    "ChannelAdapter",
    "ChannelError",
    "OutboundMessage",
    "ParseResult",
    "SendResult",
    "StatusUpdate",
    "get_adapter",
    "load_adapters",
]

logger = logging.getLogger(__name__)

# Channel kind -> dotted path of its ChannelAdapter subclass.
ADAPTER_PATHS: dict[str, str] = {
    "chat": "channels_inbox.chat.adapter.ChatAdapter",
    "email": "channels_inbox.email.adapter.EmailAdapter",
    "instagram": "channels_inbox.meta_messaging.adapter.InstagramAdapter",
    "messenger": "channels_inbox.meta_messaging.adapter.MessengerAdapter",
    "sms": "channels_inbox.sms.adapter.SmsAdapter",
    "telegram": "channels_inbox.telegram.adapter.TelegramAdapter",
    "whatsapp": "channels_inbox.whatsapp.adapter.WhatsAppAdapter",
}

# Keyed by path rather than kind, so pointing a kind at another class (a test does) is
# picked up at once instead of returning the instance cached for the old one.
_instances: dict[str, ChannelAdapter] = {}
_lock = threading.Lock()


def get_adapter(kind: str) -> ChannelAdapter:
    """The adapter of ``kind``, imported on first use. ChannelError(permanent=True) when no
    adapter handles ``kind`` or its module cannot be imported: an event or a message of that
    kind cannot be handled until a deploy fixes it (then ``reprocess_inbound``)."""
    path = ADAPTER_PATHS.get(kind)
    if path is None:
        raise ChannelError(f"No channel adapter handles {kind!r}.", permanent=True)
    adapter = _instances.get(path)
    if adapter is not None:
        return adapter
    with _lock:
        adapter = _instances.get(path)
        if adapter is None:
            try:
                adapter_class = import_string(path)
            except ImportError as error:
                raise ChannelError(
                    f"The {kind} channel adapter {path} cannot be imported: {error}",
                    permanent=True,
                ) from error
            if not (isinstance(adapter_class, type) and issubclass(adapter_class, ChannelAdapter)):
                raise ChannelError(f"{path} is not a ChannelAdapter.", permanent=True)
            adapter = adapter_class()
            _instances[path] = adapter
    return adapter


def load_adapters() -> None:
    """Import every adapter now. A worker calls it before it forks its processes, which then
    share the modules (an HTML parser, charset detection, provider SDKs) instead of each one
    loading them while its first message of a kind waits."""
    for kind in ADAPTER_PATHS:
        try:
            get_adapter(kind)
        except ChannelError:
            logger.exception("Could not load the %s channel adapter", kind)
