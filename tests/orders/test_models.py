from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from orders.factories import ProductFactory
from orders.models import Order, OrderLine, Product

pytestmark = pytest.mark.django_db


def refused_by_the_database(write) -> bool:
    try:
        with transaction.atomic():
            write()
    except IntegrityError:
        return True
    return False


class TestDatabaseConstraints:
    def test_stock_never_goes_below_zero(self, product):
        assert refused_by_the_database(
            lambda: Product.objects.filter(pk=product.pk).update(stock=-1)
        )

    def test_price_is_never_negative(self, product):
        assert refused_by_the_database(
            lambda: Product.objects.filter(pk=product.pk).update(price=Decimal("-0.01"))
        )

    def test_sku_is_unique(self, product):
        assert refused_by_the_database(lambda: ProductFactory.create(sku=product.sku))

    def test_status_is_limited_to_the_machines_values(self, make_order):
        order = make_order()
        assert refused_by_the_database(
            lambda: Order.objects.filter(pk=order.pk).update(status="lost")
        )

    def test_a_line_quantity_is_positive(self, make_order):
        order = make_order()
        assert refused_by_the_database(
            lambda: OrderLine.objects.filter(order=order).update(quantity=0)
        )

    def test_a_valid_write_is_accepted(self, product):
        assert not refused_by_the_database(
            lambda: Product.objects.filter(pk=product.pk).update(stock=0)
        )


class TestOrder:
    def test_can_transition_to_follows_the_machine(self, make_order):
        order = make_order(status=Order.Status.PAID)
        assert order.can_transition_to(Order.Status.SHIPPED)
        assert not order.can_transition_to(Order.Status.DELIVERED)
        assert not order.can_transition_to("lost")
