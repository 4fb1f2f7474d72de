"""The fast path on the embedded default: SQLite, with the production setting ASYNC_DB="psycopg".

The test settings run the async reads on Django's connection (ASYNC_DB="django"); `./scripts/demo`
runs the production value on SQLite, where there is no async driver and no pool to open.
"""

import pytest
from django.db import connection

from orders.factories import OrderFactory, ProductFactory, UserFactory
from users.services import token_issue

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded default is SQLite"),
    pytest.mark.django_db,
]


def test_answers_from_the_orm_without_opening_a_pool(client, settings) -> None:
    settings.ASYNC_DB = "psycopg"
    customer = UserFactory.create()
    OrderFactory.create(customer=customer, lines=[(ProductFactory.create(stock=5), 2)])
    path = f"/api/fast/users/{customer.pk}/orders"

    response = client.get(path, headers={"Authorization": f"Bearer {token_issue(user=customer)}"})

    assert response.status_code == 200, response.content
    assert [len(order["lines"]) for order in response.json()["orders"]] == [1]
    assert client.get(path).status_code == 401
