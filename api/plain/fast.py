"""The article's endpoint as a deliberate fast path: `GET /api/fast/users/{id}/orders`.

An `async def` view that reads with SQL on psycopg's async connections (`runtime.asyncdb`) and
answers with orjson. Same contract, auth and permissions as every other style (bearer token by
its SHA-256 digest, or the browser session; yourself or staff; 404 for anyone else), tested by
the contract suite beside them. What it skips is what costs on the hot path: the async ORM's
thread per query and model instances (docs/benchmarks.md has the profile and the numbers).

When to write one (README, "Fast path"): for a read that dominates the traffic and whose shape
is fixed, after the profile says the ORM is the cost; the rest of the API stays on the ORM.
Not PostgreSQL (the embedded SQLite default): the same reads run on the async ORM.
"""

import orjson
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from orders.selectors import auser_orders_document
from runtime import asyncdb

from .auth import aauthenticate
from .errors import json_view, not_authenticated, not_found
from .throttles import athrottle


@json_view("GET")
async def user_orders_fast(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET users/{id}/orders: the user and all their orders, newest first."""
    async with asyncdb.aconnection():  # one pooled connection for the token and the read
        viewer = await aauthenticate(request)
        if not viewer.is_authenticated:
            raise not_authenticated()
        await athrottle(request, user=viewer)
        document = await auser_orders_document(viewer=viewer, user_id=user_id)
    if document is None:
        raise not_found()
    return HttpResponse(orjson.dumps(document), content_type="application/json")


urlpatterns: list[URLPattern] = [
    path("users/<int:user_id>/orders", user_orders_fast, name="user-orders"),
]
