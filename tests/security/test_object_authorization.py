"""API1 and API5: a customer reaches only their own objects, and no staff-only operation.

Someone else's object answers exactly as one that does not exist (404), so ids cannot be probed;
a staff-only operation answers 403 to a customer. Neither changes anything.
"""

import pytest

from orders.factories import OrderFactory, ProductFactory
from orders.models import Order
from tests.api.test_contract import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(other_customer):
    """Another customer's pending order."""
    return OrderFactory.create(customer=other_customer)


class TestAnotherCustomersObjects:
    def test_their_user_orders_are_not_found_in_every_style(self, reader, customer, theirs):
        response = reader.get(f"users/{theirs.customer_id}/orders", user=customer)

        assert response.status_code == 404
        assert str(theirs.pk) not in response.text

    def test_they_answer_as_an_unknown_user_does(self, reader, customer, theirs):
        answers = set()
        for user_id in (theirs.customer_id, theirs.customer_id + 1000):
            response = reader.get(f"users/{user_id}/orders", user=customer)
            answers.add((response.status_code, response.text.replace(str(user_id), "{id}")))

        assert len(answers) == 1

    def test_their_profile_is_not_found(self, full_api, customer, theirs):
        response = full_api.get(f"users/{theirs.customer_id}", user=customer)

        assert response.status_code == 404
        assert theirs.customer.email not in response.text

    def test_their_order_is_not_found(self, full_api, customer, theirs):
        response = full_api.get(f"orders/{theirs.pk}", user=customer)

        assert response.status_code == 404
        assert "lines" not in response.json()

    @pytest.mark.parametrize("status", ["paid", "cancelled"])
    def test_their_order_cannot_be_moved(self, full_api, customer, theirs, status):
        before = snapshot()

        response = full_api.post(
            f"orders/{theirs.pk}/transition", {"status": status}, user=customer
        )

        assert response.status_code == 404
        assert snapshot() == before

    def test_their_orders_are_not_listed_whatever_the_filters(self, full_api, customer, theirs):
        for params in ({}, {"status": "pending"}, {"ordering": "total"}, {"page_size": 100}):
            body = full_api.get("orders/", user=customer, **params).json()
            assert body["count"] == 0, params

    def test_their_idempotency_key_replays_nothing_of_theirs(self, full_api, customer):
        product = ProductFactory.create(stock=10)
        body = {"lines": [{"product_id": product.pk, "quantity": 1}]}
        key = {"Idempotency-Key": "shared-key-1"}
        first = OrderFactory.create(lines=[(product, 1)], idempotency_key="shared-key-1")

        response = full_api.post("orders/", body, user=customer, headers=key)

        assert response.status_code == 201
        assert response.json()["id"] != first.pk
        assert response.json()["customer_id"] == customer.pk
        assert Order.objects.filter(customer=customer).count() == 1


class TestStaffOnlyOperations:
    def test_a_customer_may_not_create_a_product(self, full_api, customer):
        before = snapshot()

        response = full_api.post(
            "products/", {"sku": "X-1", "name": "X", "price": "1.00", "stock": 1}, user=customer
        )

        assert response.status_code == 403
        assert "detail" in response.json()
        assert snapshot() == before

    @pytest.mark.parametrize(
        "change", [{"price": "0.01"}, {"stock": 100000}, {"is_active": False}, {"sku": "MINE"}]
    )
    def test_a_customer_may_not_change_a_product(self, full_api, customer, product, change):
        before = snapshot()

        response = full_api.patch(f"products/{product.pk}", change, user=customer)

        assert response.status_code == 403
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("start", "target"),
        [("paid", "shipped"), ("shipped", "delivered"), ("paid", "pending")],
    )
    def test_a_customer_may_not_make_a_staff_move_on_their_own_order(
        self, full_api, customer, start, target
    ):
        order = OrderFactory.create(customer=customer, status=start)
        before = snapshot()

        response = full_api.post(f"orders/{order.pk}/transition", {"status": target}, user=customer)

        assert response.status_code == 403
        assert response.json()["code"] == "transition_not_permitted"
        assert snapshot() == before

    def test_staff_may_do_all_of_it(self, full_api, staff, product, theirs):
        changed = full_api.patch(f"products/{product.pk}", {"stock": 3}, user=staff)
        read = full_api.get(f"orders/{theirs.pk}", user=staff)
        paid = full_api.post(f"orders/{theirs.pk}/transition", {"status": "paid"}, user=staff)
        shipped = full_api.post(f"orders/{theirs.pk}/transition", {"status": "shipped"}, user=staff)

        statuses = [r.status_code for r in (changed, read, paid, shipped)]
        assert statuses == [200, 200, 200, 200]
        theirs.refresh_from_db()
        assert theirs.status == "shipped"
