from datetime import timedelta
from decimal import Decimal
from itertools import product as cartesian

import pytest
from django.db import IntegrityError, transaction

from orders.exceptions import (
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidOrder,
    InvalidTransition,
    OrderNotFound,
    ProductUnavailable,
    TransitionNotPermitted,
)
from orders.factories import ProductFactory
from orders.models import Order, OrderEvent, OrderLine, Product
from orders.services import MAX_LINE_QUANTITY, LineItem, order_place, order_transition

pytestmark = pytest.mark.django_db

Status = Order.Status
ALLOWED = {
    (Status.PENDING, Status.PAID),
    (Status.PENDING, Status.CANCELLED),
    (Status.PAID, Status.SHIPPED),
    (Status.PAID, Status.CANCELLED),
    (Status.SHIPPED, Status.DELIVERED),
}
FORBIDDEN = sorted(set(cartesian(Status.values, Status.values)) - ALLOWED)


def db_snapshot() -> tuple:
    """Everything an order placement or transition may write."""
    return (
        list(Product.objects.order_by("pk").values_list("pk", "stock")),
        list(Order.objects.order_by("pk").values_list("pk", "status", "total")),
        OrderLine.objects.count(),
        OrderEvent.objects.count(),
    )


class TestOrderPlace:
    def test_takes_stock_and_computes_the_total_on_the_server(self, customer):
        pen = ProductFactory.create(price=Decimal("1.25"), stock=10)
        ink = ProductFactory.create(price=Decimal("9.99"), stock=3)

        order = order_place(
            customer=customer,
            lines=[
                LineItem(product_id=pen.pk, quantity=4),
                LineItem(product_id=ink.pk, quantity=3),
            ],
        )

        assert order.status == Status.PENDING
        assert order.total == Decimal("34.97")
        assert order.created_at.utcoffset() == timedelta(0)
        pen.refresh_from_db()
        ink.refresh_from_db()
        assert (pen.stock, ink.stock) == (6, 0)
        lines = {line.product_id: line for line in order.lines.all()}
        assert lines[pen.pk].quantity == 4
        assert lines[pen.pk].unit_price == Decimal("1.25")
        assert lines[ink.pk].unit_price == Decimal("9.99")

    def test_copies_the_unit_price_so_later_price_changes_do_not_alter_it(self, customer, product):
        price = product.price
        order = order_place(customer=customer, lines=[LineItem(product_id=product.pk, quantity=2)])
        Product.objects.filter(pk=product.pk).update(price=price + 100)

        assert order.lines.get().unit_price == price
        order.refresh_from_db()
        assert order.total == price * 2

    def test_records_a_created_event_by_the_customer(self, customer, product):
        order = order_place(customer=customer, lines=[LineItem(product_id=product.pk, quantity=1)])

        event = order.events.get()
        assert (event.kind, event.from_status, event.to_status, event.actor) == (
            OrderEvent.Kind.CREATED,
            "",
            Status.PENDING,
            customer,
        )

    def test_merges_repeated_products_into_one_line(self, customer, product):
        order = order_place(
            customer=customer,
            lines=[
                LineItem(product_id=product.pk, quantity=2),
                LineItem(product_id=product.pk, quantity=3),
            ],
        )

        assert list(order.lines.values_list("product_id", "quantity")) == [(product.pk, 5)]
        product.refresh_from_db()
        assert product.stock == 5

    def test_refuses_more_than_the_stock_and_changes_nothing(self, customer):
        plenty = ProductFactory.create(stock=50)
        scarce = ProductFactory.create(stock=2)
        before = db_snapshot()

        with pytest.raises(InsufficientStock) as refusal:
            order_place(
                customer=customer,
                lines=[
                    LineItem(product_id=plenty.pk, quantity=1),
                    LineItem(product_id=scarce.pk, quantity=3),
                ],
            )

        assert refusal.value.code == "insufficient_stock"
        assert (refusal.value.sku, refusal.value.requested, refusal.value.available) == (
            scarce.sku,
            3,
            2,
        )
        assert db_snapshot() == before

    @pytest.mark.parametrize(
        "lines",
        [
            [],
            [LineItem(product_id=1, quantity=0)],
            [LineItem(product_id=1, quantity=-1)],
            [LineItem(product_id=1, quantity=MAX_LINE_QUANTITY + 1)],
            [LineItem(product_id=1, quantity=2**63)],
            [LineItem(product_id=1, quantity=True)],
            [LineItem(product_id=1, quantity=1.5)],  # type: ignore[arg-type]
            [LineItem(product_id="1", quantity=1)],  # type: ignore[arg-type]
        ],
        ids=["empty", "zero", "negative", "int32-overflow", "int64", "bool", "float", "str-id"],
    )
    def test_refuses_malformed_lines_and_changes_nothing(self, customer, lines):
        ProductFactory.create(pk=1, stock=5)
        before = db_snapshot()

        with pytest.raises(InvalidOrder):
            order_place(customer=customer, lines=lines)

        assert db_snapshot() == before

    def test_refuses_merged_quantities_beyond_the_column_limit(self, customer, product):
        half = MAX_LINE_QUANTITY // 2 + 1
        with pytest.raises(InvalidOrder):
            order_place(
                customer=customer,
                lines=[LineItem(product_id=product.pk, quantity=half)] * 2,
            )

    def test_refuses_unknown_and_inactive_products_and_changes_nothing(self, customer, product):
        retired = ProductFactory.create(is_active=False)
        before = db_snapshot()

        with pytest.raises(ProductUnavailable) as refusal:
            order_place(
                customer=customer,
                lines=[
                    LineItem(product_id=product.pk, quantity=1),
                    LineItem(product_id=retired.pk, quantity=1),
                    LineItem(product_id=999_999, quantity=1),
                ],
            )

        assert refusal.value.product_ids == [retired.pk, 999_999]
        assert db_snapshot() == before


class TestOrderPlaceIdempotency:
    def test_same_key_and_lines_return_the_first_order(self, customer, product):
        lines = [LineItem(product_id=product.pk, quantity=2)]
        first = order_place(customer=customer, lines=lines, idempotency_key="k-1")
        again = order_place(customer=customer, lines=lines, idempotency_key="k-1")

        assert again.pk == first.pk
        assert Order.objects.count() == 1
        product.refresh_from_db()
        assert product.stock == 8

    def test_same_lines_in_another_order_count_as_the_same_request(self, customer):
        a, b = ProductFactory.create(), ProductFactory.create()
        first = order_place(
            customer=customer,
            lines=[LineItem(product_id=a.pk, quantity=1), LineItem(product_id=b.pk, quantity=2)],
            idempotency_key="k",
        )
        again = order_place(
            customer=customer,
            lines=[LineItem(product_id=b.pk, quantity=2), LineItem(product_id=a.pk, quantity=1)],
            idempotency_key="k",
        )
        assert again.pk == first.pk

    def test_same_key_with_other_lines_is_refused_and_changes_nothing(self, customer, product):
        order_place(
            customer=customer,
            lines=[LineItem(product_id=product.pk, quantity=1)],
            idempotency_key="k-1",
        )
        before = db_snapshot()

        with pytest.raises(IdempotencyKeyReused):
            order_place(
                customer=customer,
                lines=[LineItem(product_id=product.pk, quantity=2)],
                idempotency_key="k-1",
            )

        assert db_snapshot() == before

    def test_keys_are_scoped_per_customer(self, customer, other_customer, product):
        lines = [LineItem(product_id=product.pk, quantity=1)]
        mine = order_place(customer=customer, lines=lines, idempotency_key="shared")
        theirs = order_place(customer=other_customer, lines=lines, idempotency_key="shared")

        assert mine.pk != theirs.pk
        assert theirs.customer == other_customer

    def test_without_a_key_every_call_places_a_new_order(self, customer, product):
        lines = [LineItem(product_id=product.pk, quantity=1)]
        order_place(customer=customer, lines=lines)
        order_place(customer=customer, lines=lines)
        assert Order.objects.filter(customer=customer).count() == 2

    @pytest.mark.parametrize("key", ["", "x" * 256])
    def test_refuses_an_empty_or_overlong_key(self, customer, product, key):
        with pytest.raises(InvalidOrder):
            order_place(
                customer=customer,
                lines=[LineItem(product_id=product.pk, quantity=1)],
                idempotency_key=key,
            )
        assert not Order.objects.exists()

    def test_the_database_refuses_a_duplicate_key_for_one_customer(self, make_order, customer):
        order = make_order(customer=customer, idempotency_key="k")
        with pytest.raises(IntegrityError), transaction.atomic():
            Order.objects.create(customer=customer, idempotency_key=order.idempotency_key)


class TestOrderTransition:
    @pytest.mark.parametrize(("from_status", "to_status"), sorted(ALLOWED))
    def test_every_allowed_move_changes_the_status_and_records_an_event(
        self, make_order, staff, from_status, to_status
    ):
        order = make_order(status=from_status)
        events_before = order.events.count()

        order_transition(order=order, to_status=to_status, actor=staff)

        order.refresh_from_db()
        assert order.status == to_status
        assert order.events.count() == events_before + 1
        event = order.events.latest("pk")
        assert (event.kind, event.from_status, event.to_status, event.actor) == (
            OrderEvent.Kind.STATUS_CHANGED,
            from_status,
            to_status,
            staff,
        )

    @pytest.mark.parametrize(("from_status", "to_status"), FORBIDDEN)
    def test_every_forbidden_move_is_refused_and_changes_nothing(
        self, make_order, staff, from_status, to_status
    ):
        order = make_order(status=from_status)
        before = db_snapshot()

        with pytest.raises(InvalidTransition) as refusal:
            order_transition(order=order, to_status=to_status, actor=staff)

        assert refusal.value.code == "invalid_transition"
        assert db_snapshot() == before
        assert order.status == from_status

    def test_an_unknown_status_is_refused(self, make_order, staff):
        order = make_order()
        with pytest.raises(InvalidTransition):
            order_transition(order=order, to_status="lost", actor=staff)

    @pytest.mark.parametrize("from_status", [Status.PENDING, Status.PAID])
    def test_cancelling_returns_the_stock(self, make_order, staff, from_status):
        a = ProductFactory.create(stock=10)
        b = ProductFactory.create(stock=4)
        order = make_order(lines=[(a, 3), (b, 4)], status=from_status)
        a.refresh_from_db()
        b.refresh_from_db()
        assert (a.stock, b.stock) == (7, 0)

        order_transition(order=order, to_status=Status.CANCELLED, actor=staff)

        a.refresh_from_db()
        b.refresh_from_db()
        assert (a.stock, b.stock) == (10, 4)

    def test_the_moves_to_come_after_cancelling_are_refused_so_stock_returns_once(
        self, make_order, staff, product
    ):
        order = make_order(lines=[(product, 2)], status=Status.CANCELLED)
        with pytest.raises(InvalidTransition):
            order_transition(order=order, to_status=Status.CANCELLED, actor=staff)
        product.refresh_from_db()
        assert product.stock == 10

    def test_a_stale_instance_is_checked_against_the_database(self, make_order, staff):
        order = make_order()
        stale = Order.objects.get(pk=order.pk)
        order_transition(order=order, to_status=Status.CANCELLED, actor=staff)

        with pytest.raises(InvalidTransition) as refusal:
            order_transition(order=stale, to_status=Status.PAID, actor=staff)
        assert refusal.value.from_status == Status.CANCELLED

    def test_an_expected_status_that_no_longer_holds_is_refused(self, make_order, product):
        order = make_order(lines=[(product, 2)])
        stale = Order.objects.get(pk=order.pk)
        order_transition(order=order, to_status=Status.PAID, actor=None)
        before = db_snapshot()

        with pytest.raises(InvalidTransition, match="no longer pending"):
            order_transition(
                order=stale,
                to_status=Status.CANCELLED,
                actor=None,
                expected_status=Status.PENDING,
            )

        assert db_snapshot() == before

    def test_the_system_may_make_any_allowed_move(self, make_order):
        order = make_order(status=Status.PAID)
        order_transition(order=order, to_status=Status.SHIPPED, actor=None)
        assert order.events.latest("pk").actor is None


class TestOrderTransitionByCustomers:
    @pytest.mark.parametrize("to_status", [Status.PAID, Status.CANCELLED])
    def test_a_customer_may_pay_for_or_cancel_their_own_order(
        self, make_order, customer, to_status
    ):
        order = make_order(customer=customer)
        order_transition(order=order, to_status=to_status, actor=customer)
        order.refresh_from_db()
        assert order.status == to_status

    def test_a_customer_may_not_ship_their_own_order(self, make_order, customer):
        order = make_order(customer=customer, status=Status.PAID)
        before = db_snapshot()
        with pytest.raises(TransitionNotPermitted):
            order_transition(order=order, to_status=Status.SHIPPED, actor=customer)
        assert db_snapshot() == before

    def test_another_customers_order_looks_missing(self, make_order, customer, other_customer):
        order = make_order(customer=other_customer)
        before = db_snapshot()
        with pytest.raises(OrderNotFound):
            order_transition(order=order, to_status=Status.CANCELLED, actor=customer)
        assert db_snapshot() == before
