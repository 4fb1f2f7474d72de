"""The admin index, the staff's first screen: today's figures from orders.selectors (issue 15)."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from orders.factories import OrderFactory, ProductFactory, StaffFactory
from orders.models import Order, Product
from orders.selectors import desk_summary
from orders.templatetags.desk import CHART_HEIGHT, bars

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def place(total: str, status: str, created_at: datetime) -> Order:
    product = ProductFactory.create(price=Decimal(total), stock=100)
    return OrderFactory.create(lines=[(product, 1)], status=status, created_at=created_at)


@pytest.fixture
def desk() -> dict[str, Order]:
    midnight = datetime(2026, 12, 2, tzinfo=UTC)
    return {
        "paid_today": place("10.50", Order.Status.PAID, NOW - timedelta(hours=1)),
        "shipped_today": place("4.25", Order.Status.SHIPPED, midnight),
        "pending_today": place("99.00", Order.Status.PENDING, NOW),
        "cancelled_today": place("7.00", Order.Status.CANCELLED, NOW),
        "paid_yesterday": place("50.00", Order.Status.PAID, midnight - timedelta(seconds=1)),
        "three_weeks_ago": place("1.00", Order.Status.DELIVERED, NOW - timedelta(days=21)),
    }


class TestDeskSummary:
    def test_today_counts_every_order_of_the_utc_day_and_paid_ones_as_revenue(self, desk):
        summary = desk_summary(now=NOW)

        assert summary.today_orders == 4
        assert summary.today_revenue == Decimal("14.75")

    def test_orders_by_status_lists_every_status(self, desk):
        by_status = dict(desk_summary(now=NOW).by_status)

        assert list(by_status) == list(Order.Status.values)
        assert by_status == {
            "pending": 1,
            "paid": 2,
            "shipped": 1,
            "delivered": 1,
            "cancelled": 1,
        }

    def test_low_stock_lists_active_products_fewest_first(self):
        ProductFactory.create(sku="OUT", stock=0)
        ProductFactory.create(sku="LOW", stock=Product.LOW_STOCK)
        ProductFactory.create(sku="OK", stock=Product.LOW_STOCK + 1)
        ProductFactory.create(sku="GONE", stock=0, is_active=False)

        summary = desk_summary(now=NOW, shown=1)

        assert [p.sku for p in summary.low_stock] == ["OUT"]
        assert summary.low_stock_count == 2

    def test_the_last_fourteen_days_oldest_first_with_empty_days(self, desk):
        days = desk_summary(now=NOW).daily_orders

        assert len(days) == 14
        assert days[0][0] == NOW.date() - timedelta(days=13)
        assert days[-1] == (NOW.date(), 4)
        assert days[-2] == (NOW.date() - timedelta(days=1), 1)
        assert sum(orders for _, orders in days) == 5  # three weeks ago is outside

    def test_four_queries_however_many_orders(self, desk, django_assert_num_queries):
        with django_assert_num_queries(4):
            desk_summary(now=NOW)
        for _ in range(5):
            place("3.00", Order.Status.PAID, NOW)
        ProductFactory.create_batch(3, stock=1)
        with django_assert_num_queries(4):
            desk_summary(now=NOW)


def test_the_chart_scales_the_busiest_day_to_full_height_and_keeps_small_days_visible():
    day = NOW.date()
    drawn = bars([(day, 0), (day, 1), (day, 200)])

    assert [bar.height for bar in drawn] == [0, 1, CHART_HEIGHT]
    assert [bar.y + bar.height for bar in drawn] == [CHART_HEIGHT] * 3
    assert drawn[1].x > drawn[0].x


def test_the_admin_index_shows_the_figures_and_the_chart(client: Client) -> None:
    today = timezone.now()
    place("12.00", Order.Status.PAID, today)
    place("5.00", Order.Status.PENDING, today)
    ProductFactory.create(sku="SCARCE-1", stock=2)
    client.force_login(StaffFactory.create())

    page = client.get("/admin/").content.decode()

    assert re.search(r'data-figure="today-orders">2 orders<', page)
    assert re.search(r'data-figure="today-revenue">12.00<', page)
    assert re.search(r'data-status="pending">.*?<td>1</td>', page)
    assert 'data-product="SCARCE-1"' in page
    assert page.count("<rect ") == 14
    assert f'data-day="{today.astimezone(UTC):%Y-%m-%d}" data-orders="2"' in page
    assert "<script" not in page.split('id="desk"')[1].split("</svg>")[0]
