"""The `/ws/orders/` socket: pushes order events to the users allowed to see them."""

from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib import auth

from .events import MESSAGE_FIELDS, STAFF_GROUP, customer_group

# The close code when the socket's right is gone (logged out, deactivated, no longer staff,
# password changed): 4000 + HTTP's 403, in the range RFC 6455 leaves to applications.
RIGHT_GONE = 4403


class OrderConsumer(AsyncJsonWebsocketConsumer):
    """A logged-in customer hears about their own orders; staff about every order.

    The user is already in the scope (AuthMiddlewareStack loaded it from the session cookie).
    Before each delivery the session is read again, so a right lost since the handshake closes
    the socket instead of leaking the next event (one query per event and socket).
    """

    # The groups this socket joined (none when the handshake was refused).
    joined: tuple[str, ...] = ()

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Closing before accept refuses the handshake (HTTP 403).
            await self.close()
            return
        self.joined = (STAFF_GROUP if user.is_staff else customer_group(user.pk),)
        # Join before accepting, so that an open socket already receives every event.
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """The client sends nothing; whatever it sends (JSON or not) is ignored."""

    async def order_event(self, event: dict[str, Any]) -> None:
        """An `order.event` from the channel layer (see orders.events): one JSON text frame,
        if the socket's user still has the right that opened it; else the socket is closed."""
        if not await self.still_allowed():
            joined: tuple[str, ...] = self.joined
            self.joined = ()
            for group in joined:
                await self.channel_layer.group_discard(group, self.channel_name)
            await self.close(code=RIGHT_GONE)
            return
        await self.send_json({field: event[field] for field in MESSAGE_FIELDS})

    @database_sync_to_async
    def still_allowed(self) -> bool:
        """The session read again from its store, as a request would read it (`auth.get_user`):
        gone after a logout, void after a password change (its hash no longer matches), no user
        once deactivated; and still staff for the staff group."""
        opened_by = self.scope["user"]
        store = import_module(settings.SESSION_ENGINE).SessionStore
        session = store(session_key=self.scope["session"].session_key)
        user = auth.get_user(SimpleNamespace(session=session))  # type: ignore[arg-type]
        if not user.is_authenticated or user.pk != opened_by.pk:
            return False
        return user.is_staff or STAFF_GROUP not in self.joined
