"""The contract's `{"user": User, "orders": [Order...]}` as pydantic v2 response models.

What FastAPI users write: plain field types, `from_attributes` so that ORM objects validate
as they are. Pydantic's own JSON already writes the contract's representations, so no field
needs a serializer of its own:

- money: a `Decimal` is written as its string, and `numeric(12, 2)` columns arrive with two
  places (`Decimal("12.50")` -> `"12.50"`), as `orders.contract.money` formats them;
- times: an aware `datetime` in UTC is written with a `Z`, microseconds only when non-zero
  (`"2026-11-27T14:30:53.305123Z"`, `"2026-11-27T14:30:53Z"`), as `orders.contract.timestamp`
  writes them. The peers' connections run in UTC (`bench.peers.CONNECT_OPTIONS`); in another
  time zone Pydantic would write that offset (`+01:00`) instead.

`OrderLineOut.sku` is read from the line's product (`OrderLine.sku` in `bench.peers.models`).
"""

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    age: int | None


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: int
    sku: str
    quantity: int
    unit_price: Decimal


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    status: str
    total: Decimal
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLineOut]


class UserOrdersOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user: UserOut
    orders: list[OrderOut]
