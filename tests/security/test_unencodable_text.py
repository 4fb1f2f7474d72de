"""A lone UTF-16 surrogate ("\\ud800") is JSON that no database, hasher or encoder can take.

Every style refuses it as invalid input naming the field (400, or 422 in ninja), writes
nothing, and never answers 500 (issue 14, finding 5).
"""

import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from orders.factories import DEFAULT_PASSWORD, OrderFactory
from orders.services import product_create
from tests.api.conftest import ALL_STYLES, FULL_STYLES, Api
from users.models import Token, User
from users.services import token_issue

from ..api.test_contract import snapshot

pytestmark = pytest.mark.django_db

SURROGATE = "\ud800"


def post_raw(api: Api, path: str, body: dict[str, object], user: User | None = None) -> Any:
    # json.dumps writes the surrogate as the escape "\ud800", as a hostile client would.
    return api.post(path, raw=json.dumps(body), user=user)


def sign_up(**changes: object) -> dict[str, object]:
    return {
        "email": "lone@example.com",
        "name": "Lone",
        "age": 30,
        "password": "a-long-enough-passphrase",
    } | changes


@pytest.mark.parametrize("style", ALL_STYLES)
@pytest.mark.parametrize("field", ["name", "password", "email"])
def test_sign_up_refuses_it_by_name(client, style, field):
    api = Api(style, client)
    before = snapshot()
    response = post_raw(api, "users/", sign_up(**{field: f"x{SURROGATE}y"}))
    assert response.status_code == api.validation_status, response.content[:300]
    assert field in api.error_fields(response)
    assert snapshot() == before


@pytest.mark.parametrize("style", ALL_STYLES)
@pytest.mark.parametrize("field", ["email", "password", "client"])
def test_auth_token_refuses_it_by_name(client, customer, style, field):
    api = Api(style, client)
    body = {"email": customer.email, "password": DEFAULT_PASSWORD} | {field: f"a{SURROGATE}"}
    response = post_raw(api, "auth/token", body)
    assert response.status_code == api.validation_status, response.content[:300]
    assert field in api.error_fields(response)
    assert not Token.objects.exists()


@pytest.mark.parametrize("style", FULL_STYLES)
@pytest.mark.parametrize("field", ["sku", "name"])
def test_a_product_refuses_it_by_name(client, staff, style, field):
    api = Api(style, client)
    before = snapshot()
    body = {"sku": "LONE-1", "name": "Lone", "price": "1.00", "stock": 1} | {field: SURROGATE}
    response = post_raw(api, "products/", body, user=staff)
    assert response.status_code == api.validation_status, response.content[:300]
    assert field in api.error_fields(response)
    assert snapshot() == before


@pytest.mark.parametrize("style", FULL_STYLES)
def test_a_transition_refuses_it_by_name(client, staff, style):
    api = Api(style, client)
    order = OrderFactory.create()
    response = post_raw(api, f"orders/{order.pk}/transition", {"status": SURROGATE}, user=staff)
    assert response.status_code == api.validation_status, response.content[:300]
    assert "status" in api.error_fields(response)
    order.refresh_from_db()
    assert order.status == "pending"


def test_the_models_refuse_it_too_for_every_other_path(staff):
    """The admin's forms, the services and the commands validate through the models."""
    with pytest.raises(ValidationError) as refusal:
        product_create(sku=f"S{SURROGATE}", name=f"N{SURROGATE}", price=Decimal("1.00"), stock=1)
    assert set(refusal.value.message_dict) == {"sku", "name"}
    with pytest.raises(ValidationError) as refusal:
        token_issue(user=staff, client=f"c{SURROGATE}")
    assert set(refusal.value.message_dict) == {"client"}
    assert not Token.objects.exists()
    staff.name = SURROGATE
    with pytest.raises(ValidationError) as refusal:
        staff.full_clean()
    assert "name" in refusal.value.message_dict
