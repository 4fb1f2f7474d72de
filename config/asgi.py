"""ASGI entry point: HTTP through Django, WebSockets through Channels (`/ws/orders/`).

Serve with `daphne config.asgi:application` or `uvicorn config.asgi:application`. With more than
one process, set REDIS_URL so that they share one channel layer (docs/live-updates.md).
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Set Django up (apps, models) before importing anything that imports models.
django.setup(set_prefix=False)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from orders.routing import websocket_urlpatterns  # noqa: E402
from runtime.handlers import http_application  # noqa: E402
from runtime.startup import settle  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": http_application(),
        # Origin against ALLOWED_HOSTS first, then the user from the session cookie.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

settle()
