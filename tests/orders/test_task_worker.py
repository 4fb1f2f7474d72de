"""The worker process delivers the order emails: django-tasks-db's `db_worker` beside this
process, on the test database (PostgreSQL), sending to a real SMTP server (aiosmtpd)."""

import pytest
from django_tasks_db.models import DBTaskResult

from orders.factories import OrderFactory
from tests.mailserver import body, smtp_server
from tests.servers import LIVE_POSTGRES, poll, task_worker

pytestmark = LIVE_POSTGRES

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _database_backend(settings):
    settings.TASKS = DATABASE_TASKS


def test_the_worker_delivers_the_email_of_an_order_placed_here(customer, tmp_path):
    with smtp_server() as server, task_worker(tmp_path, EMAIL_URL=server.url):
        order = OrderFactory.create(customer=customer)
        (message,) = server.wait_for(customer.email)
    assert message["Subject"] == f"Your orderdesk order #{order.pk} is placed"
    assert f"Total: {order.total}" in body(message)
    (task,) = DBTaskResult.objects.all()
    assert task.status == "SUCCESSFUL"
    assert task.return_value == f"sent to {customer.email}"


def test_a_refusing_mail_server_is_tried_again_by_the_worker(customer, tmp_path):
    with (
        smtp_server(refuse_first=2) as server,
        task_worker(tmp_path, EMAIL_URL=server.url, ORDER_EMAIL_RETRY_DELAY="0.2"),
    ):
        order = OrderFactory.create(customer=customer)
        server.wait_for(customer.email)
        # The third attempt's task is marked successful just after the server answered.
        poll(lambda: DBTaskResult.objects.successful().exists(), timeout=30)
    attempts = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert [task.status for task in attempts] == ["FAILED", "FAILED", "SUCCESSFUL"]
    assert [task.args_kwargs["args"] for task in attempts] == [
        [order.pk, "placed", 1],
        [order.pk, "placed", 2],
        [order.pk, "placed", 3],
    ]
    assert "SMTPDataError" in attempts[0].exception_class_path
    assert server.attempts == 3
