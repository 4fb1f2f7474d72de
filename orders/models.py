from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from users.models import visible_owners
from users.validators import UnicodeTextValidator

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from users.models import User


# Money as clients write it: a decimal string that numeric(12, 2) can store, such as "12.50".
PRICE_PATTERN = r"^[0-9]{1,10}(?:\.[0-9]{1,2})?$"
# Input limits every API style applies, from the columns.
SKU_MAX_LENGTH = 64
PRODUCT_NAME_MAX_LENGTH = 200


class Product(models.Model):
    # At or below this many units the admin lists a product as low on stock.
    LOW_STOCK = 5

    sku = models.CharField(
        "SKU", max_length=SKU_MAX_LENGTH, unique=True, validators=[UnicodeTextValidator()]
    )
    name = models.CharField(max_length=PRODUCT_NAME_MAX_LENGTH, validators=[UnicodeTextValidator()])
    price = models.DecimalField(max_digits=12, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_gte_0"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class OrderQuerySet(models.QuerySet["Order"]):
    def visible_to(self, user: "User | AnonymousUser") -> "OrderQuerySet":
        """Staff see every order, a customer their own, anyone else none (`may_see`)."""
        return self.filter(visible_owners(user, "customer_id"))

    def with_lines(self) -> "OrderQuerySet":
        # One extra query for all lines of the page, whatever the number of orders.
        return self.prefetch_related(
            models.Prefetch(
                "lines", queryset=OrderLine.objects.select_related("product").order_by("pk")
            )
        )

    def newest_first(self) -> "OrderQuerySet":
        return self.order_by("-created_at", "-id")


class OrderStatus(models.TextChoices):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Order(models.Model):
    Status = OrderStatus

    # The status machine: every allowed move. Anything not listed is refused.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.PAID, Status.CANCELLED}),
        Status.PAID: frozenset({Status.SHIPPED, Status.CANCELLED}),
        Status.SHIPPED: frozenset({Status.DELIVERED}),
        Status.DELIVERED: frozenset(),
        Status.CANCELLED: frozenset(),
    }

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # SHA-256 of the normalised lines, so a replayed key can be told apart from a reused one.
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")
    # The JSON body of the first answer to a request with an idempotency key, written with the
    # order: a repeat replays it verbatim. Text, not JSON: jsonb would reorder its keys.
    idempotency_response = models.TextField(blank=True, default="", db_default="", editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_gte_0"),
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="order_idempotency_key_unique_per_customer",
            ),
        ]
        indexes = [
            models.Index(
                F("customer"), F("created_at").desc(), F("id").desc(), name="order_customer_recent"
            ),
            models.Index(F("created_at").desc(), F("id").desc(), name="order_recent"),
            models.Index(fields=["status", "created_at"], name="order_status_created"),
        ]

    def __str__(self) -> str:
        return f"Order #{self.pk}"

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="The product's price when ordered."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_gte_0"),
            models.UniqueConstraint(fields=["order", "product"], name="orderline_product_once"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity


class HistoryEntry(models.Model):
    """An entry of an append-only history: who made the change, and when."""

    # Null means the system (a command, a scheduled job or a script), not a person.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True


class OrderEvent(HistoryEntry):
    """One entry in an order's append-only history: its creation or a status change."""

    class Kind(models.TextChoices):
        CREATED = "created"
        STATUS_CHANGED = "status_changed"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    from_status = models.CharField(max_length=16, choices=Order.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Order.Status.choices)

    class Meta:
        indexes = [models.Index(fields=["order", "created_at"], name="orderevent_order_time")]

    def __str__(self) -> str:
        return f"{self.kind} -> {self.to_status}"


class ProductEvent(HistoryEntry):
    """One entry in a product's append-only history: who created or changed it, and what.

    `changes` maps each changed field to `[before, after]` as the contract writes them (money
    as a two-place string); a creation lists every field with `before` null.
    """

    class Kind(models.TextChoices):
        CREATED = "created"
        CHANGED = "changed"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    changes = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["product", "created_at"], name="productevent_product_time")]

    def __str__(self) -> str:
        return f"{self.product_id} {self.kind} at {self.created_at:%Y-%m-%d %H:%M}"
