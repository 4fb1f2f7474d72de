"""The `/ws/orders/` socket: pushes order events to the users allowed to see them."""

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .events import MESSAGE_FIELDS, STAFF_GROUP, customer_group


class OrderConsumer(AsyncJsonWebsocketConsumer):
    """A logged-in customer hears about their own orders; staff about every order.

    The user is already in the scope (AuthMiddlewareStack loaded it from the session cookie),
    so nothing here touches the database.
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
        """An `order.event` from the channel layer (see orders.events): one JSON text frame."""
        await self.send_json({field: event[field] for field in MESSAGE_FIELDS})
