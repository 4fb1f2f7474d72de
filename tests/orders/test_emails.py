"""The order emails (orders/tasks.py): what they say, when they are enqueued, and what a
refusing mail server does to them. A real SMTP server (aiosmtpd) receives them here; the
worker process's own tests are in test_task_worker.py."""

import logging

import pytest
from django.core import mail
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from orders.exceptions import InsufficientStock
from orders.factories import ProductFactory
from orders.models import Order
from orders.services import LineItem, order_place, order_transition
from orders.tasks import order_emails_paused
from tests.mailserver import REJECTED, body, smtp_server
from users.services import token_issue

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def place(customer, *products_quantities):
    return order_place(
        customer=customer,
        lines=[LineItem(product_id=p.pk, quantity=q) for p, q in products_quantities],
    )


class TestWhatTheEmailsSay:
    def test_a_placed_order_mails_its_number_lines_total_and_link(self, customer, settings):
        settings.SITE_URL = "https://desk.example.com"
        kettle = ProductFactory.create(name="Kettle", sku="KET-1", price="19.90", stock=5)
        mug = ProductFactory.create(name="Mug", sku="MUG-1", price="4.05", stock=5)
        order = place(customer, (kettle, 2), (mug, 3))

        (message,) = mail.outbox
        assert message.to == [customer.email]
        assert message.subject == f"Your orderdesk order #{order.pk} is placed"
        assert f"Order #{order.pk}" in message.body
        assert "2 x Kettle (KET-1) at 19.90 = 39.80" in message.body
        assert "3 x Mug (MUG-1) at 4.05 = 12.15" in message.body
        assert "Total: 51.95" in message.body
        assert f"https://desk.example.com/orders/{order.pk}/" in message.body

    def test_paid_shipped_and_cancelled_mail_the_customer_and_delivered_does_not(
        self, customer, staff, product
    ):
        shipped = place(customer, (product, 1))
        order_transition(order=shipped, to_status=Order.Status.PAID, actor=customer)
        order_transition(order=shipped, to_status=Order.Status.SHIPPED, actor=staff)
        order_transition(order=shipped, to_status=Order.Status.DELIVERED, actor=staff)
        cancelled = place(customer, (product, 1))
        order_transition(order=cancelled, to_status=Order.Status.CANCELLED, actor=customer)

        assert [message.subject for message in mail.outbox] == [
            f"Your orderdesk order #{shipped.pk} is placed",
            f"Your orderdesk order #{shipped.pk} is paid",
            f"Your orderdesk order #{shipped.pk} has shipped",
            f"Your orderdesk order #{cancelled.pk} is placed",
            f"Your orderdesk order #{cancelled.pk} is cancelled",
        ]

    def test_nothing_is_mailed_while_paused(self, customer, product):
        with order_emails_paused():
            place(customer, (product, 1))
        assert mail.outbox == []


class TestEnqueuedOnCommit:
    """On the database backend, in this process: what reaches the task table."""

    @pytest.fixture(autouse=True)
    def _database_backend(self, settings):
        settings.TASKS = DATABASE_TASKS

    def test_a_committed_placement_enqueues_one_email_task(self, customer, product):
        order = place(customer, (product, 1))
        (task,) = DBTaskResult.objects.all()
        assert task.task_path == "orders.tasks.send_order_email"
        assert task.status == "READY"
        assert task.args_kwargs["args"] == [order.pk, "placed", 1]
        assert mail.outbox == []  # the worker sends it, not the request

    def test_a_rolled_back_placement_enqueues_no_email(self, customer, product):
        def place_then_fail() -> None:
            with transaction.atomic():
                place(customer, (product, 1))
                raise RuntimeError("something later in the request failed")

        with pytest.raises(RuntimeError, match="later in the request"):
            place_then_fail()
        assert not Order.objects.exists()
        assert not DBTaskResult.objects.exists()

    def test_a_refused_placement_enqueues_no_email(self, customer):
        scarce = ProductFactory.create(stock=1)
        with pytest.raises(InsufficientStock):
            place(customer, (scarce, 2))
        assert not DBTaskResult.objects.exists()


class TestFailuresNeverFailTheOrder:
    """Through the API, with the emails sent (immediate backend) to a real SMTP server."""

    def place_through_the_api(self, client, customer, product):
        return client.post(
            "/api/ninja/orders/",
            {"lines": [{"product_id": product.pk, "quantity": 1}]},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token_issue(user=customer)}"},
        )

    def test_a_mail_server_refusing_for_now_is_tried_again_and_the_order_stands(
        self, client, customer, product, settings, caplog
    ):
        settings.ORDER_EMAIL_MAX_ATTEMPTS = 5
        with smtp_server(refuse_first=2) as server:
            settings.MAILERS = server.mailers
            response = self.place_through_the_api(client, customer, product)
            assert response.status_code == 201
            (message,) = server.wait_for(customer.email)
        assert server.attempts == 3
        assert f"Order #{response.json()['id']}" in body(message)
        retries = [r for r in caplog.records if "trying again" in r.getMessage()]
        assert len(retries) == 2

    def test_a_mail_server_that_keeps_refusing_gets_a_bounded_number_of_attempts(
        self, client, customer, product, settings
    ):
        settings.ORDER_EMAIL_MAX_ATTEMPTS = 3
        with smtp_server(refuse_first=1000) as server:
            settings.MAILERS = server.mailers
            response = self.place_through_the_api(client, customer, product)
        assert response.status_code == 201
        assert server.attempts == 3
        assert server.messages == []
        assert Order.objects.filter(pk=response.json()["id"]).exists()

    def test_a_permanent_refusal_is_not_tried_again(self, client, customer, product, settings):
        with smtp_server(refuse_first=1000, refusal=REJECTED) as server:
            settings.MAILERS = server.mailers
            response = self.place_through_the_api(client, customer, product)
        assert response.status_code == 201
        assert server.attempts == 1

    def test_an_enqueue_that_fails_is_logged_and_the_order_stands(
        self, client, customer, product, settings, caplog
    ):
        settings.TASKS = {"default": {"BACKEND": "orders.no_such_backend.Backend"}}
        with caplog.at_level(logging.ERROR, logger="orders.tasks"):
            response = self.place_through_the_api(client, customer, product)
        assert response.status_code == 201
        assert Order.objects.filter(pk=response.json()["id"]).exists()
        assert any("Could not enqueue the placed email" in r.getMessage() for r in caplog.records)
