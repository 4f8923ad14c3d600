from django.urls import path

from channels_inbox.chat.consumers import ChatVisitorConsumer
from helpdesk.consumers import AgentEventsConsumer

# Sockets of signed-in agents: same origin as Switchboard, with their session.
websocket_urlpatterns = [
    path("ws/agent/", AgentEventsConsumer.as_asgi()),
]

# Sockets opened from other sites: the chat widget runs on the shops' own pages, so its
# consumer checks the Origin against the chat account's allowed origins itself, and no
# session is involved.
public_websocket_urlpatterns = [
    path("ws/chat/<slug:slug>/", ChatVisitorConsumer.as_asgi()),
]
