from django.urls import path

from helpdesk.consumers import AgentEventsConsumer

websocket_urlpatterns = [
    path("ws/agent/", AgentEventsConsumer.as_asgi()),
]
