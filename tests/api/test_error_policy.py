"""One error policy: each domain error carries its status and code, every style answers with
them, and docs/api-contract.md's table says the same."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import RequestFactory

from api.drf.errors import exception_handler
from api.ninja.api import order_error
from orders import exceptions
from orders.exceptions import OrderError

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "api-contract.md"


def domain_errors() -> list[type[OrderError]]:
    """Every subclass of OrderError, however deep."""
    found: list[type[OrderError]] = []
    pending = list(OrderError.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: cls.__name__)


def instance(cls: type[OrderError]) -> OrderError:
    arguments: dict[type[OrderError], tuple[Any, ...]] = {
        exceptions.ProductUnavailable: ([7],),
        exceptions.InsufficientStock: ("SKU-1", 2, 1),
        exceptions.InvalidTransition: ("pending", "shipped"),
        exceptions.UnpaidUnitsLimit: (200, 150, 51),
    }
    return cls(*arguments.get(cls, ("No.",)))


def documented_table() -> dict[str, tuple[int, str]]:
    """The "domain error | status | code" rows of the contract's Errors section."""
    rows = re.findall(r"^\| `(\w+)` \| (\d{3}) \| `(\w+)` \|$", CONTRACT.read_text(), re.MULTILINE)
    return {name: (int(status), code) for name, status, code in rows}


class TestTheStatusTable:
    def test_the_contract_documents_every_domain_error_with_its_status_and_code(self):
        in_code = {cls.__name__: (cls.status, cls.code) for cls in domain_errors()}
        assert documented_table() == in_code

    def test_every_status_is_a_client_error(self):
        classes: list[type[OrderError]] = [OrderError, *domain_errors()]
        assert all(400 <= cls.status < 500 for cls in classes)


@pytest.mark.parametrize("cls", domain_errors(), ids=lambda cls: cls.__name__)
class TestEveryStyleAnswersWithTheErrorsOwnStatus:
    def test_drf(self, cls):
        error = instance(cls)
        response = exception_handler(error, {})
        assert response is not None
        assert response.status_code == cls.status
        assert response.data == {"code": cls.code, "detail": error.message}

    def test_ninja(self, cls):
        error = instance(cls)
        response = order_error(RequestFactory().get("/api/ninja/orders"), error)
        assert response.status_code == cls.status
        assert json.loads(response.content) == {"code": cls.code, "detail": error.message}
