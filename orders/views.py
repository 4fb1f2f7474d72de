"""Server-rendered pages: the landing page, the API styles side by side, and the order pages.

The order pages work without JavaScript; orders/static/orders/live.js adds the live updates
(docs/live-updates.md).
"""

import inspect
import json
import textwrap
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.module_loading import import_string
from django.views.decorators.http import require_safe

from users.models import User

from .exceptions import OrderNotFound
from .selectors import order_get, order_history, order_list, orders_of_customer

# The request every style is shown refusing: the article's example of bad input.
BAD_SIGNUP = {
    "email": "ada@example.com",
    "name": "Ada",
    "age": "twenty",
    "password": "correct horse battery",
}


@dataclass(frozen=True)
class ApiStyle:
    """One API style of the contract, as the comparison page shows it."""

    key: str
    title: str
    prefix: str
    summary: str
    # Dotted path to the handler of the article's endpoint, GET users/{id}/orders.
    handler: str
    docs: list[tuple[str, str]] = field(default_factory=list)
    # What POST users/ answers to BAD_SIGNUP (tests/pages check it against the real answer).
    error_status: int = 400
    error_body: Any = None

    @property
    def endpoint(self) -> str:
        return f"{self.prefix}users/{{id}}/orders"


API_STYLES = [
    ApiStyle(
        key="drf",
        title="Django REST Framework",
        prefix="/api/drf/",
        summary="Viewsets, serializers and a router; browsable API; OpenAPI by drf-spectacular.",
        handler="users.api.drf.UserViewSet.orders",
        docs=[("Browsable API", "/api/drf/"), ("Swagger UI", "/api/drf/docs/")],
        error_body={"age": ["A valid integer is required."]},
    ),
    ApiStyle(
        key="ninja",
        title="django-ninja",
        prefix="/api/ninja/",
        summary="async def operations with Pydantic schemas: FastAPI-style typing in Django.",
        handler="users.api.ninja.user_orders",
        docs=[("OpenAPI docs", "/api/ninja/docs")],
        error_status=422,
        error_body={
            "detail": [
                {
                    "type": "int_type",
                    "loc": ["body", "age"],
                    "msg": "Input should be a valid integer",
                }
            ]
        },
    ),
    ApiStyle(
        key="plain-async",
        title="Plain Django, async",
        prefix="/api/plain/async/",
        summary="An async def view on the async ORM, validating request.body by hand.",
        handler="users.api.plain.user_orders_async",
        error_body={"errors": {"age": ["Must be an integer."]}},
    ),
    ApiStyle(
        key="plain-sync",
        title="Plain Django, sync",
        prefix="/api/plain/sync/",
        summary="Its Flask-style sync twin: the same hand validation, a thread per request.",
        handler="users.api.plain.user_orders_sync",
        error_body={"errors": {"age": ["Must be an integer."]}},
    ),
]


@cache
def _excerpt(dotted: str) -> tuple[str, str]:
    """The handler's source and where it lives (`users/api/drf.py:111`)."""
    module_path, _, attribute = dotted.rpartition(".")
    try:
        target = getattr(import_string(module_path), attribute)
    except ImportError:  # a method: import the class, then take the attribute
        class_path, _, method = module_path.rpartition(".")
        target = getattr(getattr(import_string(class_path), method), attribute)
    target = inspect.unwrap(target)
    lines, first = inspect.getsourcelines(target)
    path = Path(inspect.getsourcefile(target) or "").relative_to(settings.BASE_DIR)
    return textwrap.dedent("".join(lines)), f"{path}:{first}"


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"api_styles": API_STYLES})


@require_safe
def compare(request: HttpRequest) -> HttpResponse:
    styles = []
    for style in API_STYLES:
        source, location = _excerpt(style.handler)
        styles.append(
            {
                "style": style,
                "source": source,
                "location": location,
                "error": json.dumps(style.error_body, indent=2),
            }
        )
    return render(
        request,
        "compare.html",
        {"styles": styles, "bad_signup": json.dumps(BAD_SIGNUP, ensure_ascii=False)},
    )


# --- Order pages ------------------------------------------------------------------------------

ORDERS_PER_PAGE = 50
BOARD_SIZE = 50


@require_safe
@login_required
def order_list_page(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own orders, newest first (staff watch everyone's on the board)."""
    orders = orders_of_customer(customer_id=cast(User, request.user).pk)
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "orders/list.html", {"page": page, "orders": page.object_list})


@require_safe
@login_required
def order_detail_page(request: HttpRequest, order_id: int) -> HttpResponse:
    """One order with its lines and history: the owner's, or any for staff; others get 404."""
    try:
        order = order_get(user=request.user, order_id=order_id)
    except OrderNotFound:
        raise Http404("No such order.") from None
    return render(
        request, "orders/detail.html", {"order": order, "history": order_history(order=order)}
    )


@require_safe
@login_required
def order_board_page(request: HttpRequest) -> HttpResponse:
    """Staff only: the most recent orders of every customer, kept live by live.js."""
    # A 403, not a redirect to the login page, which sends a signed-in person straight back.
    if not request.user.is_staff:
        raise PermissionDenied
    orders = order_list().select_related("customer")[:BOARD_SIZE]
    return render(request, "orders/board.html", {"orders": orders, "board_size": BOARD_SIZE})
