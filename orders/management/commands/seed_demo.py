"""Demo data for a development desk: customers, products and orders, made with the factories.

Identities are fixed (customer001@example.com..., DEMO-0001...), so running the command again
creates only what is missing. Everything random comes from --seed, so two desks seeded alike
hold the same data (apart from the times, which count back from now).
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from factory import Transformer
from faker import Faker

from orders.exceptions import OrderError
from orders.factories import (
    DEFAULT_PASSWORD,
    OrderFactory,
    ProductFactory,
    StaffFactory,
    UserFactory,
)
from orders.models import Order, Product
from orders.tasks import order_emails_paused
from users.models import User

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "orderdesk-admin"  # noqa: S105 (a development-only login, printed on purpose)
ADMIN_NAME = "Demo Admin"

SPREAD = timedelta(days=30)
# Mostly pending or paid, some further along or cancelled.
STATUS_WEIGHTS: dict[str, int] = {
    Order.Status.PENDING: 30,
    Order.Status.PAID: 30,
    Order.Status.SHIPPED: 15,
    Order.Status.DELIVERED: 15,
    Order.Status.CANCELLED: 10,
}
LINES_PER_ORDER = (1, 2, 3)
LINES_WEIGHTS = (5, 3, 2)
MAX_QUANTITY = 3


def customer_email(number: int) -> str:
    return f"customer{number:03d}@example.com"


def product_sku(number: int) -> str:
    return f"DEMO-{number:04d}"


@dataclass(frozen=True, slots=True)
class CustomerSpec:
    email: str
    name: str
    age: int


@dataclass(frozen=True, slots=True)
class ProductSpec:
    sku: str
    name: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class OrderSpec:
    customer: int  # index into the customers
    lines: tuple[tuple[int, int], ...]  # (index into the products, quantity)
    status: str
    age: timedelta  # how long before now it was placed


@dataclass(slots=True)
class Plan:
    """Everything the seed decides, drawn from one random generator in a fixed order."""

    customers: list[CustomerSpec]
    products: list[ProductSpec]
    stocks: list[int]
    orders: list[OrderSpec]

    @classmethod
    def draw(cls, *, seed: int, customers: int, products: int, orders: int) -> "Plan":
        rng = random.Random(seed)  # noqa: S311 (demo data, not security)
        fake = Faker()
        fake.seed_instance(seed)
        customer_specs = [
            CustomerSpec(email=customer_email(n), name=fake.name(), age=rng.randint(18, 90))
            for n in range(1, customers + 1)
        ]
        product_specs = [
            ProductSpec(
                sku=product_sku(n),
                name=fake.catch_phrase()[:200],
                price=Decimal(rng.randint(50, 50_000)).scaleb(-2),
            )
            for n in range(1, products + 1)
        ]
        order_specs = [cls._draw_order(rng, customers, products) for _ in range(orders)]
        # Oldest first, so order numbers grow with their creation times as on a real desk.
        order_specs.sort(key=lambda spec: spec.age, reverse=True)
        # Enough stock for every planned line (cancellations only give some back), plus slack.
        demand = Counter[int]()
        for spec in order_specs:
            for product, quantity in spec.lines:
                demand[product] += quantity
        stocks = [demand[index] + rng.randint(10, 100) for index in range(products)]
        return cls(customer_specs, product_specs, stocks, order_specs)

    @staticmethod
    def _draw_order(rng: random.Random, customers: int, products: int) -> OrderSpec:
        (size,) = rng.choices(LINES_PER_ORDER, weights=LINES_WEIGHTS)
        picked = sorted(rng.sample(range(products), min(size, products)))
        (status,) = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))
        return OrderSpec(
            customer=rng.randrange(customers),
            lines=tuple((index, rng.randint(1, MAX_QUANTITY)) for index in picked),
            status=status,
            age=timedelta(seconds=rng.randrange(int(SPREAD.total_seconds()))),
        )


class Progress:
    """`Seeding: customers 3/20, ...`: rewritten in place on a terminal, else written once."""

    def __init__(self, out: OutputWrapper, *, customers: int, products: int, orders: int) -> None:
        self.out = out
        self.live = out.isatty()
        self.targets = {"customers": customers, "products": products, "orders": orders}
        self.done = dict.fromkeys(self.targets, 0)

    def line(self) -> str:
        parts = (f"{name} {self.done[name]}/{self.targets[name]}" for name in self.targets)
        return "Seeding: " + ", ".join(parts)

    def update(self, name: str, done: int) -> None:
        self.done[name] = done
        if self.live:
            self.out.write("\r" + self.line(), ending="")
            self.out.flush()

    def finish(self) -> None:
        self.out.write(("\r" if self.live else "") + self.line())


class Command(BaseCommand):
    help = (
        "Create demo customers, products and orders with the factories. Idempotent: a second "
        "run creates only what is missing. With DEBUG on, also a demo admin login."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=20, help="Default: 20.")
        parser.add_argument("--products", type=int, default=30, help="Default: 30.")
        parser.add_argument(
            "--orders", type=int, default=100, help="Total across demo customers. Default: 100."
        )
        parser.add_argument("--seed", type=int, default=42, help="Default: 42.")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = {name: options[name] for name in ("customers", "products", "orders")}
        for name, value in counts.items():
            if value < 0:
                raise CommandError(f"--{name} must be 0 or more, not {value}.")
        if counts["orders"] and not (counts["customers"] and counts["products"]):
            raise CommandError("--orders needs at least one customer and one product.")

        plan = Plan.draw(seed=options["seed"], **counts)
        progress = Progress(self.stdout, **counts)
        customers, new_customers = self._customers(plan, progress)
        products, new_products = self._products(plan, progress)
        total_orders, new_orders, refusals = self._orders(plan, customers, products, progress)
        progress.finish()

        self.stdout.write(
            f"Demo data ready: {len(customers)} customers ({new_customers} new), "
            f"{len(products)} products ({new_products} new), "
            f"{total_orders} orders ({new_orders} new)."
        )
        if refusals:
            self.stdout.write(
                f"Skipped {len(refusals)} order(s) the domain refused, e.g.: {refusals[0]}"
            )
        if not (new_customers or new_products or new_orders):
            self.stdout.write("Nothing new to create: the demo data was already in place.")
        self._logins(customers)

    def _customers(self, plan: Plan, progress: Progress) -> tuple[list[User], int]:
        # Hash once for every new customer (the real hasher is slow on purpose). Outside DEBUG
        # a well-known password would be a way in, so new customers get none there.
        hashed = make_password(DEFAULT_PASSWORD if settings.DEBUG else None)
        emails = [spec.email for spec in plan.customers]
        created = 0
        users: list[User] = []
        with transaction.atomic():
            existing = {user.email: user for user in User.objects.filter(email__in=emails)}
            for spec in plan.customers:
                user = existing.get(spec.email)
                if user is None:
                    user = UserFactory.create(
                        email=spec.email,
                        name=spec.name,
                        age=spec.age,
                        password=Transformer.Force(hashed),
                    )
                    created += 1
                users.append(user)
                progress.update("customers", len(users))
        return users, created

    def _products(self, plan: Plan, progress: Progress) -> tuple[list[Product], int]:
        skus = [spec.sku for spec in plan.products]
        created = 0
        products: list[Product] = []
        with transaction.atomic():
            existing = {product.sku: product for product in Product.objects.filter(sku__in=skus)}
            for spec, stock in zip(plan.products, plan.stocks, strict=True):
                product = existing.get(spec.sku)
                if product is None:
                    product = ProductFactory.create(
                        sku=spec.sku, name=spec.name, price=spec.price, stock=stock
                    )
                    created += 1
                products.append(product)
                progress.update("products", len(products))
        return products, created

    def _orders(
        self, plan: Plan, customers: list[User], products: list[Product], progress: Progress
    ) -> tuple[int, int, list[str]]:
        """Place the planned orders the demo customers do not have yet.

        Returns how many they have now, how many were placed, and why any were refused.
        """
        have = Order.objects.filter(customer__in=customers).count()
        progress.update("orders", min(have, len(plan.orders)))
        now = timezone.now()
        created = 0
        refusals: list[str] = []
        for spec in plan.orders[have:]:
            try:
                # The services commit each step on their own; this keeps one order all or
                # nothing (placed, walked to its status and backdated) as a savepoint around them.
                # Invented history, placed by nobody: its customers get no order emails.
                with order_emails_paused(), transaction.atomic():
                    OrderFactory.create(
                        customer=customers[spec.customer],
                        lines=[(products[index], quantity) for index, quantity in spec.lines],
                        status=spec.status,
                        created_at=now - spec.age,
                    )
            except OrderError as exc:
                refusals.append(exc.message)
            else:
                created += 1
                progress.update("orders", have + created)
        return have + created, created, refusals

    def _logins(self, customers: list[User]) -> None:
        if not settings.DEBUG:
            self.stdout.write(
                "DEBUG is off: no staff account was created; make one with "
                "`manage.py createsuperuser`. New demo customers have no usable password."
            )
            return
        created = self._ensure_admin()
        self.stdout.write(
            f"Admin login ({'created' if created else 'password reset'}): "
            f"email {ADMIN_EMAIL}, password {ADMIN_PASSWORD}, at {reverse('admin:index')}"
        )
        if customers:
            self.stdout.write(
                f"Demo customers: {customers[0].email} to {customers[-1].email}, "
                f"password {DEFAULT_PASSWORD} (those created with DEBUG on)."
            )

    @staticmethod
    def _ensure_admin() -> bool:
        """Create or repair the demo admin; its password is set on every run. True if new."""
        with transaction.atomic():
            admin = User.objects.filter(email=ADMIN_EMAIL).first()
            if admin is None:
                StaffFactory.create(
                    email=ADMIN_EMAIL, name=ADMIN_NAME, is_superuser=True, password=ADMIN_PASSWORD
                )
                return True
            admin.name = ADMIN_NAME
            admin.is_staff = admin.is_superuser = admin.is_active = True
            admin.set_password(ADMIN_PASSWORD)
            admin.save()
            return False
