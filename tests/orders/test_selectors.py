from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.contrib.auth.models import AnonymousUser

from orders.exceptions import OrderNotFound
from orders.factories import OrderFactory, UserFactory
from orders.models import Order
from orders.selectors import order_get, order_list, orders_for_user, orders_of_customer

pytestmark = pytest.mark.django_db


def read_all(orders) -> list[tuple[int, list[tuple[str, int]]]]:
    """Touch every order and each of its lines, as an API would when rendering them."""
    return [
        (order.pk, [(line.product.sku, line.quantity) for line in order.lines.all()])
        for order in orders
    ]


class TestOrdersOfCustomer:
    @pytest.mark.parametrize("count", [1, 50])
    def test_reads_orders_and_lines_in_two_queries_however_many(
        self, customer, count, django_assert_num_queries
    ):
        OrderFactory.create_batch(count, customer=customer)
        OrderFactory.create()  # someone else's

        with django_assert_num_queries(2):
            result = read_all(orders_of_customer(customer_id=customer.pk))

        assert len(result) == count

    def test_lists_newest_first(self, customer):
        now = datetime.now(UTC)
        old = OrderFactory.create(customer=customer, created_at=now - timedelta(days=2))
        new = OrderFactory.create(customer=customer, created_at=now - timedelta(hours=1))

        assert list(orders_of_customer(customer_id=customer.pk)) == [new, old]


class TestOrdersForUser:
    def test_a_customer_sees_only_their_own(self, customer, other_customer):
        mine = OrderFactory.create(customer=customer)
        OrderFactory.create(customer=other_customer)
        assert list(orders_for_user(user=customer)) == [mine]

    def test_staff_see_every_order(self, staff, customer, other_customer):
        OrderFactory.create(customer=customer)
        OrderFactory.create(customer=other_customer)
        assert orders_for_user(user=staff).count() == 2

    def test_anonymous_and_inactive_users_see_none(self, customer):
        OrderFactory.create(customer=customer)
        inactive = UserFactory.create(is_active=False)
        assert not orders_for_user(user=AnonymousUser()).exists()
        assert not orders_for_user(user=inactive).exists()

    def test_filters_by_status_and_creation_window(self, customer):
        now = datetime.now(UTC)
        paid = OrderFactory.create(customer=customer, status=Order.Status.PAID)
        OrderFactory.create(customer=customer)
        old = OrderFactory.create(customer=customer, created_at=now - timedelta(days=10))

        assert list(orders_for_user(user=customer, status=Order.Status.PAID)) == [paid]
        window = orders_for_user(user=customer, created_to=now - timedelta(days=1))
        assert list(window) == [old]
        assert old not in orders_for_user(user=customer, created_from=now - timedelta(days=1))

    @pytest.mark.parametrize(
        ("bound", "side", "expected"),
        [
            # +17:51 is a legal offset in Python and ISO 8601, but not in PostgreSQL.
            (
                datetime(384, 3, 26, 14, 57, tzinfo=timezone(timedelta(hours=17, minutes=51))),
                "to",
                0,
            ),
            (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))), "to", 0),
            (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))), "from", 1),
            (datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), "from", 0),
            (datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), "to", 1),
            (datetime(2000, 1, 1), "from", 1),  # noqa: DTZ001 (naive: taken as UTC)
        ],
    )
    def test_any_offset_a_client_can_write_is_a_valid_bound(self, customer, bound, side, expected):
        OrderFactory.create(customer=customer)
        window = {"created_from" if side == "from" else "created_to": bound}
        assert orders_for_user(user=customer, **window).count() == expected

    @pytest.mark.parametrize("count", [1, 30])
    def test_staff_list_reads_in_two_queries(self, staff, count, django_assert_num_queries):
        OrderFactory.create_batch(count)
        with django_assert_num_queries(2):
            assert len(read_all(order_list())) == count


class TestOrderGet:
    def test_returns_an_order_the_user_may_see(self, customer, staff):
        order = OrderFactory.create(customer=customer)
        assert order_get(user=customer, order_id=order.pk) == order
        assert order_get(user=staff, order_id=order.pk) == order

    def test_someone_elses_order_and_a_missing_one_look_the_same(self, customer, other_customer):
        theirs = OrderFactory.create(customer=other_customer)
        with pytest.raises(OrderNotFound):
            order_get(user=customer, order_id=theirs.pk)
        with pytest.raises(OrderNotFound):
            order_get(user=customer, order_id=theirs.pk + 1000)
