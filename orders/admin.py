from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest

from runtime.admin_lookups import BoundedLookups
from users.models import User

from .exceptions import OrderError
from .models import Order, OrderEvent, OrderLine, Product, ProductEvent
from .services import PRODUCT_FIELDS, order_transition, product_create, product_update


class StockLevelFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "stock_level"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("out", "Out of stock"),
            ("low", f"Low (1 to {Product.LOW_STOCK})"),
            ("ok", f"More than {Product.LOW_STOCK}"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        match self.value():
            case "out":
                return queryset.filter(stock=0)
            case "low":
                return queryset.filter(stock__gte=1, stock__lte=Product.LOW_STOCK)
            case "ok":
                return queryset.filter(stock__gt=Product.LOW_STOCK)
        return queryset


class ReadOnlyInline[M: Model, P: Model](admin.TabularInline[M, P]):
    """Lines and histories are written by the domain only: shown, never edited."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: P | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: P | None = None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline[OrderLine, Order]):
    model = OrderLine
    fields = ("product", "quantity", "unit_price", "subtotal")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("product")


class OrderEventInline(ReadOnlyInline[OrderEvent, Order]):
    model = OrderEvent
    fields = ("created_at", "kind", "from_status", "to_status", "actor")
    readonly_fields = fields
    ordering = ("created_at", "pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderEvent]:
        return super().get_queryset(request).select_related("actor")


class ProductEventInline(ReadOnlyInline[ProductEvent, Product]):
    """The product's history: who created or changed it, and each field's before and after."""

    model = ProductEvent
    fields = ("created_at", "kind", "changes", "actor")
    readonly_fields = fields
    ordering = ("created_at", "pk")
    verbose_name_plural = "history"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductEvent]:
        return super().get_queryset(request).select_related("actor")


@admin.register(Product)
class ProductAdmin(BoundedLookups[Product]):
    list_display = ("sku", "name", "price", "stock", "is_active", "updated_at")
    list_editable = ("is_active",)
    list_filter = (StockLevelFilter, "is_active")
    search_fields = ("sku", "name")
    ordering = ("sku",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (ProductEventInline,)

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        """Through the product services, as every API style: validated, `updated_at` moved,
        and an entry in the product's history naming the staff member (not a bare save)."""
        actor = request.user if isinstance(request.user, User) else None
        cleaned = {
            name: form.cleaned_data[name] for name in PRODUCT_FIELDS & set(form.cleaned_data)
        }
        if change:
            edited = {name: cleaned[name] for name in form.changed_data if name in cleaned}
            stored = Product.objects.get(pk=obj.pk)  # `obj` already carries the form's values
            saved = product_update(product=stored, actor=actor, **edited)
        else:
            saved = product_create(**cleaned, actor=actor)
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at


def _transition_action(to_status: str, label: str) -> Callable[..., None]:
    """An admin action that moves each selected order through `order_transition`."""

    def action(modeladmin: "OrderAdmin", request: HttpRequest, queryset: QuerySet[Order]) -> None:
        done, refused = 0, []
        for order in queryset.order_by("pk"):
            try:
                order_transition(order=order, to_status=to_status, actor=request.user)  # type: ignore[arg-type]
            except OrderError as error:
                refused.append(f"#{order.pk}: {error.message}")
            else:
                done += 1
        if done:
            modeladmin.message_user(
                request, f"{done} order(s) marked {to_status}.", messages.SUCCESS
            )
        if refused:
            modeladmin.message_user(
                request,
                f"{len(refused)} order(s) refused: {'; '.join(refused)}",
                messages.ERROR,
            )

    action.__name__ = f"mark_{to_status}"
    return admin.action(description=label, permissions=["change"])(action)


@admin.register(Order)
class OrderAdmin(BoundedLookups[Order]):
    list_display = ("id", "customer", "status", "total", "line_count", "created_at")
    list_filter = ("status", "created_at")
    list_select_related = ("customer",)
    search_fields = ("=id", "customer__email")
    search_help_text = "Search by order number or customer email."
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    raw_id_fields = ("customer",)
    # Status and total only change through the domain: actions here, the API elsewhere.
    readonly_fields = (
        "customer",
        "status",
        "total",
        "idempotency_key",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    inlines = (OrderLineInline, OrderEventInline)
    actions = (
        _transition_action(Order.Status.PAID, "Mark selected orders paid"),
        _transition_action(Order.Status.SHIPPED, "Mark selected orders shipped"),
        _transition_action(Order.Status.DELIVERED, "Mark selected orders delivered"),
        _transition_action(Order.Status.CANCELLED, "Cancel selected orders (returns stock)"),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return super().get_queryset(request).annotate(_line_count=Count("lines"))

    @admin.display(description="lines", ordering="_line_count")
    def line_count(self, order: Order) -> int:
        return order._line_count  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Orders are placed by customers through the API, where stock is taken.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False
