"""The article's endpoint in Flask as its docs teach: Flask-SQLAlchemy models, `jsonify`.

`SQLAlchemy(model_class=Base)` binds the declarative models of `bench.peers.models` to the
app (Flask-SQLAlchemy 3.1's way with SQLAlchemy 2 bases); the view queries through the
request-scoped `db.session` with 2.0-style `select()`, loads the orders' lines with
`selectinload` (each line's product joined in), builds dicts from the model objects and
returns them with `jsonify` (Flask's JSON provider, the standard library's `json`; no orjson).
Served by gunicorn's threaded worker.

Run: `BENCH_DATABASE_URL=postgres://... gunicorn -k gthread --threads 32 bench.peers.flask_sqla:app`
"""

from typing import Any

from flask import Flask, Response, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bench.peers import (
    CONNECT_OPTIONS,
    INVALID_TOKEN,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    POOL_SIZE,
    bearer_digest,
    sqlalchemy_url,
)
from bench.peers.models import Base, Order, OrderLine, Token, User
from orders.contract import timestamp

db = SQLAlchemy(model_class=Base)
app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url()
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
    "pool_size": POOL_SIZE,
    "max_overflow": 0,
    "connect_args": {"options": CONNECT_OPTIONS},
}
db.init_app(app)


def user_dict(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "age": user.age}


def order_dict(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "customer_id": order.customer_id,
        "status": order.status,
        "total": f"{order.total:.2f}",
        "created_at": timestamp(order.created_at),
        "updated_at": timestamp(order.updated_at),
        "lines": [
            {
                "product_id": line.product_id,
                "sku": line.product.sku,
                "quantity": line.quantity,
                "unit_price": f"{line.unit_price:.2f}",
            }
            for line in order.lines
        ],
    }


def error(body: dict[str, str], status: int) -> tuple[Response, int, dict[str, str]]:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    return jsonify(body), status, headers


@app.get("/users/<int:user_id>/orders")
def user_orders(user_id: int) -> Response | tuple[Response, int, dict[str, str]]:
    """The user and all their orders, newest first: yourself, or anyone for staff."""
    digest = bearer_digest(request.headers.get("Authorization"))
    if digest is None:
        return error(NOT_AUTHENTICATED, 401)
    viewer = db.session.scalar(select(User).join(User.tokens).where(Token.digest == digest))
    if viewer is None or not viewer.is_active:
        return error(INVALID_TOKEN, 401)
    if viewer.id != user_id and not viewer.is_staff:
        return error(NOT_FOUND, 404)
    user = viewer if viewer.id == user_id else db.session.get(User, user_id)
    if user is None:
        return error(NOT_FOUND, 404)
    orders = db.session.scalars(
        select(Order)
        .where(Order.customer_id == user_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .options(selectinload(Order.lines).joinedload(OrderLine.product))
    )
    return jsonify(user=user_dict(user), orders=[order_dict(order) for order in orders])
