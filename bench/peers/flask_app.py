"""The article's endpoint in Flask: a sync view on psycopg's `ConnectionPool`, orjson.

The pool's connections run in autocommit: the three reads need no transaction.

Run: `BENCH_DATABASE_URL=postgres://... gunicorn -k gthread --threads 32 bench.peers.flask_app:app`.
"""

from typing import Any

import orjson
from flask import Flask, Response, request
from psycopg_pool import ConnectionPool

from bench.peers import (
    DATABASE_URL,
    INVALID_TOKEN,
    LINES_SQL,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    ORDERS_SQL,
    POOL_SIZE,
    PSYCOPG_KWARGS,
    USER_SQL,
    VIEWER_SQL,
    bearer_digest,
    user_orders_json,
    visible,
)

pool = ConnectionPool(
    DATABASE_URL, min_size=1, max_size=POOL_SIZE, kwargs=PSYCOPG_KWARGS, open=True
)
app = Flask(__name__)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, mimetype="application/json")


@app.get("/users/<int:user_id>/orders")
def user_orders(user_id: int) -> Response:
    digest = bearer_digest(request.headers.get("Authorization"))
    if digest is None:
        return json_response(NOT_AUTHENTICATED, 401, {"WWW-Authenticate": "Bearer"})
    with pool.connection() as conn:
        viewer = conn.execute(VIEWER_SQL, (digest,)).fetchone()
        if viewer is None or not viewer[4]:
            return json_response(INVALID_TOKEN, 401, {"WWW-Authenticate": "Bearer"})
        if not visible(viewer, user_id):
            return json_response(NOT_FOUND, 404)
        # Staff looking at someone else need that user; everyone else sees themself.
        user = viewer if viewer[0] == user_id else conn.execute(USER_SQL, (user_id,)).fetchone()
        if user is None:
            return json_response(NOT_FOUND, 404)
        orders = conn.execute(ORDERS_SQL, (user_id,)).fetchall()
        lines = conn.execute(LINES_SQL, ([o[0] for o in orders],)).fetchall() if orders else []
    return json_response(user_orders_json(user, orders, lines))
