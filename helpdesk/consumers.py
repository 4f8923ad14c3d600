from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from helpdesk.events import AGENTS_GROUP, agent_group, ticket_group

# Close code for a refused sign-in (4000-4999 are the application's own codes).
UNAUTHENTICATED_CLOSE_CODE = 4401
# A browser tab follows the conversations it shows; far more means a leak or abuse, and each
# group costs the channel layer memory.
MAX_TICKET_SUBSCRIPTIONS = 50
ACTIONS = ("subscribe", "unsubscribe", "typing", "stopped_typing", "viewing")
# Pushed to a ticket's group when someone starts or stops typing on it.
TYPING_EVENT = "ticket.typing"
# Pushed to a ticket's group when an agent opens or leaves it, or says again that they are
# there (``{"viewing": id}``), which a viewer does on seeing someone new: so a newcomer
# learns at once who was already there.
PRESENCE_EVENT = "ticket.presence"
OWN_EVENTS = (TYPING_EVENT, PRESENCE_EVENT)


class AgentEventsConsumer(AsyncJsonWebsocketConsumer):
    """Live events for signed-in agents: every inbox change, plus the tickets they open.

    The browser sends ``{"subscribe": <ticket id>}`` / ``{"unsubscribe": <ticket id>}`` as it
    opens and leaves a conversation and gets ``{"subscribed": id}`` / ``{"unsubscribed": id}``
    back; anything else gets ``{"error": "..."}`` and the connection stays open. Pushes are
    ``{"event": name, "data": {...ids}}``; the page fetches what changed.

    While the agent types a reply on a subscribed ticket the browser sends ``{"typing": id}``
    (again every few seconds) and ``{"stopped_typing": id}``, with no answer. Everyone else in
    the ticket's group (the other agents viewing it, the customer's chat) gets a
    ``ticket.typing`` push: ``{"ticket_id", "author": "agent", "agent_id", "name", "typing"}``;
    a customer typing in the chat arrives the same way with ``"author": "customer"`` and
    ``customer_id``. Receivers drop the indicator when no repeat comes within a few seconds.

    Presence: subscribing, unsubscribing and disconnecting push ``ticket.presence``
    (``{"ticket_id", "agent_id", "name", "viewing"}``) to the ticket's group, and so does
    ``{"viewing": id}`` on a subscribed ticket, with no answer.
    """

    async def connect(self) -> None:
        self.ticket_groups: set[str] = set()
        self.viewed_ticket_ids: set[int] = set()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=UNAUTHENTICATED_CLOSE_CODE)
            return
        await self.channel_layer.group_add(AGENTS_GROUP, self.channel_name)
        self.own_group = agent_group(user.pk)
        await self.channel_layer.group_add(self.own_group, self.channel_name)
        self.joined = True
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if not getattr(self, "joined", False):
            return
        for ticket_id in self.viewed_ticket_ids:
            await self._presence(ticket_id, viewing=False)
        for group in [AGENTS_GROUP, self.own_group, *self.ticket_groups]:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        # The base class would raise on invalid JSON and drop the connection; a bad frame from
        # the browser only earns an error reply.
        if text_data is None:
            await self.send_json({"error": "Send JSON text frames."})
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json({"error": "Send a JSON object."})
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_json({"error": "Send a JSON object."})
            return
        actions = [action for action in ACTIONS if action in content]
        if len(actions) != 1 or len(content) != 1:
            await self.send_json({"error": "Send exactly one of subscribe or unsubscribe."})
            return
        action = actions[0]
        ticket_id = content[action]
        if not isinstance(ticket_id, int) or isinstance(ticket_id, bool) or ticket_id < 1:
            await self.send_json({"error": f"{action} takes a ticket id."})
            return
        group = ticket_group(ticket_id)
        if action in ("typing", "stopped_typing"):
            await self._typing(ticket_id, typing=action == "typing")
            return
        if action == "viewing":
            if group not in self.ticket_groups:
                await self.send_json({"error": f"Subscribe to ticket {ticket_id} first."})
            else:
                await self._presence(ticket_id, viewing=True)
            return
        if action == "subscribe":
            if group not in self.ticket_groups:
                if len(self.ticket_groups) >= MAX_TICKET_SUBSCRIPTIONS:
                    await self.send_json(
                        {"error": f"At most {MAX_TICKET_SUBSCRIPTIONS} tickets at once."}
                    )
                    return
                self.ticket_groups.add(group)
                self.viewed_ticket_ids.add(ticket_id)
                await self.channel_layer.group_add(group, self.channel_name)
                await self._presence(ticket_id, viewing=True)
        elif group in self.ticket_groups:
            self.ticket_groups.discard(group)
            self.viewed_ticket_ids.discard(ticket_id)
            await self.channel_layer.group_discard(group, self.channel_name)
            await self._presence(ticket_id, viewing=False)
        await self.send_json({f"{action}d": ticket_id})

    async def _typing(self, ticket_id: int, *, typing: bool) -> None:
        group = ticket_group(ticket_id)
        if group not in self.ticket_groups:
            await self.send_json({"error": f"Subscribe to ticket {ticket_id} before typing on it."})
            return
        user = self.scope["user"]
        data = {
            "ticket_id": ticket_id,
            "author": "agent",
            "typing": typing,
            "agent_id": user.pk,
            "name": user.name,
        }
        await self.channel_layer.group_send(
            group, {"type": "helpdesk.event", "event": TYPING_EVENT, "data": data}
        )

    async def _presence(self, ticket_id: int, *, viewing: bool) -> None:
        user = self.scope["user"]
        data = {
            "ticket_id": ticket_id,
            "agent_id": user.pk,
            "name": user.name,
            "viewing": viewing,
        }
        await self.channel_layer.group_send(
            ticket_group(ticket_id),
            {"type": "helpdesk.event", "event": PRESENCE_EVENT, "data": data},
        )

    async def helpdesk_events(self, message: dict[str, Any]) -> None:
        """Events pushed together (helpdesk.events._BackgroundLoop): a frame each, in order,
        as if each had come alone."""
        for event in message["events"]:
            await self.helpdesk_event(event)

    async def helpdesk_event(self, message: dict[str, Any]) -> None:
        data = message["data"]
        if message["event"] in OWN_EVENTS and data.get("agent_id") == self.scope["user"].pk:
            return  # the agent's own typing or presence
        await self.send_json({"event": message["event"], "data": data})
