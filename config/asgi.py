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
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from orders.routing import websocket_urlpatterns  # noqa: E402
from runtime.handlers import http_application  # noqa: E402
from runtime.proxy import behind_trusted_proxies  # noqa: E402
from runtime.startup import settle  # noqa: E402


def websocket_application() -> OriginValidator:
    """The socket stack: the Origin checked against WEBSOCKET_ALLOWED_ORIGINS (scheme, host and
    port; a pattern without a scheme, as while debugging, matches the host only), then the user
    from the session cookie."""
    return OriginValidator(
        AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), settings.WEBSOCKET_ALLOWED_ORIGINS
    )


application = behind_trusted_proxies(
    ProtocolTypeRouter({"http": http_application(), "websocket": websocket_application()})
)

settle()
