"""The only code that writes orders, stock and events. Interfaces call these and stay thin."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from users.models import User

from . import contract
from .events import order_event_record
from .exceptions import (
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidOrder,
    InvalidTransition,
    OrderNotFound,
    ProductUnavailable,
    TransitionNotPermitted,
    UnpaidUnitsLimit,
)
from .models import Order, OrderEvent, OrderLine, Product, ProductEvent

# The largest quantity the database column holds (PostgreSQL integer).
MAX_LINE_QUANTITY = 2_147_483_647
# The largest primary key (PostgreSQL bigint); a larger id can name no product.
MAX_ID = 2**63 - 1
MAX_ORDER_LINES = 100
# Order.total is numeric(12, 2).
MAX_TOTAL = Decimal("9999999999.99")
MAX_IDEMPOTENCY_KEY_LENGTH = 255
PURGE_BATCH = 1000
CENT = Decimal("0.01")

# Moves a customer may make on their own order; the rest are staff's (or the system's).
CUSTOMER_TRANSITIONS = frozenset({Order.Status.PAID, Order.Status.CANCELLED})


@dataclass(frozen=True, slots=True)
class LineItem:
    """One requested line: which product and how many."""

    product_id: int
    quantity: int


def _normalise_lines(lines: Iterable[LineItem]) -> list[LineItem]:
    """Validate, merge repeated products, and sort by product id (the lock order)."""
    merged: dict[int, int] = {}
    for line in lines:
        for name, value in (("product_id", line.product_id), ("quantity", line.quantity)):
            if type(value) is not int:
                raise InvalidOrder(f"{name} must be an integer, not {value!r}.")
        if not 1 <= line.product_id <= MAX_ID:
            raise InvalidOrder(f"product_id must be between 1 and {MAX_ID}.")
        if not 1 <= line.quantity <= MAX_LINE_QUANTITY:
            raise InvalidOrder(f"quantity must be between 1 and {MAX_LINE_QUANTITY}.")
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    if not merged:
        raise InvalidOrder("An order needs at least one line.")
    if len(merged) > MAX_ORDER_LINES:
        raise InvalidOrder(f"An order has at most {MAX_ORDER_LINES} lines.")
    if any(quantity > MAX_LINE_QUANTITY for quantity in merged.values()):
        raise InvalidOrder(f"quantity must be between 1 and {MAX_LINE_QUANTITY}.")
    return [LineItem(product_id=pid, quantity=merged[pid]) for pid in sorted(merged)]


def _fingerprint(lines: list[LineItem]) -> str:
    payload = json.dumps([[line.product_id, line.quantity] for line in lines])
    return hashlib.sha256(payload.encode()).hexdigest()


def idempotency_cutoff(*, now: datetime | None = None) -> datetime:
    """Keys of orders created before this have expired (settings.IDEMPOTENCY_KEY_TTL seconds)."""
    return (now or timezone.now()) - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)


def _replay(*, customer: User, idempotency_key: str, fingerprint: str) -> Order | None:
    """The order first placed with this key, if the key has not expired.

    Raises:
        IdempotencyKeyReused: the key was used for other lines.
    """
    first = Order.objects.filter(
        customer=customer, idempotency_key=idempotency_key, created_at__gte=idempotency_cutoff()
    ).first()
    if first is not None and first.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for an order with different lines."
        )
    return first


def _snapshot(order: Order, lines: list[OrderLine], by_id: dict[int, Product]) -> str:
    """The order as the contract writes it (`orders.contract`), from memory: what a retry with
    the same idempotency key gets back, in every style."""
    document = contract.order_document(
        order,
        (
            contract.line_document(
                product_id=line.product_id,
                sku=by_id[line.product_id].sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for line in lines
        ),
    )
    return json.dumps(document)


def order_response_body(order: Order) -> dict[str, Any] | None:
    """The body of the first answer to the request that placed `order` with an idempotency key.

    None for an order placed without a key (or whose key was purged): render it as it is now.
    """
    if not order.idempotency_response:
        return None
    body: dict[str, Any] = json.loads(order.idempotency_response)
    return body


def order_place(
    *, customer: User, lines: Iterable[LineItem], idempotency_key: str | None = None
) -> Order:
    """Place an order in one transaction: lock the products, take the stock, write it all.

    Repeated products are merged into one line. With an idempotency key, placing the same lines
    again within settings.IDEMPOTENCY_KEY_TTL returns the first order, whose
    `order_response_body` is the first answer to replay; an expired key places a new order.

    Raises:
        InvalidOrder: no lines or more than MAX_ORDER_LINES, a quantity outside
            1..MAX_LINE_QUANTITY, a total over MAX_TOTAL, a key too long.
        ProductUnavailable: a product that does not exist or is inactive.
        UnpaidUnitsLimit: the customer would hold more than ORDER_MAX_UNPAID_UNITS units in
            unpaid orders.
        InsufficientStock: a product has fewer units left than asked for; nothing is written.
        IdempotencyKeyReused: the key was used before by this customer for other lines.
    """
    items = _normalise_lines(lines)
    fingerprint = _fingerprint(items)
    if idempotency_key is not None:
        if not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
            raise InvalidOrder(
                f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters."
            )
        first = _replay(customer=customer, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if first is not None:
            return first
    try:
        return _order_create(
            customer=customer,
            items=items,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
    except IntegrityError:
        # A concurrent request with the same key committed first (one naming other products
        # does not wait for our locks): replay its order, or refuse the reuse.
        if idempotency_key is None:
            raise
        first = _replay(customer=customer, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if first is None:
            raise
        return first


@transaction.atomic
def _order_create(
    *, customer: User, items: list[LineItem], idempotency_key: str | None, fingerprint: str
) -> Order:
    # Lock in primary-key order so that two orders naming the same products never deadlock.
    products = list(
        Product.objects.select_for_update()
        .filter(pk__in=[item.product_id for item in items], is_active=True)
        .order_by("pk")
    )
    if idempotency_key is not None:
        # A request with the same key and lines held these locks before us and has committed:
        # replay it (checked under the locks, so it cannot be refused for the stock it took).
        first = _replay(customer=customer, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if first is not None:
            return first
        # An expired key no longer replays: it moves to the new order.
        _expired_keys(customer=customer, idempotency_key=idempotency_key).update(**NO_KEY)
    by_id = {product.pk: product for product in products}
    missing = [item.product_id for item in items if item.product_id not in by_id]
    if missing:
        raise ProductUnavailable(missing)
    _check_unpaid_units(customer, sum(item.quantity for item in items))

    for item in items:
        product = by_id[item.product_id]
        if product.stock < item.quantity:
            raise InsufficientStock(product.sku, item.quantity, product.stock)
    for item in items:
        by_id[item.product_id].stock -= item.quantity
    Product.objects.bulk_update(products, ["stock", "updated_at"])

    total = sum((by_id[item.product_id].price * item.quantity for item in items), Decimal(0))
    if total > MAX_TOTAL:
        raise InvalidOrder(f"An order's total may not exceed {MAX_TOTAL}.")
    order = Order.objects.create(
        customer=customer,
        total=total.quantize(CENT),
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    # Created in product-id order, so in line-id order too.
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product_id=item.product_id,
            quantity=item.quantity,
            unit_price=by_id[item.product_id].price,
        )
        for item in items
    )
    if idempotency_key is not None:
        # The first answer, kept with the key: a replay returns it even once the order changed.
        order.idempotency_response = _snapshot(order, lines, by_id)
        Order.objects.filter(pk=order.pk).update(idempotency_response=order.idempotency_response)
    order_event_record(
        order=order, kind=OrderEvent.Kind.CREATED, to_status=order.status, actor=customer
    )
    return order


def _check_unpaid_units(customer: User, requested: int) -> None:
    """Refuse an order that would take the customer past settings.ORDER_MAX_UNPAID_UNITS.

    The customer's row is locked first, so two orders of one customer placed at once are
    counted one after the other (on SQLite a write transaction is already alone).
    """
    limit = settings.ORDER_MAX_UNPAID_UNITS
    User.objects.select_for_update().filter(pk=customer.pk).values_list("pk").first()
    held = (
        OrderLine.objects.filter(
            order__customer=customer, order__status=Order.Status.PENDING
        ).aggregate(units=Sum("quantity"))["units"]
        or 0
    )
    if held + requested > limit:
        raise UnpaidUnitsLimit(limit, held, requested)


# What an order keeps of a forgotten key: nothing.
NO_KEY: dict[str, Any] = {
    "idempotency_key": None,
    "request_fingerprint": "",
    "idempotency_response": "",
}


def _expired_keys(
    *, now: datetime | None = None, customer: User | None = None, idempotency_key: str | None = None
) -> QuerySet[Order]:
    orders = Order.objects.filter(
        idempotency_key__isnull=False, created_at__lt=idempotency_cutoff(now=now)
    )
    if customer is not None:
        orders = orders.filter(customer=customer)
    if idempotency_key is not None:
        orders = orders.filter(idempotency_key=idempotency_key)
    return orders


@dataclass(frozen=True, slots=True)
class ExpiredKey:
    order_id: int
    customer_email: str
    idempotency_key: str
    created_at: datetime


def idempotency_keys_purge(
    *, dry_run: bool = False, now: datetime | None = None
) -> list[ExpiredKey]:
    """Forget the idempotency keys older than settings.IDEMPOTENCY_KEY_TTL; the orders stay.

    Expired keys no longer replay anyway; this clears them (and their stored answers) from the
    orders. Returns the keys cleared, or with `dry_run` the keys that would be.
    """
    cutoff_now = now or timezone.now()
    expired = [
        ExpiredKey(order_id=pk, customer_email=email, idempotency_key=str(key), created_at=created)
        for pk, email, key, created in _expired_keys(now=cutoff_now)
        .order_by("pk")
        .values_list("pk", "customer__email", "idempotency_key", "created_at")
    ]
    if not dry_run:
        for start in range(0, len(expired), PURGE_BATCH):
            batch = [key.order_id for key in expired[start : start + PURGE_BATCH]]
            # Filtered again: a new order may have taken (and so cleared) a key meanwhile.
            _expired_keys(now=cutoff_now).filter(pk__in=batch).update(**NO_KEY)
    return expired


def transitions_for(*, order: Order, actor: User) -> list[str]:
    """The moves `actor` may make on `order` now (what `order_transition` would accept)."""
    allowed = Order.TRANSITIONS[order.status]
    if not actor.is_staff:
        if order.customer_id != actor.pk:
            return []
        allowed = allowed & CUSTOMER_TRANSITIONS
    return [status for status in Order.Status.values if status in allowed]


def order_transition(
    *, order: Order, to_status: str, actor: User | None, expected_status: str | None = None
) -> Order:
    """Move an order along the status machine and record who did it.

    `actor=None` is the system (a command). Staff may make any allowed move; a customer may pay
    for or cancel their own order. Cancelling returns the stock. `order` is updated in place.
    With `expected_status`, the move happens only if the order is still in that status under
    the row lock (a job cancelling unpaid orders must not cancel one paid a moment ago).

    Raises:
        OrderNotFound: the actor is a customer and the order is not theirs.
        TransitionNotPermitted: a customer asked for a move reserved for staff.
        InvalidTransition: the status machine forbids the move, the status is unknown, or the
            order is no longer in `expected_status`; nothing is changed.
    """
    if actor is not None and not actor.is_staff:
        if order.customer_id != actor.pk:
            raise OrderNotFound(f"Order {order.pk} not found.")
        if to_status not in CUSTOMER_TRANSITIONS:
            raise TransitionNotPermitted(f"Only staff may mark an order {to_status!r}.")

    with transaction.atomic():
        # Lock the order first, then its products in primary-key order (as order_place does).
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if expected_status is not None and locked.status != expected_status:
            raise InvalidTransition(
                locked.status,
                to_status,
                f"The order is {locked.status} now, no longer {expected_status}.",
            )
        if not locked.can_transition_to(to_status):
            raise InvalidTransition(locked.status, to_status)
        from_status = locked.status

        if to_status == Order.Status.CANCELLED:
            lines = list(locked.lines.order_by("product_id"))
            list(
                Product.objects.select_for_update()
                .filter(pk__in=[line.product_id for line in lines])
                .order_by("pk")
            )
            for line in lines:
                Product.objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)

        locked.status = to_status
        locked.save(update_fields=["status", "updated_at"])
        order_event_record(
            order=locked,
            kind=OrderEvent.Kind.STATUS_CHANGED,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
        )
    order.status = locked.status
    order.updated_at = locked.updated_at
    return order


PRODUCT_FIELDS = frozenset({"sku", "name", "price", "stock", "is_active"})


def product_create(
    *,
    sku: str,
    name: str,
    price: Decimal,
    stock: int,
    is_active: bool = True,
    actor: User | None = None,
) -> Product:
    """Add a product to the catalogue (staff), with a `created` entry in its history.

    Raises:
        django.core.exceptions.ValidationError: a message dict naming each bad field
            (a taken SKU, a negative price or stock, too long a name).
    """
    fields = {"sku": sku, "name": name, "price": price, "stock": stock, "is_active": is_active}
    return _product_save(Product(), fields, actor=actor)


def product_update(*, product: Product, actor: User | None = None, **changes: object) -> Product:
    """Change some of a product's fields (staff): any of sku, name, price, stock, is_active.

    Every API style and the admin change products here: validated, `updated_at` moved, and a
    `changed` entry in the product's history naming the actor and each field's before and
    after (none when nothing changed).

    Raises:
        django.core.exceptions.ValidationError: as product_create.
    """
    unknown = set(changes) - PRODUCT_FIELDS
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    return _product_save(product, changes, actor=actor)


def _as_recorded(value: object) -> object:
    return contract.money(value) if isinstance(value, Decimal) else value


def _product_save(product: Product, fields: dict[str, object], *, actor: User | None) -> Product:
    creating = product.pk is None
    before = {name: getattr(product, name) for name in fields}
    for name, value in fields.items():
        setattr(product, name, value)
    product.full_clean()
    changes = {
        name: [
            None if creating else _as_recorded(before[name]),
            _as_recorded(getattr(product, name)),
        ]
        for name in fields
        if creating or before[name] != getattr(product, name)
    }
    try:
        with transaction.atomic():
            product.save()
            if changes:
                ProductEvent.objects.create(
                    product=product,
                    kind=ProductEvent.Kind.CREATED if creating else ProductEvent.Kind.CHANGED,
                    changes=changes,
                    actor=actor,
                )
    except IntegrityError:
        # Another request took the SKU between full_clean's check and the insert.
        raise ValidationError({"sku": ["Product with this SKU already exists."]}) from None
    return product
