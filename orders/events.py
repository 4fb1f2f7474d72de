"""The order history: every creation and status change becomes an OrderEvent."""

from users.models import User

from .models import Order, OrderEvent


def order_event_record(
    *, order: Order, kind: str, to_status: str, from_status: str = "", actor: User | None
) -> OrderEvent:
    """Append one event to the order's history. Call inside the transaction that changed it."""
    return OrderEvent.objects.create(
        order=order, kind=kind, from_status=from_status, to_status=to_status, actor=actor
    )
