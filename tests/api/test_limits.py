"""Input limits are named once and every style applies them: the same request, the same answer.

A value at a limit is accepted everywhere; one past it is refused everywhere with the style's
validation status (400 in DRF and the plain views, 422 in ninja: docs/api-contract.md) and
names the field, or, for the order-line cap, which is the domain's, with the same 422
`invalid_order` in every style.
"""

from decimal import Decimal
from typing import Any

import pytest

from orders.factories import DEFAULT_PASSWORD, ProductFactory
from orders.models import PRODUCT_NAME_MAX_LENGTH, SKU_MAX_LENGTH, Order, Product
from orders.services import MAX_ORDER_LINES
from users.models import CLIENT_NAME_MAX_LENGTH, EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, Token, User

from .conftest import ALL_STYLES, FULL_STYLES, Api

pytestmark = pytest.mark.django_db


def sign_up(**changes: object) -> dict[str, object]:
    return {
        "email": "limits@example.com",
        "name": "Limits",
        "age": 30,
        "password": "a-long-enough-passphrase",
    } | changes


# A valid address of exactly `length` characters: 63-character labels, as RFC 5321 allows.
def address(length: int) -> str:
    local = "a" * 64
    labels: list[str] = []
    rest = length - len(local) - 1 - len(".com")
    while rest > 0:
        size = min(63, rest if rest <= 63 else rest - 2)  # each further label costs a dot
        labels.append("b" * size)
        rest -= size + 1
    return f"{local}@{'.'.join(labels)}.com"


class TestSignUpLimits:
    @pytest.mark.parametrize(
        ("field", "value"),
        [("name", "n" * NAME_MAX_LENGTH), ("email", address(EMAIL_MAX_LENGTH))],
        ids=["name", "email"],
    )
    def test_a_value_at_the_limit_is_accepted_in_every_style(self, every_api, field, value):
        answers = {}
        for style, api in every_api.items():
            User.objects.all().delete()
            response = api.post("users/", sign_up(**{field: value}))
            answers[style] = response.status_code
            assert response.json()[field] == value, (style, response.content)
        assert answers == dict.fromkeys(ALL_STYLES, 201)

    @pytest.mark.parametrize(
        ("field", "value"),
        [("name", "n" * (NAME_MAX_LENGTH + 1)), ("email", address(EMAIL_MAX_LENGTH + 1))],
        ids=["name", "email"],
    )
    def test_one_past_it_is_refused_by_name_in_every_style(self, every_api, field, value):
        for style, api in every_api.items():
            response = api.post("users/", sign_up(**{field: value}))
            assert response.status_code == api.validation_status, (style, response.content)
            assert field in api.error_fields(response), style
        assert not User.objects.exists()


class TestTokenClientNameLimit:
    def test_a_name_at_the_limit_is_accepted_in_every_style(self, every_api, customer):
        for style, api in every_api.items():
            name = style[0] * CLIENT_NAME_MAX_LENGTH
            body = {"email": customer.email, "password": DEFAULT_PASSWORD, "client": name}
            response = api.post("auth/token", body)
            assert response.status_code == 200, (style, response.content)
            assert Token.objects.filter(client=name).exists(), style

    def test_one_past_it_is_refused_by_name_in_every_style(self, every_api, customer):
        name = "n" * (CLIENT_NAME_MAX_LENGTH + 1)
        for style, api in every_api.items():
            body = {"email": customer.email, "password": DEFAULT_PASSWORD, "client": name}
            response = api.post("auth/token", body)
            assert response.status_code == api.validation_status, (style, response.content)
            assert "client" in api.error_fields(response), style
        assert not Token.objects.exists()


class TestProductLimits:
    @pytest.mark.parametrize(
        ("field", "limit"),
        [("sku", SKU_MAX_LENGTH), ("name", PRODUCT_NAME_MAX_LENGTH)],
    )
    def test_the_same_limit_in_every_style(self, every_api, staff, field, limit):
        for style in FULL_STYLES:
            api: Api = every_api[style]
            body = {"sku": f"LIM-{style}", "name": "Limit", "price": "1.00", "stock": 1}
            at_limit = api.post("products/", body | {field: style[0] * limit}, user=staff)
            assert at_limit.status_code == 201, (style, at_limit.content)
            over = api.post("products/", body | {field: "x" * (limit + 1)}, user=staff)
            assert over.status_code == api.validation_status, (style, over.content)
            assert field in api.error_fields(over), style
        assert Product.objects.count() == len(FULL_STYLES)


class TestTheLineCap:
    @pytest.fixture(autouse=True)
    def room_for_every_style(self, settings: Any) -> None:
        # Each style places its own pending order for one customer: the cap on unpaid units
        # (TestTheUnpaidUnitsCap) is not what this class measures.
        settings.ORDER_MAX_UNPAID_UNITS = 10 * MAX_ORDER_LINES * len(FULL_STYLES)

    @pytest.fixture
    def products(self) -> list[Product]:
        return ProductFactory.create_batch(MAX_ORDER_LINES + 1, price=Decimal("1.00"), stock=500)

    def lines(self, products: list[Product]) -> dict[str, object]:
        return {"lines": [{"product_id": product.pk, "quantity": 1} for product in products]}

    def test_the_cap_is_accepted_in_every_style(self, every_api, customer, products):
        for style in FULL_STYLES:
            response = every_api[style].post(
                "orders/", self.lines(products[:MAX_ORDER_LINES]), user=customer
            )
            assert response.status_code == 201, (style, response.content)
            assert len(response.json()["lines"]) == MAX_ORDER_LINES

    def test_one_line_more_is_the_same_domain_refusal_in_every_style(
        self, every_api, customer, products
    ):
        answers = {
            style: every_api[style].post("orders/", self.lines(products), user=customer)
            for style in FULL_STYLES
        }
        assert {style: r.status_code for style, r in answers.items()} == dict.fromkeys(
            FULL_STYLES, 422
        )
        assert {r.json()["code"] for r in answers.values()} == {"invalid_order"}
        assert not Order.objects.exists()

    def test_repeats_of_one_product_count_once(self, every_api, customer, products):
        repeated = {
            "lines": [{"product_id": products[0].pk, "quantity": 1}] * (MAX_ORDER_LINES + 1)
        }
        for style in FULL_STYLES:
            response = every_api[style].post("orders/", repeated, user=customer)
            assert response.status_code == 201, (style, response.content)
            assert response.json()["lines"][0]["quantity"] == MAX_ORDER_LINES + 1


class TestTheUnpaidUnitsCap:
    """A customer holds at most ORDER_MAX_UNPAID_UNITS units in pending orders (finding 3)."""

    LIMIT = 5

    @pytest.fixture(autouse=True)
    def limit(self, settings: Any) -> None:
        settings.ORDER_MAX_UNPAID_UNITS = self.LIMIT

    @pytest.fixture
    def product(self) -> Product:
        return ProductFactory.create(price=Decimal("1.00"), stock=1000)

    def order(self, product: Product, quantity: int) -> dict[str, object]:
        return {"lines": [{"product_id": product.pk, "quantity": quantity}]}

    def test_up_to_the_cap_is_placed_and_one_unit_past_it_refused_in_every_style(
        self, every_api, product
    ):
        for style in FULL_STYLES:
            customer = User.objects.create_user(
                email=f"hoarder-{style}@example.com", name="H", password="x"
            )
            api = every_api[style]
            assert api.post("orders/", self.order(product, 3), user=customer).status_code == 201
            at_cap = api.post("orders/", self.order(product, 2), user=customer)
            assert at_cap.status_code == 201, (style, at_cap.content)

            over = api.post("orders/", self.order(product, 1), user=customer)

            assert over.status_code == 409, (style, over.content)
            assert over.json()["code"] == "unpaid_units_limit"
            assert f"at most {self.LIMIT} units" in over.json()["detail"]
            assert "5 are held" in over.json()["detail"]
            assert Order.objects.filter(customer=customer).count() == 2
        product.refresh_from_db()
        assert product.stock == 1000 - self.LIMIT * len(FULL_STYLES)

    def test_one_order_for_the_whole_catalogue_is_refused_and_takes_nothing(
        self, every_api, customer
    ):
        catalogue = ProductFactory.create_batch(3, stock=100)
        whole = {"lines": [{"product_id": p.pk, "quantity": p.stock} for p in catalogue]}

        for style in FULL_STYLES:
            response = every_api[style].post("orders/", whole, user=customer)
            assert response.status_code == 409, (style, response.content)
            assert response.json()["code"] == "unpaid_units_limit"
        assert not Order.objects.exists()
        assert [p.stock for p in Product.objects.order_by("pk")] == [100, 100, 100]

    def test_paying_or_cancelling_frees_the_units(self, every_api, customer, product):
        api = every_api["drf"]
        first = api.post("orders/", self.order(product, self.LIMIT), user=customer).json()
        assert api.post("orders/", self.order(product, 1), user=customer).status_code == 409

        api.post(f"orders/{first['id']}/transition", {"status": "paid"}, user=customer)

        assert api.post("orders/", self.order(product, self.LIMIT), user=customer).status_code == (
            201
        )
