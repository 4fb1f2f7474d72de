"""The order history: every creation and status change becomes an OrderEvent.

Once the transaction that recorded an event commits, the event is also pushed to the sockets
allowed to see it: the customer's group and the staff group (docs/live-updates.md), and the
customer's email about it (placed, paid, shipped, cancelled) is enqueued (orders/tasks.py).
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from users.models import User

from .contract import OrderEventMessage, event_message
from .models import Order, OrderEvent
from .tasks import order_email_kind, order_email_schedule

logger = logging.getLogger(__name__)

# Channel-layer groups: a customer's socket joins their own group, a staff socket the staff one.
STAFF_GROUP = "orders.staff"


def customer_group(customer_id: int) -> str:
    return f"orders.customer.{customer_id}"


MESSAGE_FIELDS: tuple[str, ...] = tuple(OrderEventMessage.__annotations__)


def order_event_record(
    *, order: Order, kind: str, to_status: str, from_status: str = "", actor: User | None
) -> OrderEvent:
    """Append one event to the order's history. Call inside the transaction that changed it.

    The broadcast and the email are registered with on_commit: they go out once the change is
    committed, and never for a change that rolls back. The message is a snapshot of the event
    as recorded.
    """
    event = OrderEvent.objects.create(
        order=order, kind=kind, from_status=from_status, to_status=to_status, actor=actor
    )
    message = event_message(event)
    transaction.on_commit(lambda: order_event_broadcast(message))
    email = order_email_kind(kind=kind, to_status=to_status)
    if email is not None:
        order_email_schedule(order_id=order.pk, kind=email)
    return event


def order_event_broadcast(message: OrderEventMessage) -> None:
    """Send `message` to the order's customer and to staff.

    A failing channel layer (Redis down) is logged, never raised: the change it reports has
    already committed, so the request that made it must still succeed.
    """
    try:
        # One hop into async code for both groups: outside an event loop (WSGI, a command)
        # each async_to_sync call starts a loop of its own, and with it a Redis connection.
        async_to_sync(_group_send)(message)
    except Exception:
        logger.exception(
            "Could not broadcast the %s event of order %s", message["kind"], message["order_id"]
        )


async def _group_send(message: OrderEventMessage) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in (customer_group(message["customer_id"]), STAFF_GROUP):
        try:
            await layer.group_send(group, message)
        except Exception:
            # Still try the other group: the staff board should not miss what a customer missed.
            logger.exception(
                "Could not send the %s event of order %s to group %s",
                message["kind"],
                message["order_id"],
                group,
            )
