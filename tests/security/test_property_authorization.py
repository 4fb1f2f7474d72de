"""API3: no property a client may not set is ever written, and none it may not see is shown.

The contract ignores unknown body fields: a server-computed or privileged property sent in a
body (mass assignment) is accepted as noise and never applied.
"""

from decimal import Decimal

import pytest

from orders.factories import ProductFactory
from orders.models import Order, Product
from users.models import User

pytestmark = pytest.mark.django_db

# An id no sequence reaches during the suite: a row with it was given it by the body.
HOSTILE_ID = 2**40
# Properties only the server (or staff, elsewhere) decides, each with a hostile value.
HOSTILE = {
    "total": "0.01",
    "status": "delivered",
    "customer": 1,
    "customer_id": 1,
    "id": HOSTILE_ID,
    "is_staff": True,
}
USER_FIELDS = {"id", "email", "name", "age"}


def sign_up_body(**changes):
    return {
        "email": "mallory@example.com",
        "name": "Mallory",
        "age": 30,
        "password": "a-long-enough-passphrase",
    } | changes


@pytest.fixture
def hostile(other_customer):
    """HOSTILE, naming a customer who exists."""
    return HOSTILE | {"customer": other_customer.pk, "customer_id": other_customer.pk}


class TestMassAssignment:
    @pytest.mark.parametrize("field", HOSTILE)
    def test_placing_an_order_applies_none_of_them(self, full_api, customer, hostile, field):
        product = ProductFactory.create(price=Decimal("2.50"), stock=5)
        body = {"lines": [{"product_id": product.pk, "quantity": 2}], field: hostile[field]}

        response = full_api.post("orders/", body, user=customer)

        assert response.status_code == 201, response.content
        order = Order.objects.get()
        assert (order.customer, order.status, order.total) == (customer, "pending", Decimal("5"))
        assert order.pk != HOSTILE_ID
        assert response.json()["id"] == order.pk
        customer.refresh_from_db()
        assert not customer.is_staff

    def test_a_line_cannot_set_its_own_unit_price(self, full_api, customer):
        product = ProductFactory.create(price=Decimal("9.99"), stock=5)
        line = {"product_id": product.pk, "quantity": 1, "unit_price": "0.01", "sku": "FREE"}

        response = full_api.post("orders/", {"lines": [line]}, user=customer)

        assert response.status_code == 201, response.content
        assert response.json()["total"] == "9.99"
        assert response.json()["lines"][0]["unit_price"] == "9.99"
        assert Order.objects.get().lines.get().unit_price == Decimal("9.99")

    @pytest.mark.parametrize(
        "extra",
        [*({field: value} for field, value in HOSTILE.items()), {"is_superuser": True}],
        ids=lambda extra: next(iter(extra)),
    )
    def test_signing_up_applies_none_of_them(self, api, extra):
        response = api.post("users/", sign_up_body(**extra))

        assert response.status_code == 201, response.content
        user = User.objects.get()
        assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
        assert response.json()["id"] == user.pk != HOSTILE_ID

    @pytest.mark.parametrize("field", HOSTILE)
    def test_changing_a_product_applies_none_of_them(self, full_api, staff, product, field):
        other = ProductFactory.create(stock=1)

        response = full_api.patch(
            f"products/{product.pk}", {"stock": 7, field: HOSTILE[field]}, user=staff
        )

        assert response.status_code == 200, response.content
        assert response.json()["id"] == product.pk
        assert Product.objects.get(pk=product.pk).stock == 7
        assert not Product.objects.filter(pk=HOSTILE_ID).exists()
        assert Product.objects.get(pk=other.pk).stock == 1

    def test_changing_a_product_cannot_move_it_to_another_id(self, full_api, staff, product):
        other = ProductFactory.create()

        response = full_api.patch(f"products/{product.pk}", {"id": other.pk}, user=staff)

        assert response.status_code == 200
        assert Product.objects.filter(pk=product.pk).exists()
        assert Product.objects.get(pk=other.pk).sku == other.sku


class TestDataExposure:
    def test_sign_up_shows_only_the_public_fields(self, api):
        response = api.post("users/", sign_up_body())

        assert set(response.json()) == USER_FIELDS
        assert User.objects.get().password not in response.text
        assert "passphrase" not in response.text

    def test_reading_a_user_shows_only_the_public_fields(self, reader, customer):
        body = reader.get(f"users/{customer.pk}/orders", user=customer).json()

        assert set(body["user"]) == USER_FIELDS

    def test_a_profile_shows_only_the_public_fields(self, full_api, customer):
        response = full_api.get(f"users/{customer.pk}", user=customer)

        assert set(response.json()) == USER_FIELDS
        assert customer.password not in response.text
