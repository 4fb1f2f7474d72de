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
from django.core import signals  # noqa: E402
from django.db import close_old_connections, reset_queries  # noqa: E402

from config.handlers import ASGIHandler  # noqa: E402
from config.startup import settle  # noqa: E402
from orders.routing import websocket_urlpatterns  # noqa: E402

# A request's sync code runs on a thread that holds no connection when the request starts: it
# is new, or the previous request closed its connections there when it finished. So these two
# receivers have nothing to do at the start, and as sync receivers they would cost a thread
# hop on every request. They still run when a request finishes, in the request's thread.
signals.request_started.disconnect(close_old_connections)
signals.request_started.disconnect(reset_queries)

application = ProtocolTypeRouter(
    {
        "http": ASGIHandler(),
        # Origin against ALLOWED_HOSTS first, then the user from the session cookie.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

settle()
