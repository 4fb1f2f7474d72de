"""ninja's tuned tier builds `UserOrdersOut` unvalidated: it must write what the idiom writes."""

import json
import warnings
from decimal import Decimal

import pytest

from api.ninja.users import UserOrdersOut, user_orders_out
from orders.factories import OrderFactory, ProductFactory
from orders.selectors import orders_of_customer, user_orders_values

pytestmark = pytest.mark.django_db


def test_writes_the_same_json_as_the_validated_schema(customer):
    pen = ProductFactory.create(price=Decimal("1.50"))
    OrderFactory.create(customer=customer, lines=[(pen, 2)], status="paid")
    OrderFactory.create(customer=customer, lines=[(pen, 1)])
    # The idiomatic tier's answer: the schema validating the ORM's instances.
    orders = list(orders_of_customer(customer_id=customer.pk))
    validated = UserOrdersOut.model_validate({"user": customer, "orders": orders})

    document = user_orders_values(viewer=customer, user_id=customer.pk)
    assert document is not None
    built = user_orders_out(document)

    assert built.model_dump_json() == validated.model_dump_json()
    assert len(json.loads(built.model_dump_json())["orders"]) == 2


def test_a_row_of_another_type_than_the_schema_says_is_not_written_silently(customer):
    document = user_orders_values(viewer=customer, user_id=customer.pk)
    assert document is not None
    document["user"]["id"] = str(document["user"]["id"])  # a column the schema says is an int
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="serializer warnings"):
            user_orders_out(document).model_dump_json()
