"""The order email end to end: a customer signs up in the browser, places an order through the
live server's API, and the task worker process (django-tasks-db's `db_worker`, on the test
database: PostgreSQL only) delivers its email to a real SMTP server; its link opens the order."""

import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from orders.factories import ProductFactory
from orders.models import Product
from tests.e2e.test_accounts import EMAIL, PASSWORD, mail_server, sign_up
from tests.mailserver import MailServer, body
from tests.servers import LIVE_POSTGRES, task_worker

pytestmark = [pytest.mark.e2e, *LIVE_POSTGRES]
__all__ = ["mail_server"]  # the fixture, used by name


def post_json(url: str, data: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 (a loopback URL built by the test)
        url, data=json.dumps(data).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer: dict[str, Any] = json.load(response)
        return answer


@pytest.fixture
def kettle(db: None) -> Product:
    return ProductFactory.create(name="Kettle", price="19.90", stock=5)


def test_the_task_worker_delivers_the_email_of_an_order_placed_after_signing_up(
    kettle: Product, mail_server: MailServer, settings, tmp_path, page: Page
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    sign_up(page)
    base = page.evaluate("location.origin")
    with task_worker(tmp_path, EMAIL_URL=mail_server.url, DJANGO_SITE_URL=base):
        token = post_json(f"{base}/api/ninja/auth/token", {"email": EMAIL, "password": PASSWORD})
        order = post_json(
            f"{base}/api/ninja/orders/",
            {"lines": [{"product_id": kettle.pk, "quantity": 2}]},
            token["token"],
        )
        (message,) = mail_server.wait_for(EMAIL)
    assert message["Subject"] == f"Your orderdesk order #{order['id']} is placed"
    text = body(message)
    assert "2 x Kettle" in text
    assert "Total: 39.80" in text
    link = re.search(rf"{re.escape(base)}/orders/{order['id']}/", text)
    assert link is not None, text
    page.goto(link[0])
    expect(page.get_by_role("heading", name=f"Order #{order['id']}")).to_be_visible()
