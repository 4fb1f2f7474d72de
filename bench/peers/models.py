"""The tables Django created, mapped as SQLAlchemy 2 users map them: typed declarative classes.

Only the columns the endpoint reads, under Django's table and column names (`users_user`,
`orders_order.customer_id`, ...). Django owns the schema and its migrations; nothing here
creates or alters a table. The SQLAlchemy peers (`fastapi_sqla*`, `flask_sqla`) share it.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, ForeignKey, Numeric, SmallInteger, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users_user"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(150))
    age: Mapped[int | None] = mapped_column(SmallInteger)
    is_active: Mapped[bool]
    is_staff: Mapped[bool]

    tokens: Mapped[list["Token"]] = relationship(back_populates="user")
    orders: Mapped[list["Order"]] = relationship(back_populates="customer")


class Token(Base):
    __tablename__ = "users_token"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users_user.id"))

    user: Mapped[User] = relationship(back_populates="tokens")


class Product(Base):
    __tablename__ = "orders_product"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)


class Order(Base):
    __tablename__ = "orders_order"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users_user.id"))
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    customer: Mapped[User] = relationship(back_populates="orders")
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order", order_by="OrderLine.id")


class OrderLine(Base):
    __tablename__ = "orders_orderline"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("orders_product.id"))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    @property
    def sku(self) -> str:
        """The product's SKU, as the contract's line carries it (load `product` with the line)."""
        return self.product.sku
