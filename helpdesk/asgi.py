"""ASGI entry point: pages, API and WebSockets in one process (``make run``), or WebSockets
only behind a proxy that sends ``/ws/`` here (the ``realtime`` service in production)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from helpdesk.routing import public_websocket_urlpatterns, websocket_urlpatterns  # noqa: E402
from helpdesk.scheduler import start_embedded_scheduler  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [
                *public_websocket_urlpatterns,
                # Everything else only from Switchboard's own pages.
                re_path(
                    r"",
                    AllowedHostsOriginValidator(
                        AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
                    ),
                ),
            ]
        ),
    }
)

# Without Redis there is no `celery beat`: this process runs the periodic jobs itself.
start_embedded_scheduler()
