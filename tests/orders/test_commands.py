"""The operator commands: seed_demo, cancel_stale_orders, export_orders."""

import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.factories import DEFAULT_PASSWORD, ProductFactory, UserFactory
from orders.management.commands import cancel_stale_orders as cancel_module
from orders.management.commands.seed_demo import Plan
from orders.models import Order, OrderEvent, Product
from orders.services import order_transition
from runtime.durations import format_duration, parse_duration
from users.models import User

pytestmark = pytest.mark.django_db

MakeOrder = Callable[..., Order]


class Captured:
    """What a command wrote to stdout and stderr."""

    def __init__(self, out: str, err: str) -> None:
        self.out = out
        self.err = err


def run(name: str, *args: str, stdout: StringIO | None = None, **options: Any) -> Captured:
    out, err = stdout or StringIO(), StringIO()
    call_command(name, *args, stdout=out, stderr=err, **options)
    return Captured(out.getvalue(), err.getvalue())


class TtyStringIO(StringIO):
    def isatty(self) -> bool:
        return True


# --- seed_demo --------------------------------------------------------------------------------

SMALL = {"customers": 3, "products": 4, "orders": 8}
DEMO_EMAILS = ["customer001@example.com", "customer002@example.com", "customer003@example.com"]
DEMO_SKUS = ["DEMO-0001", "DEMO-0002", "DEMO-0003", "DEMO-0004"]


def seed(**options: Any) -> Captured:
    return run("seed_demo", **{**SMALL, **options})


def demo_orders() -> "list[Order]":
    return list(Order.objects.filter(customer__email__in=DEMO_EMAILS).with_lines())


class TestSeedDemo:
    def test_creates_the_requested_customers_products_and_orders(self) -> None:
        seed()

        assert (
            sorted(
                User.objects.filter(email__startswith="customer").values_list("email", flat=True)
            )
            == DEMO_EMAILS
        )
        assert sorted(Product.objects.values_list("sku", flat=True)) == DEMO_SKUS
        assert len(demo_orders()) == 8

    def test_order_totals_match_their_lines(self) -> None:
        seed()

        for order in demo_orders():
            lines = list(order.lines.all())
            assert lines
            assert order.total == sum(line.unit_price * line.quantity for line in lines)

    def test_spreads_statuses_and_creation_times_over_the_last_thirty_days(self) -> None:
        before = timezone.now()
        seed(orders=20)

        orders = demo_orders()
        assert len({order.status for order in orders}) >= 3
        assert all(
            before - timedelta(days=30) <= order.created_at <= timezone.now() for order in orders
        )
        assert len({order.created_at for order in orders}) > 1

    def test_running_twice_creates_nothing_new_and_says_so(self) -> None:
        seed()
        users, products, orders = (
            User.objects.count(),
            Product.objects.count(),
            Order.objects.count(),
        )

        second = seed()

        assert (User.objects.count(), Product.objects.count(), Order.objects.count()) == (
            users,
            products,
            orders,
        )
        assert (
            "Demo data ready: 3 customers (0 new), 4 products (0 new), 8 orders (0 new)."
            in second.out
        )
        assert "Nothing new to create" in second.out

    def test_tops_up_orders_to_a_higher_target(self) -> None:
        seed(orders=5)

        result = seed(orders=8)

        assert len(demo_orders()) == 8
        assert "8 orders (3 new)" in result.out

    def test_draws_the_same_plan_from_the_same_seed(self) -> None:
        plan = Plan.draw(seed=7, customers=3, products=4, orders=8)

        assert plan == Plan.draw(seed=7, customers=3, products=4, orders=8)
        assert plan != Plan.draw(seed=8, customers=3, products=4, orders=8)

    def test_writes_one_final_progress_line_and_a_summary_when_not_on_a_terminal(self) -> None:
        result = seed()

        assert "\r" not in result.out
        progress = [line for line in result.out.splitlines() if line.startswith("Seeding:")]
        assert progress == ["Seeding: customers 3/3, products 4/4, orders 8/8"]
        assert (
            "Demo data ready: 3 customers (3 new), 4 products (4 new), 8 orders (8 new)."
            in result.out
        )

    def test_rewrites_the_progress_line_in_place_on_a_terminal(self) -> None:
        terminal = TtyStringIO()

        result = run("seed_demo", stdout=terminal, **SMALL)

        assert result.out.count("\rSeeding: ") > 3
        assert "\rSeeding: customers 3/3, products 4/4, orders 8/8\n" in result.out

    def test_prints_an_admin_login_that_works_when_debug_is_on(self, settings: Any) -> None:
        settings.DEBUG = True

        result = seed()

        assert "admin@example.com" in result.out
        assert "orderdesk-admin" in result.out
        assert "/admin/" in result.out
        admin = authenticate(email="admin@example.com", password="orderdesk-admin")
        assert admin is not None
        assert admin.is_staff
        assert admin.is_superuser
        assert admin.get_full_name() == "Demo Admin"
        customer = authenticate(email=DEMO_EMAILS[0], password=DEFAULT_PASSWORD)
        assert customer is not None

    def test_resets_the_admin_password_on_every_run(self, settings: Any) -> None:
        settings.DEBUG = True
        seed()
        admin = User.objects.get(email="admin@example.com")
        admin.set_password("something-else")
        admin.is_active = False
        admin.save()

        seed()

        assert authenticate(email="admin@example.com", password="orderdesk-admin") is not None
        assert User.objects.filter(email="admin@example.com").count() == 1

    def test_creates_no_staff_when_debug_is_off(self, settings: Any) -> None:
        settings.DEBUG = False

        result = seed()

        assert not User.objects.filter(is_staff=True).exists()
        assert "createsuperuser" in result.out
        assert "orderdesk-admin" not in result.out
        # A well-known customer password would be a way in outside development.
        assert not User.objects.get(email=DEMO_EMAILS[0]).has_usable_password()

    def test_skips_orders_the_domain_refuses_and_counts_them(self) -> None:
        for sku in DEMO_SKUS:
            ProductFactory.create(sku=sku, stock=0)

        result = seed()

        assert demo_orders() == []
        assert "0 orders (0 new)" in result.out
        assert "Skipped 8 order(s)" in result.out
        assert "Not enough stock" in result.out

    @pytest.mark.parametrize(
        "options",
        [{"customers": -1}, {"orders": -5}, {"customers": 0, "orders": 3}],
    )
    def test_refuses_impossible_counts(self, options: dict[str, int]) -> None:
        with pytest.raises(CommandError):
            seed(**options)


# --- cancel_stale_orders ----------------------------------------------------------------------


@pytest.fixture
def stale_setup(make_order: MakeOrder, product: Product) -> dict[str, Order]:
    """An old pending order (3 units), an old paid one and a fresh pending one, one product."""
    old = timezone.now() - timedelta(days=2)
    return {
        "old_pending": make_order(lines=[(product, 3)], created_at=old),
        "old_paid": make_order(lines=[(product, 1)], status=Order.Status.PAID, created_at=old),
        "new_pending": make_order(lines=[(product, 2)]),
    }


def statuses(orders: dict[str, Order]) -> dict[str, str]:
    return {name: Order.objects.get(pk=order.pk).status for name, order in orders.items()}


class TestCancelStaleOrders:
    def test_cancels_only_pending_orders_older_than_the_age(
        self, stale_setup: dict[str, Order]
    ) -> None:
        result = run("cancel_stale_orders", older_than="24h")

        assert statuses(stale_setup) == {
            "old_pending": Order.Status.CANCELLED,
            "old_paid": Order.Status.PAID,
            "new_pending": Order.Status.PENDING,
        }
        order = stale_setup["old_pending"]
        created = order.created_at.astimezone(UTC).isoformat(timespec="seconds")
        assert f"Cancelled order #{order.pk} ({order.customer.email}, created {created})" in (
            result.out
        )
        assert "Cancelled 1 stale pending order(s) older than 24h." in result.out

    def test_defaults_to_the_reservation_window(
        self, make_order: MakeOrder, product: Product, settings: Any
    ) -> None:
        settings.ORDER_RESERVATION_MINUTES = 30
        now = timezone.now()
        orders = {
            "past_window": make_order(lines=[(product, 1)], created_at=now - timedelta(minutes=31)),
            "within_window": make_order(
                lines=[(product, 1)], created_at=now - timedelta(minutes=29)
            ),
        }

        result = run("cancel_stale_orders")

        assert statuses(orders) == {
            "past_window": Order.Status.CANCELLED,
            "within_window": Order.Status.PENDING,
        }
        assert "older than 30m." in result.out

    def test_the_default_reservation_window_is_minutes_not_a_day(self, settings: Any) -> None:
        assert 0 < settings.ORDER_RESERVATION_MINUTES <= 60

    def test_returns_the_stock(self, stale_setup: dict[str, Order], product: Product) -> None:
        product.refresh_from_db()
        assert product.stock == 10 - 3 - 1 - 2

        run("cancel_stale_orders")

        product.refresh_from_db()
        assert product.stock == 10 - 1 - 2

    def test_records_the_system_as_the_actor(self, stale_setup: dict[str, Order]) -> None:
        run("cancel_stale_orders")

        event = OrderEvent.objects.get(
            order=stale_setup["old_pending"], kind=OrderEvent.Kind.STATUS_CHANGED
        )
        assert (event.from_status, event.to_status) == (
            Order.Status.PENDING,
            Order.Status.CANCELLED,
        )
        assert event.actor is None

    def test_dry_run_lists_the_orders_and_changes_nothing(
        self, stale_setup: dict[str, Order], product: Product
    ) -> None:
        result = run("cancel_stale_orders", older_than="24h", dry_run=True)

        assert statuses(stale_setup) == {
            "old_pending": Order.Status.PENDING,
            "old_paid": Order.Status.PAID,
            "new_pending": Order.Status.PENDING,
        }
        product.refresh_from_db()
        assert product.stock == 4
        assert not OrderEvent.objects.filter(to_status=Order.Status.CANCELLED).exists()
        assert f"Would cancel order #{stale_setup['old_pending'].pk} (" in result.out
        assert "Dry run: 1 stale pending order(s) older than 24h would be cancelled" in result.out

    def test_running_twice_cancels_nothing_the_second_time(
        self, stale_setup: dict[str, Order]
    ) -> None:
        run("cancel_stale_orders", older_than="24h")

        second = run("cancel_stale_orders", older_than="24h")

        assert "Cancelled 0 stale pending order(s) older than 24h." in second.out
        assert OrderEvent.objects.filter(to_status=Order.Status.CANCELLED).count() == 1

    @pytest.mark.parametrize(("age", "cancelled"), [("2d", True), ("4d", False)])
    def test_honours_the_age(self, make_order: MakeOrder, age: str, cancelled: bool) -> None:
        order = make_order(created_at=timezone.now() - timedelta(days=3))

        run("cancel_stale_orders", older_than=age)

        order.refresh_from_db()
        assert (order.status == Order.Status.CANCELLED) is cancelled

    def test_skips_and_reports_an_order_paid_meanwhile(
        self, stale_setup: dict[str, Order], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The customer pays between the listing and the cancellation. Paid orders may be
        # cancelled by the machine, so the command itself must notice it is no longer pending.
        listed = cancel_module.orders_stale_pending

        def listed_then_paid(**kwargs: Any) -> Any:
            stale = list(listed(**kwargs))
            order_transition(
                order=stale_setup["old_pending"], to_status=Order.Status.PAID, actor=None
            )
            return stale

        monkeypatch.setattr(cancel_module, "orders_stale_pending", listed_then_paid)

        result = run("cancel_stale_orders")

        assert statuses(stale_setup)["old_pending"] == Order.Status.PAID
        assert f"Skipped order #{stale_setup['old_pending'].pk}" in result.err
        assert "no longer pending" in result.err
        assert "Cancelled 0 stale pending order(s)" in result.out
        assert "Skipped 1 order(s)" in result.out

    @pytest.mark.parametrize("age", ["", "24", "h", "1.5h", "-1h", "0h", "24x", "10y", "1h30m"])
    def test_rejects_a_bad_duration(self, age: str) -> None:
        with pytest.raises(CommandError, match="Invalid duration"):
            run("cancel_stale_orders", older_than=age)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("90s", timedelta(seconds=90)),
            ("30m", timedelta(minutes=30)),
            ("24h", timedelta(hours=24)),
            ("7d", timedelta(days=7)),
            ("2w", timedelta(weeks=2)),
        ],
    )
    def test_understands_each_duration_unit(self, text: str, expected: timedelta) -> None:
        assert parse_duration(text) == expected

    @pytest.mark.parametrize(
        ("seconds", "text"),
        [(45, "45s"), (90, "90s"), (1800, "30m"), (7200, "2h"), (86400, "1d"), (2592000, "30d")],
    )
    def test_shows_a_setting_in_the_largest_unit_that_divides_it(
        self, seconds: int, text: str
    ) -> None:
        assert format_duration(seconds) == text
        assert parse_duration(text).total_seconds() == seconds

    def test_rejects_a_duration_too_long_to_subtract(self) -> None:
        with pytest.raises(CommandError, match="too long"):
            run("cancel_stale_orders", older_than="99999999w")


# --- export_orders ----------------------------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def catalogue(db: None) -> list[Product]:
    return [
        ProductFactory.create(sku="EXP-1", price=Decimal("3.50")),
        ProductFactory.create(sku="EXP-2", price=Decimal("5.50")),
    ]


@pytest.fixture
def dated_orders(make_order: MakeOrder, catalogue: list[Product]) -> dict[str, Order]:
    """Orders around the first of January 2026, in several statuses."""
    first, second = catalogue
    buyer = UserFactory.create(email="buyer@example.com")
    return {
        "dec31_last": make_order(
            customer=buyer, lines=[(first, 1)], created_at=at("2025-12-31T23:59:59")
        ),
        "jan1_midnight": make_order(
            customer=buyer,
            lines=[(first, 2), (second, 1)],
            status=Order.Status.PAID,
            created_at=at("2026-01-01T00:00:00"),
        ),
        "jan1_last": make_order(
            customer=buyer,
            lines=[(second, 1)],
            status=Order.Status.SHIPPED,
            created_at=at("2026-01-01T23:59:59"),
        ),
        "jan2_midnight": make_order(
            customer=buyer, lines=[(first, 1)], created_at=at("2026-01-02T00:00:00")
        ),
    }


def export(*args: str, **options: Any) -> Captured:
    return run("export_orders", *args, **options)


def exported_ids(*args: str, **options: Any) -> set[int]:
    return {row["id"] for row in json.loads(export(*args, format="json", **options).out)}


def ids(orders: dict[str, Order], *names: str) -> set[int]:
    return {orders[name].pk for name in names}


def iso(value: datetime) -> str:
    """The contract's time format, as every API writes it: UTC with a Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class TestExportOrders:
    def test_writes_one_csv_row_per_order_matching_the_database(
        self, dated_orders: dict[str, Order]
    ) -> None:
        result = export()

        reader = csv.DictReader(StringIO(result.out))
        assert reader.fieldnames == [
            "order_id",
            "customer_email",
            "status",
            "total",
            "created_at",
            "updated_at",
            "items",
        ]
        rows = {int(row["order_id"]): row for row in reader}
        assert set(rows) == {order.pk for order in dated_orders.values()}
        for order in Order.objects.all():
            row = rows[order.pk]
            assert row["customer_email"] == "buyer@example.com"
            assert row["status"] == order.status
            assert Decimal(row["total"]) == order.total
            assert row["created_at"] == iso(order.created_at)
            assert row["updated_at"] == iso(order.updated_at)
        assert rows[dated_orders["jan1_midnight"].pk]["total"] == "12.50"
        assert rows[dated_orders["jan1_midnight"].pk]["items"] == "EXP-1 x2 @ 3.50; EXP-2 x1 @ 5.50"
        assert rows[dated_orders["jan1_midnight"].pk]["created_at"] == "2026-01-01T00:00:00Z"

    def test_writes_json_matching_the_database(self, dated_orders: dict[str, Order]) -> None:
        data = json.loads(export(format="json").out)

        assert [item["id"] for item in data] == list(
            Order.objects.newest_first().values_list("id", flat=True)
        )
        by_id = {item["id"]: item for item in data}
        for order in Order.objects.select_related("customer").with_lines():
            assert by_id[order.pk] == {
                "id": order.pk,
                "customer": {"id": order.customer_id, "email": order.customer.email},
                "status": order.status,
                "total": f"{order.total:.2f}",
                "created_at": iso(order.created_at),
                "updated_at": iso(order.updated_at),
                "lines": [
                    {
                        "product_id": line.product_id,
                        "sku": line.product.sku,
                        "quantity": line.quantity,
                        "unit_price": f"{line.unit_price:.2f}",
                    }
                    for line in order.lines.all()
                ],
            }
        assert by_id[dated_orders["jan1_midnight"].pk]["total"] == "12.50"

    def test_keeps_stdout_for_the_data_only(self, dated_orders: dict[str, Order]) -> None:
        result = export(format="json")

        assert len(json.loads(result.out)) == 4
        assert "Exported 4 order(s)." in result.err

    def test_writes_an_empty_list_or_a_bare_header_when_nothing_matches(self) -> None:
        assert json.loads(export(format="json").out) == []
        assert export().out == (
            "order_id,customer_email,status,total,created_at,updated_at,items\n"
        )

    def test_filters_by_status(self, dated_orders: dict[str, Order]) -> None:
        assert exported_ids(status="paid") == ids(dated_orders, "jan1_midnight")
        assert exported_ids("--status", "pending") == ids(
            dated_orders, "dec31_last", "jan2_midnight"
        )

    def test_includes_since_and_the_whole_day_of_a_date_until(
        self, dated_orders: dict[str, Order]
    ) -> None:
        assert exported_ids(since="2026-01-01", until="2026-01-01") == ids(
            dated_orders, "jan1_midnight", "jan1_last"
        )
        assert exported_ids(since="2026-01-02") == ids(dated_orders, "jan2_midnight")
        assert exported_ids(until="2025-12-31") == ids(dated_orders, "dec31_last")

    def test_excludes_a_datetime_until(self, dated_orders: dict[str, Order]) -> None:
        assert exported_ids(until="2026-01-01T23:59:59") == ids(
            dated_orders, "dec31_last", "jan1_midnight"
        )

    def test_reads_naive_times_as_utc_and_converts_offsets(
        self, dated_orders: dict[str, Order]
    ) -> None:
        assert exported_ids(since="2026-01-01T23:59:59") == ids(
            dated_orders, "jan1_last", "jan2_midnight"
        )
        # 01:00 in UTC+1 is midnight UTC.
        assert exported_ids(since="2026-01-02T01:00:00+01:00") == ids(dated_orders, "jan2_midnight")
        assert exported_ids(until="2026-01-01T00:00:00Z") == ids(dated_orders, "dec31_last")

    def test_writes_to_a_file_with_output(
        self, dated_orders: dict[str, Order], tmp_path: Path
    ) -> None:
        target = tmp_path / "orders.json"

        result = export(format="json", output=str(target))

        assert len(json.loads(target.read_text(encoding="utf-8"))) == 4
        assert f"Exported 4 order(s) to {target}" in result.out

    def test_refuses_a_file_it_cannot_write(self, tmp_path: Path) -> None:
        with pytest.raises(CommandError, match="Cannot write"):
            export(output=str(tmp_path / "missing-dir" / "orders.csv"))

    @pytest.mark.parametrize(
        ("args", "options"),
        [((), {"status": "lost"}), (("--status", "lost"), {}), ((), {"format": "xml"})],
    )
    def test_refuses_an_unknown_status_or_format(
        self, args: tuple[str, ...], options: dict[str, str]
    ) -> None:
        with pytest.raises(CommandError):
            export(*args, **options)

    @pytest.mark.parametrize(
        "option", [{"since": "yesterday"}, {"since": "2026-02-30"}, {"until": "2026-01-01T25:00"}]
    )
    def test_refuses_a_bad_date(self, option: dict[str, str]) -> None:
        with pytest.raises(CommandError, match="not an ISO date"):
            export(**option)

    def test_refuses_a_window_that_ends_before_it_starts(self) -> None:
        with pytest.raises(CommandError, match="earlier than"):
            export(since="2026-01-02", until="2026-01-01")

    @pytest.mark.parametrize("fmt", ["csv", "json"])
    def test_runs_the_same_number_of_queries_for_2_or_20_orders(
        self, make_order: MakeOrder, catalogue: list[Product], fmt: str
    ) -> None:
        def count_queries() -> int:
            with CaptureQueriesContext(connection) as queries:
                export(format=fmt)
            return len(queries)

        customers = [UserFactory.create() for _ in range(3)]
        for n in range(2):
            make_order(customer=customers[n % 3], lines=[(catalogue[0], 1), (catalogue[1], 1)])
        with_two = count_queries()
        for n in range(18):
            make_order(customer=customers[n % 3], lines=[(catalogue[n % 2], 1)])

        assert count_queries() == with_two
        assert with_two <= 2
