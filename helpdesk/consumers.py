from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from helpdesk.events import AGENTS_GROUP, ticket_group


class AgentEventsConsumer(AsyncJsonWebsocketConsumer):
    """Live events for signed-in agents: every inbox change, plus the tickets they open.

    The browser sends ``{"subscribe": <ticket id>}`` / ``{"unsubscribe": <ticket id>}`` as it
    opens and leaves a conversation; the pushes are small and the page fetches what changed.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.ticket_groups: set[str] = set()
        await self.channel_layer.group_add(AGENTS_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "ticket_groups"):
            return
        for group in [AGENTS_GROUP, *self.ticket_groups]:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_json({"error": "Send a JSON object."})
            return
        for action in ("subscribe", "unsubscribe"):
            ticket_id = content.get(action)
            if ticket_id is None:
                continue
            if not isinstance(ticket_id, int) or isinstance(ticket_id, bool) or ticket_id < 1:
                await self.send_json({"error": f"{action} takes a ticket id."})
                return
            group = ticket_group(ticket_id)
            if action == "subscribe":
                self.ticket_groups.add(group)
                await self.channel_layer.group_add(group, self.channel_name)
            else:
                self.ticket_groups.discard(group)
                await self.channel_layer.group_discard(group, self.channel_name)
            await self.send_json({action + "d": ticket_id})
            return
        await self.send_json({"error": "Unknown message; send subscribe or unsubscribe."})

    async def helpdesk_event(self, message: dict[str, Any]) -> None:
        await self.send_json({"event": message["event"], "data": message["data"]})
