"""POST orders/ with an Idempotency-Key, Stripe's way: a repeat replays the first answer.

Through both styles that place orders (DRF and ninja): the replayed status and body, the key's
scope (one customer), its length, its lifetime (IDEMPOTENCY_KEY_TTL) and the purge command;
then twenty simultaneous requests with one key against a real server on PostgreSQL.
"""

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from orders.factories import OrderFactory, ProductFactory
from orders.models import Order, OrderEvent, OrderLine, Product
from orders.services import order_transition
from tests.servers import live_server, post_json
from users.models import User
from users.services import token_issue

STYLES = {"drf": "/api/drf/", "ninja": "/api/ninja/"}
DAY = 24 * 60 * 60

# Per request and per thread join; a loaded CI machine is slow.
TIMEOUT = 60


def place(
    client: Client, style: str, user: User, lines: list[tuple[Product, int]], key: str | None
) -> Any:
    headers = {"Authorization": f"Bearer {token_issue(user=user)}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    body = {"lines": [{"product_id": product.pk, "quantity": qty} for product, qty in lines]}
    return client.post(
        f"{STYLES[style]}orders/",
        json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def get_order(client: Client, style: str, user: User, order_id: int) -> Any:
    headers = {"Authorization": f"Bearer {token_issue(user=user)}"}
    return client.get(f"{STYLES[style]}orders/{order_id}", headers=headers).json()


def backdate(order_id: int, age: timedelta) -> None:
    Order.objects.filter(pk=order_id).update(created_at=timezone.now() - age)


def keys_in_use() -> list[tuple[int, str | None]]:
    return list(Order.objects.order_by("pk").values_list("pk", "idempotency_key"))


@pytest.fixture(params=list(STYLES))
def style(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def stock(db: None) -> Product:
    return ProductFactory.create(price="6.25", stock=10)


@pytest.mark.django_db
class TestTheSameKeyAndLines:
    def test_replay_the_first_status_and_body_even_after_the_order_changed(
        self, client, style, customer, stock
    ):
        first = place(client, style, customer, [(stock, 2)], "pay-later")
        order_transition(order=Order.objects.get(), to_status="paid", actor=customer)

        again = place(client, style, customer, [(stock, 2)], "pay-later")

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.content == first.content
        assert first.json()["status"] == "pending"
        assert get_order(client, style, customer, first.json()["id"])["status"] == "paid"
        assert Order.objects.count() == 1
        stock.refresh_from_db()
        assert stock.stock == 8

    def test_replay_the_same_body_in_the_other_style(self, client, customer, stock):
        first = place(client, "drf", customer, [(stock, 1)], "k")
        again = place(client, "ninja", customer, [(stock, 1)], "k")

        assert again.status_code == 201
        assert again.json() == first.json()
        assert Order.objects.count() == 1

    def test_answer_first_with_what_either_style_shows_for_the_order(
        self, client, style, customer, stock
    ):
        other = ProductFactory.create(price="0.10", stock=500)

        first = place(client, style, customer, [(other, 7), (stock, 1), (other, 3)], "k")

        body = first.json()
        assert first.status_code == 201
        assert body == get_order(client, "drf", customer, body["id"])
        assert body == get_order(client, "ninja", customer, body["id"])
        assert (body["total"], [line["quantity"] for line in body["lines"]]) == ("7.25", [1, 10])

    def test_refuse_other_lines_under_the_same_key_and_keep_replaying_the_first(
        self, client, style, customer, stock
    ):
        first = place(client, style, customer, [(stock, 1)], "k")

        reused = place(client, style, customer, [(stock, 2)], "k")
        again = place(client, style, customer, [(stock, 1)], "k")

        assert reused.status_code == 422
        assert reused.json()["code"] == "idempotency_key_reused"
        assert again.json() == first.json()
        assert Order.objects.count() == 1

    def test_keep_nothing_of_a_refusal_so_the_key_can_be_retried(
        self, client, style, customer, stock
    ):
        refused = place(client, style, customer, [(stock, 11)], "big")
        Product.objects.filter(pk=stock.pk).update(stock=20)

        retried = place(client, style, customer, [(stock, 11)], "big")

        assert (refused.status_code, refused.json()["code"]) == (409, "insufficient_stock")
        assert retried.status_code == 201
        assert keys_in_use() == [(retried.json()["id"], "big")]


@pytest.mark.django_db
class TestKeysOfOneCustomer:
    def test_never_replay_to_another_customer_who_gets_an_order_of_their_own(
        self, client, style, customer, other_customer, stock
    ):
        mine = place(client, style, customer, [(stock, 1)], "shared-key")
        theirs = place(client, style, other_customer, [(stock, 1)], "shared-key")
        mine_again = place(client, style, customer, [(stock, 1)], "shared-key")

        assert theirs.status_code == 201
        assert theirs.json()["id"] != mine.json()["id"]
        assert theirs.json()["customer_id"] == other_customer.pk
        assert mine_again.json() == mine.json()
        assert Order.objects.count() == 2

    def test_never_refuse_another_customers_key_as_reused(
        self, client, style, customer, other_customer, stock
    ):
        place(client, style, customer, [(stock, 1)], "shared-key")
        theirs = place(client, style, other_customer, [(stock, 3)], "shared-key")
        assert theirs.status_code == 201


@pytest.mark.django_db
class TestKeyLength:
    def test_accept_a_key_of_255_characters(self, client, style, customer, stock):
        key = "k" * 255
        first = place(client, style, customer, [(stock, 1)], key)
        again = place(client, style, customer, [(stock, 1)], key)
        assert (first.status_code, again.json()) == (201, first.json())
        assert keys_in_use() == [(first.json()["id"], key)]

    @pytest.mark.parametrize("key", ["", "k" * 256])
    def test_refuse_an_empty_or_longer_key_by_the_headers_name(
        self, client, style, customer, stock, key
    ):
        response = place(client, style, customer, [(stock, 1)], key)

        assert 400 <= response.status_code < 500
        assert "Idempotency-Key" in response.content.decode()
        assert not Order.objects.exists()


@pytest.mark.django_db
class TestKeyLifetime:
    def test_keep_keys_for_a_day_unless_the_environment_says_otherwise(self):
        code = "from django.conf import settings; print(settings.IDEMPOTENCY_KEY_TTL)"
        clean = {k: v for k, v in os.environ.items() if k != "IDEMPOTENCY_KEY_TTL"}
        found = []
        for extra in ({}, {"IDEMPOTENCY_KEY_TTL": "3600"}):
            result = subprocess.run(  # noqa: S603 (a fixed command line)
                [sys.executable, "-c", f"import django; django.setup(); {code}"],
                cwd=Path(__file__).resolve().parents[2],
                env={**clean, **extra, "DJANGO_SETTINGS_MODULE": "config.settings"},
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=True,
            )
            found.append(result.stdout.strip())
        assert found == [str(DAY), "3600"]

    def test_replay_a_key_younger_than_the_ttl(self, client, style, customer, stock, settings):
        settings.IDEMPOTENCY_KEY_TTL = 3600
        first = place(client, style, customer, [(stock, 1)], "k")
        backdate(first.json()["id"], timedelta(minutes=59))

        again = place(client, style, customer, [(stock, 1)], "k")

        assert again.json() == first.json()
        assert Order.objects.count() == 1

    def test_place_a_new_order_for_a_key_older_than_the_ttl(
        self, client, style, customer, stock, settings
    ):
        settings.IDEMPOTENCY_KEY_TTL = 3600
        first = place(client, style, customer, [(stock, 1)], "k")
        backdate(first.json()["id"], timedelta(minutes=61))

        again = place(client, style, customer, [(stock, 1)], "k")
        replayed = place(client, style, customer, [(stock, 1)], "k")

        assert again.status_code == 201
        assert again.json()["id"] != first.json()["id"]
        assert replayed.json() == again.json()
        # The key moved to the new order; the old order stays.
        assert keys_in_use() == [(first.json()["id"], None), (again.json()["id"], "k")]
        stock.refresh_from_db()
        assert stock.stock == 8

    def test_an_expired_key_may_name_other_lines(self, client, style, customer, stock, settings):
        settings.IDEMPOTENCY_KEY_TTL = 3600
        first = place(client, style, customer, [(stock, 1)], "k")
        backdate(first.json()["id"], timedelta(hours=2))

        other = place(client, style, customer, [(stock, 4)], "k")

        assert other.status_code == 201
        assert other.json()["lines"][0]["quantity"] == 4


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_idempotency_keys", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
class TestPurgeIdempotencyKeys:
    @pytest.fixture
    def orders(self, customer, settings) -> dict[str, Order]:
        settings.IDEMPOTENCY_KEY_TTL = DAY
        now = timezone.now()
        return {
            "expired": OrderFactory.create(
                customer=customer, idempotency_key="old\nkey", created_at=now - timedelta(days=2)
            ),
            "fresh": OrderFactory.create(
                customer=customer, idempotency_key="new", created_at=now - timedelta(hours=23)
            ),
            "keyless": OrderFactory.create(customer=customer, created_at=now - timedelta(days=3)),
        }

    def test_list_the_expired_keys_and_change_nothing_in_a_dry_run(self, orders):
        before = list(Order.objects.order_by("pk").values())

        out = purge("--dry-run")

        expired = orders["expired"]
        assert f"Would remove key 'old\\nkey' of order #{expired.pk}" in out
        assert "'new'" not in out
        assert out.splitlines()[-1] == (
            "Dry run: would remove 1 idempotency key(s) older than 1d (IDEMPOTENCY_KEY_TTL). "
            "Nothing was changed."
        )
        assert list(Order.objects.order_by("pk").values()) == before

    def test_clear_the_expired_keys_and_their_answers_and_keep_the_orders(self, orders):
        out = purge()

        expired = Order.objects.get(pk=orders["expired"].pk)
        fresh = Order.objects.get(pk=orders["fresh"].pk)
        assert f"Removed key 'old\\nkey' of order #{expired.pk}" in out
        assert out.splitlines()[-1] == (
            "Removed 1 idempotency key(s) older than 1d (IDEMPOTENCY_KEY_TTL)."
        )
        assert (expired.idempotency_key, expired.request_fingerprint) == (None, "")
        assert expired.idempotency_response == ""
        assert expired.lines.count() == 1
        assert (fresh.idempotency_key, bool(fresh.idempotency_response)) == ("new", True)
        assert Order.objects.count() == 3
        assert purge().splitlines() == [
            "Removed 0 idempotency key(s) older than 1d (IDEMPOTENCY_KEY_TTL)."
        ]


# --- Twenty requests at once, through a real server --------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_requests_with_one_key_place_one_order(tmp_path, customer):
    # The last unit: a request that does not replay would be refused for stock instead.
    product = ProductFactory.create(price="4.00", stock=1)
    token = token_issue(user=customer)
    body = {"lines": [{"product_id": product.pk, "quantity": 1}]}
    answers: list[tuple[int, Any]] = []
    lock = threading.Lock()
    start = threading.Barrier(20, timeout=TIMEOUT)

    def request(index: int, base: str) -> None:
        path = f"{list(STYLES.values())[index % 2]}orders/"
        start.wait()
        answer = post_json(base, path, body, token=token, key="one-key")
        with lock:
            answers.append(answer)

    with live_server(tmp_path) as server:
        threads = [threading.Thread(target=request, args=(i, server.url)) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
        assert not any(thread.is_alive() for thread in threads), "a request hung"

    order = Order.objects.get()
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 20}, answers
    assert all(answer == json.loads(order.idempotency_response) for _, answer in answers)
    assert OrderLine.objects.filter(order=order).count() == 1
    assert OrderEvent.objects.filter(order=order).count() == 1
    product.refresh_from_db()
    assert product.stock == 0
