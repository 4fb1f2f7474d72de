"""The tuned DRF tier's RowSerializer: DRF's answer for dict rows, and a tripwire on DRF.

`api.drf.users.RowSerializer` re-implements `Serializer.to_representation` for dict rows. If
DRF changes that method or the attribute lookup it relies on, the fingerprints below fail:
re-read them (rest_framework/serializers.py, rest_framework/fields.py) and update the
digests once RowSerializer agrees again.
"""

import hashlib
import inspect
from decimal import Decimal

import pytest
from rest_framework import fields, serializers

from api.drf.users import USER_ORDERS_ROWS, UserOrdersRowsSerializer, UserOrdersSerializer
from orders.factories import OrderFactory, ProductFactory
from orders.selectors import orders_of_customer, user_orders_values

# sha256 (first 16 hex digits) of the source RowSerializer mirrors, as reviewed (DRF 3.18).
REVIEWED = {
    "Serializer.to_representation": "f2d1de6d682c8395",
    "Field.get_attribute": "d6478027a6aad668",
    "get_attribute": "317c25d7087ede4d",
}


@pytest.mark.parametrize(
    "function",
    [serializers.Serializer.to_representation, fields.Field.get_attribute, fields.get_attribute],
    ids=lambda function: function.__qualname__,
)
def test_drfs_code_is_the_reviewed_version(function):
    digest = hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]
    assert digest == REVIEWED[function.__qualname__], (
        f"DRF changed {function.__qualname__}: re-read it against api.drf.users.RowSerializer"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("age", [41, None])
def test_rows_serialize_as_drfs_model_serializers_do(customer, age):
    customer.age = age
    customer.save()
    pen = ProductFactory.create(price=Decimal("1.50"))
    ink = ProductFactory.create(price=Decimal("12.00"))
    OrderFactory.create(customer=customer, lines=[(pen, 2), (ink, 1)], status="paid")
    OrderFactory.create(customer=customer, lines=[(ink, 3)])

    idiomatic = UserOrdersSerializer(
        {"user": customer, "orders": orders_of_customer(customer_id=customer.pk)}
    ).data
    rows = user_orders_values(viewer=customer, user_id=customer.pk)

    assert USER_ORDERS_ROWS.to_representation(rows) == idiomatic
    # A fresh serializer answers the same: nothing is kept between calls.
    assert UserOrdersRowsSerializer().to_representation(rows) == idiomatic
    assert USER_ORDERS_ROWS.to_representation(rows)["user"]["age"] == age
