"""Background work of the order domain (django.tasks): the emails an order's customer receives.

An email is sent when an order is placed, paid, shipped or cancelled. `order_email_schedule`
is called where the change is recorded (`orders.events.order_event_record`, inside the change's
transaction) and enqueues the task with `transaction.on_commit`: a change that rolls back
sends nothing, and the email never reaches a worker before the order is in the database.

- **The backend** is settings.TASKS: django-tasks-db (a row per task, run by `manage.py
  db_worker` beside the web workers), the immediate backend in the tests. `seed_demo` makes
  its invented history inside `order_emails_paused()`: nobody placed those orders.
- **Never the request's failure**: an enqueue that fails (the task table unreachable, a
  misconfigured backend) is logged, not raised: the order has committed by then, and its
  request must still succeed. A task that fails fails in the worker (the immediate backend
  records the failure on its result and raises nothing either).
- **Retries**: a mail server that refuses for now (a 4xx reply, a refused, lost or timed-out
  connection) gets the email again, up to settings.ORDER_EMAIL_MAX_ATTEMPTS attempts in all,
  after ORDER_EMAIL_RETRY_DELAY seconds, then twice that, and so on; each attempt is a task
  of its own (django-tasks-db has no retries of its own), so every failure stays on record. A
  permanent refusal (5xx) is not tried again.
"""

import logging
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Prefetch
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import Order, OrderEvent, OrderLine

logger = logging.getLogger(__name__)

# The changes a customer is told about by email, named by what happened to the order.
EMAIL_KINDS: dict[str, str] = {
    Order.Status.PAID: "paid",
    Order.Status.SHIPPED: "shipped",
    Order.Status.CANCELLED: "cancelled",
}
PLACED = "placed"


def order_email_kind(*, kind: str, to_status: str) -> str | None:
    """The email an event calls for (`placed`, `paid`, `shipped`, `cancelled`), or None."""
    if kind == OrderEvent.Kind.CREATED:
        return PLACED
    return EMAIL_KINDS.get(to_status)


_paused: ContextVar[bool] = ContextVar("order_emails_paused", default=False)


@contextmanager
def order_emails_paused() -> Iterator[None]:
    """Within it, order changes send no email (demo data: history nobody made)."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


def order_email_schedule(*, order_id: int, kind: str) -> None:
    """Enqueue the order's `kind` email once the current transaction commits (now if none)."""
    if _paused.get():
        return
    transaction.on_commit(lambda: order_email_enqueue(order_id=order_id, kind=kind))


def order_email_enqueue(
    *, order_id: int, kind: str, attempt: int = 1, delay: timedelta | None = None
) -> bool:
    """Enqueue one attempt at the email, after `delay` where the backend can defer. Whether it
    was enqueued: a failure is logged, never raised (see the module's docstring)."""
    try:
        job = send_order_email
        if delay and job.get_backend().supports_defer:
            job = job.using(run_after=timezone.now() + delay)
        job.enqueue(order_id, kind, attempt)
    except Exception:
        logger.exception("Could not enqueue the %s email of order %s", kind, order_id)
        return False
    return True


def retry_delay(attempt: int) -> timedelta:
    """How long after failed attempt number `attempt` the next one waits: doubling each time."""
    return timedelta(seconds=settings.ORDER_EMAIL_RETRY_DELAY * 2 ** (attempt - 1))


def is_transient(error: Exception) -> bool:
    """Whether the mail server may take the email later: a 4xx reply or a connection's failure."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, smtplib.SMTPException | OSError)


def order_email_message(order: Order, kind: str) -> EmailMessage:
    """The `kind` email of `order` (with its customer and lines), rendered from
    templates/emails/order_<kind>.txt."""
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "customer": order.customer,
        "url": settings.SITE_URL + reverse("order-detail", args=[order.pk]),
    }
    subject = render_to_string("emails/order_subject.txt", {**context, "kind": kind})
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=render_to_string(f"emails/order_{kind}.txt", context),
        to=[order.customer.email],
    )


@task()
def send_order_email(order_id: int, kind: str, attempt: int = 1) -> str:
    """Send the order's `kind` email: one attempt, and the next one enqueued if it may succeed.

    Raises:
        smtplib.SMTPException, OSError: the mail server refused or could not be reached; the
            attempt is recorded as failed (and the next one enqueued, when there is one).
    """
    order = (
        Order.objects.select_related("customer")
        .prefetch_related(
            Prefetch("lines", OrderLine.objects.select_related("product").order_by("product_id"))
        )
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        logger.warning("Order %s is gone: its %s email is not sent", order_id, kind)
        return "order gone"
    try:
        order_email_message(order, kind).send()
    except (smtplib.SMTPException, OSError) as error:
        if is_transient(error) and attempt < settings.ORDER_EMAIL_MAX_ATTEMPTS:
            delay = retry_delay(attempt)
            logger.warning(
                "The %s email of order %s failed (attempt %s: %s); trying again in %s s",
                kind,
                order_id,
                attempt,
                error,
                delay.total_seconds(),
            )
            order_email_enqueue(order_id=order_id, kind=kind, attempt=attempt + 1, delay=delay)
        else:
            logger.error(  # noqa: TRY400 (the worker records the traceback on the task)
                "The %s email of order %s failed (attempt %s: %s); not trying again",
                kind,
                order_id,
                attempt,
                error,
            )
        raise
    return f"sent to {order.customer.email}"
