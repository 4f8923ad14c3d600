"""The visitor's socket: ``/ws/chat/<account slug>/?token=<visitor token>``.

On connect the page's Origin must be one of the account's allowed origins (else the
handshake is refused) and the token genuine (else the socket closes with 4401 and the widget
starts over). The socket then gets ``{"type": "history", "messages": [...],
"agents_online": bool}``, the latest messages of the visitor's conversation.

The widget sends JSON objects with a ``type``:

- ``message`` ``{"id", "text"}``: stored for the pipeline (``services.store_visitor_message``),
  answered ``{"type": "ack", "id"}``, also when it was stored before;
- ``typing`` ``{"typing": bool}``: passed to the agents viewing the ticket;
- ``received`` / ``read`` ``{"ids": ["m12", ...]}``: the agent's messages the widget showed,
  or the visitor saw with the panel open, recorded as ``delivered`` / ``read``;
- ``ping``: keeps the visitor counted as connected; answered ``{"type": "pong",
  "agents_online": bool}``.

It receives ``{"type": "message", "message": {...}}`` for each agent reply (pushed by the
chat adapter), ``{"type": "typing", "name", "typing"}`` when an agent starts or stops typing,
and ``{"type": "error", "code", "message", "id"?}`` for a frame it cannot take; the socket
stays open after an error.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from channels_inbox.adapters.inbound import active_account
from channels_inbox.chat import limits, services
from channels_inbox.chat.origins import origin_allowed
from channels_inbox.chat.presence import (
    agents_online,
    visitor_connected,
    visitor_disconnected,
    visitor_socket_count,
    visitor_still_connected,
)
from channels_inbox.chat.queries import (
    conversation_history,
    current_ticket_id,
    message_payload,
    visitor_customer_id,
)
from channels_inbox.chat.realtime import TYPING_EVENT, typing_push, visitor_group
from channels_inbox.chat.tokens import read_visitor_token
from channels_inbox.models import ChannelAccount
from helpdesk.channel_kinds import ChannelKind
from helpdesk.events import ticket_group
from tickets.models import Message

NOT_FOUND_CLOSE_CODE = 4404
FORBIDDEN_ORIGIN_CLOSE_CODE = 4403
BAD_TOKEN_CLOSE_CODE = 4401
TOO_MANY_CLOSE_CODE = 4429
# One visitor's tabs; a token copied into a script that opens sockets by the hundred is not.
MAX_SOCKETS_PER_VISITOR = 10
# Frames of any type a socket may send per minute (the widget sends a few: pings every
# 25 seconds, typing every 3, receipts as replies come); beyond it the socket is closed.
MAX_FRAMES_PER_MINUTE = 120
MAX_FRAME_CHARACTERS = 20_000
MAX_RECEIPT_IDS = 100
# A visitor's typing reaches the agents at most this often, unless it stops.
TYPING_INTERVAL_SECONDS = 1.0
# The push of a reply can reach the widget before its send is recorded; a receipt for it is
# tried again this often, this many times.
RECEIPT_RETRY_SECONDS = 0.25
RECEIPT_RETRIES = 20
RECEIPT_STATUSES = {
    "received": Message.DeliveryStatus.DELIVERED,
    "read": Message.DeliveryStatus.READ,
}


class ChatVisitorConsumer(AsyncJsonWebsocketConsumer):
    account: ChannelAccount
    visitor_id: str

    async def connect(self) -> None:
        self.joined = False
        self.ticket_id: int | None = None
        self.customer_id: int | None = None
        self.last_typing: tuple[float, bool] = (0.0, False)
        self.frames: tuple[float, int] = (time.monotonic(), 0)
        self.retries: set[asyncio.Task[None]] = set()
        slug = self.scope["url_route"]["kwargs"]["slug"]
        account = await database_sync_to_async(active_account)(slug, ChannelKind.CHAT)
        if account is None:
            await self.close(code=NOT_FOUND_CLOSE_CODE)
            return
        if not origin_allowed(account, _header(self.scope, b"origin")):
            await self.close(code=FORBIDDEN_ORIGIN_CLOSE_CODE)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        visitor_id = read_visitor_token(account.pk, (query.get("token") or [""])[0])
        if visitor_id is None:
            await self.close(code=BAD_TOKEN_CLOSE_CODE)
            return
        if (
            await database_sync_to_async(visitor_socket_count)(visitor_id)
            >= MAX_SOCKETS_PER_VISITOR
        ):
            await self.close(code=TOO_MANY_CLOSE_CODE)
            return
        self.account, self.visitor_id = account, visitor_id
        await self.channel_layer.group_add(visitor_group(visitor_id), self.channel_name)
        self.joined = True
        await self.accept()
        history, online, ticket_id = await database_sync_to_async(self._opening)()
        await self._follow_ticket(ticket_id)
        await self.send_json({"type": "history", "messages": history, "agents_online": online})

    def _opening(self) -> tuple[list[dict[str, Any]], bool, int | None]:
        visitor_connected(self.visitor_id)
        history = [
            message_payload(message, account=self.account, visitor_id=self.visitor_id)
            for message in conversation_history(self.account, self.visitor_id)
        ]
        return (
            history,
            agents_online(self.account),
            current_ticket_id(self.account, self.visitor_id),
        )

    async def disconnect(self, code: int) -> None:
        for task in self.retries:
            task.cancel()
        if not getattr(self, "joined", False):
            return
        await self.channel_layer.group_discard(visitor_group(self.visitor_id), self.channel_name)
        if self.ticket_id is not None:
            await self.channel_layer.group_discard(ticket_group(self.ticket_id), self.channel_name)
        await database_sync_to_async(visitor_disconnected)(self.visitor_id)

    async def _follow_ticket(self, ticket_id: int | None) -> None:
        """Be in the group of the visitor's current ticket, and of no other."""
        if ticket_id == self.ticket_id:
            return
        if self.ticket_id is not None:
            await self.channel_layer.group_discard(ticket_group(self.ticket_id), self.channel_name)
        self.ticket_id = ticket_id
        if ticket_id is not None:
            await self.channel_layer.group_add(ticket_group(ticket_id), self.channel_name)

    # --- From the widget -----------------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        started, count = self.frames
        now = time.monotonic()
        self.frames = (now, 1) if now - started >= 60 else (started, count + 1)
        if self.frames[1] > MAX_FRAMES_PER_MINUTE:
            await self.close(code=TOO_MANY_CLOSE_CODE)
            return
        # The base class would drop the connection on a frame that is not JSON.
        if text_data is None or len(text_data) > MAX_FRAME_CHARACTERS:
            await self._error("bad_frame", "Send JSON text frames of at most 20,000 characters.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("bad_frame", "Send a JSON object.")
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "message":
            await self._message(content)
        elif kind == "typing":
            await self._typing(content.get("typing") is True)
        elif kind in RECEIPT_STATUSES:
            await self._receipts(content.get("ids"), RECEIPT_STATUSES[kind])
        elif kind == "ping":
            online = await database_sync_to_async(self._ping)()
            await self.send_json({"type": "pong", "agents_online": online})
        else:
            await self._error("bad_frame", "Unknown message type.")

    def _ping(self) -> bool:
        visitor_still_connected(self.visitor_id)
        return agents_online(self.account)

    async def _message(self, content: dict[str, Any]) -> None:
        try:
            client_message_id = services.check_client_message_id(content.get("id"))
        except services.VisitorInputError as error:
            await self._error("bad_message", str(error))
            return
        try:
            text = services.check_text(content.get("text"))
        except services.VisitorInputError as error:
            await self._error("bad_message", str(error), message_id=client_message_id)
            return
        stored = await database_sync_to_async(self._store)(client_message_id, text)
        if not stored:
            await self._error(
                "rate_limited",
                "You are sending messages too fast; wait a moment.",
                message_id=client_message_id,
            )
            return
        await self.send_json({"type": "ack", "id": client_message_id})
        if self.ticket_id is None:
            await self._follow_ticket(
                await database_sync_to_async(current_ticket_id)(self.account, self.visitor_id)
            )

    def _store(self, client_message_id: str, text: str) -> bool:
        if not limits.allow(limits.MESSAGE_LIMIT, self.visitor_id):
            return False
        services.store_visitor_message(self.account, self.visitor_id, client_message_id, text)
        return True

    async def _typing(self, typing: bool) -> None:
        now = time.monotonic()
        last_at, last_typing = self.last_typing
        if typing and last_typing and now - last_at < TYPING_INTERVAL_SECONDS:
            return
        self.last_typing = (now, typing)
        if self.ticket_id is None or self.customer_id is None:
            ticket_id, customer_id = await database_sync_to_async(self._conversation)()
            await self._follow_ticket(ticket_id)
            self.customer_id = customer_id
        if self.ticket_id is None:
            return  # nobody to tell before the first message
        await self.channel_layer.group_send(
            ticket_group(self.ticket_id),
            typing_push(
                self.ticket_id, author="customer", typing=typing, customer_id=self.customer_id
            ),
        )

    def _conversation(self) -> tuple[int | None, int | None]:
        return (
            current_ticket_id(self.account, self.visitor_id),
            visitor_customer_id(self.visitor_id),
        )

    async def _receipts(self, ids: Any, status: str) -> None:
        if not isinstance(ids, list) or len(ids) > MAX_RECEIPT_IDS:
            await self._error("bad_receipt", f"Send at most {MAX_RECEIPT_IDS} message ids.")
            return
        message_ids = [
            int(value[1:])
            for value in ids
            if isinstance(value, str) and value.startswith("m") and value[1:].isdigit()
        ]
        if not message_ids:
            return
        waiting = await database_sync_to_async(services.record_visitor_receipts)(
            self.account, self.visitor_id, message_ids, status=status
        )
        if waiting:
            task = asyncio.ensure_future(self._retry_receipts(waiting, status))
            self.retries.add(task)
            task.add_done_callback(self.retries.discard)

    async def _retry_receipts(self, message_ids: list[int], status: str) -> None:
        for _ in range(RECEIPT_RETRIES):
            await asyncio.sleep(RECEIPT_RETRY_SECONDS)
            message_ids = await database_sync_to_async(services.record_visitor_receipts)(
                self.account, self.visitor_id, message_ids, status=status
            )
            if not message_ids:
                return

    async def _error(self, code: str, message: str, *, message_id: str = "") -> None:
        error = {"type": "error", "code": code, "message": message}
        if message_id:
            error["id"] = message_id
        await self.send_json(error)

    # --- From the channel layer ----------------------------------------------------------

    async def chat_message(self, event: dict[str, Any]) -> None:
        """An agent's reply, pushed by the chat adapter."""
        await self._follow_ticket(event["ticket_id"])
        await self.send_json({"type": "message", "message": event["message"]})

    async def helpdesk_events(self, message: dict[str, Any]) -> None:
        """Events pushed together (helpdesk.events._BackgroundLoop), each as if alone."""
        for event in message["events"]:
            await self.helpdesk_event(event)

    async def helpdesk_event(self, event: dict[str, Any]) -> None:
        """The ticket group's pushes: the visitor hears of agents typing, nothing else."""
        data = event.get("data") or {}
        if event.get("event") != TYPING_EVENT or data.get("author") != "agent":
            return
        await self.send_json(
            {"type": "typing", "name": data.get("name", ""), "typing": data.get("typing") is True}
        )


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
