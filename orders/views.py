"""Server-rendered pages: the landing page, the API styles side by side, and the order pages.

The order pages work without JavaScript; orders/static/orders/live.js adds the live updates
(docs/live-updates.md).
"""

import ast
import json
import textwrap
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from users.models import User

from .exceptions import OrderError, OrderNotFound
from .forms import CatalogueSearchForm, OrderLineFormSet, PlaceOrderForm, TransitionForm
from .models import Order
from .selectors import (
    order_get,
    order_history,
    order_list,
    orders_of_customer,
    products_for_sale,
)
from .services import order_place, order_transition, transitions_for

# The request every style is shown refusing: the article's example of bad input.
BAD_SIGNUP = {
    "email": "ada@example.com",
    "name": "Ada",
    "age": "twenty",
    "password": "correct horse battery",
}


@dataclass(frozen=True)
class Tier:
    """One way of writing the article's endpoint, as the benchmark measures it."""

    tier: str  # "idiomatic", "tuned" or "raw" (bench.servers.TIERS)
    endpoint: str
    # The handler's file and qualified name, read from the source (`api/drf/users.py:View.get`).
    handler: str
    # Its name in the benchmark's results (bench.servers.IMPLEMENTATIONS).
    bench: str
    summary: str


@dataclass(frozen=True)
class ApiStyle:
    """One API style of the contract, as the comparison page shows it."""

    key: str
    title: str
    prefix: str
    summary: str
    # GET users/{id}/orders in each tier, idiomatic first.
    tiers: list[Tier]
    docs: list[tuple[str, str]] = field(default_factory=list)
    # What POST users/ answers to BAD_SIGNUP (tests/pages check it against the real answer);
    # None for the reference apps, which serve only the article's endpoint.
    error_status: int = 400
    error_body: Any = None


API_STYLES = [
    ApiStyle(
        key="drf",
        title="Django REST Framework",
        prefix="/api/drf/",
        summary="Viewsets, serializers and a router; browsable API; OpenAPI by drf-spectacular.",
        tiers=[
            Tier(
                "idiomatic",
                "/api/drf/users/{id}/orders",
                "api/drf/users.py:UserViewSet.orders",
                "drf",
                "A ModelSerializer over a prefetched queryset, on 32 threads.",
            ),
            Tier(
                "tuned",
                "/api/drf/tuned/users/{id}/orders",
                "api/drf/users.py:UserOrdersTunedView.get",
                "drf-tuned",
                "Declared-field serializers over .values() querysets compiled once; orjson.",
            ),
            Tier(
                "raw",
                "/api/drf/raw/users/{id}/orders",
                "api/drf/users.py:UserOrdersRawView.get",
                "drf-raw",
                "DRF's request handling; SQL rows rendered by hand.",
            ),
        ],
        docs=[("Browsable API", "/api/drf/"), ("Swagger UI", "/api/drf/docs/")],
        error_body={"age": ["A valid integer is required."]},
    ),
    ApiStyle(
        key="ninja",
        title="django-ninja",
        prefix="/api/ninja/",
        summary="async def operations with Pydantic schemas: FastAPI-style typing in Django.",
        tiers=[
            Tier(
                "idiomatic",
                "/api/ninja/users/{id}/orders",
                "api/ninja/users.py:user_orders",
                "ninja",
                "Schema output over model instances from the async ORM.",
            ),
            Tier(
                "tuned",
                "/api/ninja/tuned/users/{id}/orders",
                "api/ninja/users.py:user_orders_tuned",
                "ninja-tuned",
                "The same Schema over .values() querysets compiled once, run on psycopg's "
                "async pool; pydantic writes the JSON.",
            ),
            Tier(
                "raw",
                "/api/ninja/raw/users/{id}/orders",
                "api/ninja/users.py:user_orders_raw",
                "ninja-raw",
                "SQL rows rendered by hand; orjson.",
            ),
        ],
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
        tiers=[
            Tier(
                "idiomatic",
                "/api/plain/async/users/{id}/orders",
                "api/plain/users.py:user_orders_async",
                "plain-async",
                "Model instances from the async ORM, JsonResponse.",
            ),
            Tier(
                "raw",
                "/api/fast/users/{id}/orders",
                "api/plain/fast.py:user_orders_fast",
                "fast-async",
                "The fast path: SQL on psycopg's async pool, orjson.",
            ),
        ],
        error_body={"errors": {"age": ["Must be an integer."]}},
    ),
    ApiStyle(
        key="plain-sync",
        title="Plain Django, sync",
        prefix="/api/plain/sync/",
        summary="Its Flask-style sync twin: the same hand validation, a thread per request.",
        tiers=[
            Tier(
                "idiomatic",
                "/api/plain/sync/users/{id}/orders",
                "api/plain/users.py:user_orders_sync",
                "plain-sync",
                "Model instances from the ORM, JsonResponse, on 32 threads.",
            ),
        ],
        error_body={"errors": {"age": ["Must be an integer."]}},
    ),
]

# The benchmark's reference apps (bench/peers/), shown beside the styles for the comparison.
PEERS = [
    ApiStyle(
        key="fastapi",
        title="FastAPI (reference app)",
        prefix="/",
        summary="The same endpoint and contract in FastAPI, outside orderdesk.",
        tiers=[
            Tier(
                "idiomatic",
                "/users/{id}/orders",
                "bench/peers/fastapi_sqla.py:user_orders",
                "fastapi-sqla",
                "SQLAlchemy 2's async ORM, selectinload, pydantic models.",
            ),
            Tier(
                "tuned",
                "/users/{id}/orders",
                "bench/peers/fastapi_sqla_tuned.py:user_orders",
                "fastapi-sqla-tuned",
                "SQLAlchemy column selects, pydantic dump_json.",
            ),
            Tier(
                "raw",
                "/users/{id}/orders",
                "bench/peers/fastapi_pydantic.py:user_orders",
                "fastapi-pydantic",
                "SQL on psycopg's async pool, pydantic response models.",
            ),
        ],
        error_body=None,
    ),
    ApiStyle(
        key="flask",
        title="Flask (reference app)",
        prefix="/",
        summary="The same endpoint and contract in Flask, on 32 threads.",
        tiers=[
            Tier(
                "idiomatic",
                "/users/{id}/orders",
                "bench/peers/flask_sqla.py:user_orders",
                "flask-sqla",
                "Flask-SQLAlchemy models, jsonify.",
            ),
            Tier(
                "raw",
                "/users/{id}/orders",
                "bench/peers/flask_app.py:user_orders",
                "flask-raw",
                "SQL on psycopg's pool, orjson.",
            ),
        ],
        error_body=None,
    ),
]

# The benchmark run the page quotes (docs/benchmarks.md), and the cell it quotes from it.
BENCH_RESULTS = Path("docs/benchmarks-tiers.json")
BENCH_SCENARIO = "L=0ms C=64 orders=10"


@cache
def _excerpt(handler: str) -> tuple[str, str]:
    """The handler's source, decorators included, and where it starts (`api/drf/users.py:111`).

    Read from the file rather than imported, so that the reference apps' modules (and their
    database engines) stay out of the web process.
    """
    relative, _, qualname = handler.partition(":")
    path = Path(settings.BASE_DIR) / relative
    source = path.read_text()
    nodes: list[ast.stmt] = ast.parse(source).body
    node: ast.stmt | None = None
    for name in qualname.split("."):
        node = next(
            n
            for n in nodes
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and n.name == name
        )
        nodes = node.body if isinstance(node, ast.ClassDef) else []
    assert node is not None  # noqa: S101 (a qualified name has one part at least)
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    lines = source.splitlines(keepends=True)[first - 1 : node.end_lineno]
    return textwrap.dedent("".join(lines)), f"{relative}:{first}"


def bench_cpu(results: Path | None = None) -> dict[str, float]:
    """CPU ms per request of each implementation in BENCH_SCENARIO of the committed run."""
    path = results or Path(settings.BASE_DIR) / BENCH_RESULTS
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {
        cell["implementation"]: cell["cpu_ms_per_request"]
        for cell in document.get("results", [])
        if cell.get("scenario") == BENCH_SCENARIO and not cell.get("failure")
    }


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"api_styles": API_STYLES})


@require_safe
def compare(request: HttpRequest) -> HttpResponse:
    cpu = bench_cpu()
    styles = []
    for style in [*API_STYLES, *PEERS]:
        tiers = []
        for tier in style.tiers:
            source, location = _excerpt(tier.handler)
            tiers.append(
                {"tier": tier, "source": source, "location": location, "cpu": cpu.get(tier.bench)}
            )
        styles.append(
            {
                "style": style,
                "tiers": tiers,
                "error": None
                if style.error_body is None
                else json.dumps(style.error_body, indent=2),
            }
        )
    return render(
        request,
        "compare.html",
        {
            "styles": styles,
            "bad_signup": json.dumps(BAD_SIGNUP, ensure_ascii=False),
            "bench_scenario": BENCH_SCENARIO,
            "bench_results": BENCH_RESULTS,
        },
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


# What the order page's buttons say for each move.
MOVE_LABELS: dict[str, str] = {
    Order.Status.PAID: "Pay",
    Order.Status.SHIPPED: "Mark shipped",
    Order.Status.DELIVERED: "Mark delivered",
    Order.Status.CANCELLED: "Cancel order",
}


def _visible_order(request: HttpRequest, order_id: int) -> Order:
    try:
        return order_get(user=request.user, order_id=order_id)
    except OrderNotFound:
        raise Http404("No such order.") from None


@require_safe
@login_required
def order_detail_page(request: HttpRequest, order_id: int) -> HttpResponse:
    """One order with its lines and history: the owner's, or any for staff; others get 404.

    With a button for each move the viewer may make now (pay or cancel for its customer,
    every allowed move for staff).
    """
    order = _visible_order(request, order_id)
    moves = [
        (status, MOVE_LABELS[status])
        for status in transitions_for(order=order, actor=cast(User, request.user))
    ]
    return render(
        request,
        "orders/detail.html",
        {"order": order, "history": order_history(order=order), "moves": moves},
    )


@require_POST
@login_required
def order_transition_page(request: HttpRequest, order_id: int) -> HttpResponse:
    """A button of the order page: the move through `order_transition`, its result a message."""
    order = _visible_order(request, order_id)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the order's moves.")
    else:
        try:
            order_transition(
                order=order, to_status=form.cleaned_data["status"], actor=cast(User, request.user)
            )
        except OrderError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Order #{order.pk} is {order.status} now.")
    return redirect("order-detail", order_id=order.pk)


CATALOGUE_PAGE_SIZE = 20


@require_safe
def catalogue_page(request: HttpRequest) -> HttpResponse:
    """The products for sale, searched by name or SKU, a page at a time."""
    search = CatalogueSearchForm(request.GET)
    valid = search.is_valid()
    query = search.cleaned_data["q"].strip() if valid else ""
    # A search that cannot run (a NUL, say) shows its error over an empty page.
    products = products_for_sale(query=query) if valid else products_for_sale().none()
    page = Paginator(products, CATALOGUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/catalogue.html",
        {"search": search, "query": query, "page": page},
        status=200 if valid else 400,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def order_new_page(request: HttpRequest) -> HttpResponse:
    """The order form: lines of product and quantity, placed through `order_place`.

    Any error redisplays the form with what was typed and the error next to its field, and
    writes nothing (422 for the form's own checks, the domain's status for its refusals). The
    form's idempotency key, made when it is drawn, makes a second submit replay the first.
    """
    refusal = None
    status = 200
    if request.method == "POST":
        key = PlaceOrderForm(request.POST)
        lines = OrderLineFormSet(request.POST, prefix="lines")
        status = 422
        if key.is_valid() and lines.is_valid():
            try:
                order = order_place(
                    customer=cast(User, request.user),
                    lines=lines.line_items(),
                    idempotency_key=key.cleaned_data["idempotency_key"],
                )
            except OrderError as error:
                refusal = lines.show_refusal(error)
                status = error.status
            else:
                messages.success(request, f"Order #{order.pk} placed: {order.total} to pay.")
                return redirect("order-detail", order_id=order.pk)
    else:
        key = PlaceOrderForm.fresh()
        product = request.GET.get("product", "")
        initial = [{"product": product, "quantity": 1}] if product.isdigit() else []
        lines = OrderLineFormSet(prefix="lines", initial=initial)
    return render(
        request,
        "orders/new.html",
        {"key_form": key, "lines": lines, "refusal": refusal},
        status=status,
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
