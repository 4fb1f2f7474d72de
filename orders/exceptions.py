"""The order domain's errors: every interface maps these to its own responses in one place.

Each refusal carries its contract once: a stable `code` and the HTTP `status` every API style
answers it with (docs/api-contract.md, "Errors", checked against these by a test). The
socket and the admin show the message; the commands print it.
"""


class OrderError(Exception):
    """Base of every refusal by the order domain. `code` is stable and machine-readable."""

    code = "order_error"
    status = 422  # unprocessable: the request is well formed, the domain refuses it

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidOrder(OrderError):
    """The request itself is malformed: no lines, a quantity below 1."""

    code = "invalid_order"


class ProductUnavailable(OrderError):
    """A line names a product that does not exist or is not for sale."""

    code = "product_unavailable"

    def __init__(self, product_ids: list[int]) -> None:
        super().__init__(f"Unknown or inactive product(s): {', '.join(map(str, product_ids))}.")
        self.product_ids = product_ids


class InsufficientStock(OrderError):
    code = "insufficient_stock"
    status = 409

    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(f"Not enough stock for {sku}: requested {requested}, {available} left.")
        self.sku = sku
        self.requested = requested
        self.available = available


class UnpaidUnitsLimit(OrderError):
    """The customer would hold more units in unpaid orders than settings.ORDER_MAX_UNPAID_UNITS.

    The stock of a pending order is taken from everyone else until it is paid or cancelled: the
    cap keeps one customer from holding the catalogue (issue 14, finding 3).
    """

    code = "unpaid_units_limit"
    status = 409

    def __init__(self, limit: int, held: int, requested: int) -> None:
        super().__init__(
            f"A customer may hold at most {limit} units in unpaid orders: {held} are held in "
            f"pending orders and this order asks for {requested} more. Pay for or cancel a "
            "pending order first."
        )
        self.limit = limit
        self.held = held
        self.requested = requested


class IdempotencyKeyReused(OrderError):
    """The idempotency key was used before for an order with other lines."""

    code = "idempotency_key_reused"


class InvalidTransition(OrderError):
    code = "invalid_transition"
    status = 409

    def __init__(self, from_status: str, to_status: str, message: str | None = None) -> None:
        super().__init__(message or f"An order cannot move from {from_status!r} to {to_status!r}.")
        self.from_status = from_status
        self.to_status = to_status


class TransitionNotPermitted(OrderError):
    """The actor may not make this move (customers may only pay for or cancel their own)."""

    code = "transition_not_permitted"
    status = 403


class OrderNotFound(OrderError):
    code = "order_not_found"
    status = 404
