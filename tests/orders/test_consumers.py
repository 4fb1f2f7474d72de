"""The /ws/orders/ socket, driven through the real ASGI application (origin check, session auth).

Every test runs on the in-memory channel layer, and again on Redis when REDIS_URL is set.
Frames are awaited with a timeout; receive_nothing() shows that nothing came.
"""

import asyncio
import logging
import os
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import psycopg
import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.asgi import application, websocket_application
from orders.consumers import RIGHT_GONE
from orders.events import STAFF_GROUP
from orders.factories import OrderFactory, ProductFactory, StaffFactory
from orders.models import Order, OrderEvent
from orders.services import LineItem, order_place, order_transition
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("REDIS_URL")
ORIGIN = b"http://localhost"
# Generous for a loaded CI machine; a frame that should come arrives in milliseconds.
TIMEOUT = 5
# How long a socket must stay silent to count as having received nothing.
SILENCE = 0.5

Connect = Callable[..., Awaitable[tuple[WebsocketCommunicator, bool]]]


def layer_settings(backend: str) -> dict[str, dict[str, Any]]:
    if backend == "redis":
        return {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [REDIS_URL]},
            }
        }
    return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def channel_layer(request: pytest.FixtureRequest, settings: Any) -> AsyncIterator[Any]:
    """The layer under test, new for this test (and this test's event loop), empty."""
    if request.param == "redis" and not REDIS_URL:
        pytest.skip("needs a Redis server: set REDIS_URL (CI does)")
    # Channels caches its layers; changing the setting clears that cache (setting_changed), and
    # clearing it here as well keeps the layer of an earlier test (or event loop) out of this one.
    settings.CHANNEL_LAYERS = layer_settings(request.param)
    channel_layers.backends.clear()
    layer = get_channel_layer()
    await layer.flush()
    yield layer
    await layer.flush()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()
    channel_layers.backends.clear()


def session_key(user: User) -> str:
    """Log `user` in as a browser would: a real session row, and its cookie value."""
    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


@pytest.fixture
async def connect(channel_layer: Any) -> AsyncIterator[Connect]:
    """Open /ws/orders/ as `user` (None: no session) from `origin` (None: no Origin header).

    Every socket opened is disconnected after the test.
    """
    opened: list[WebsocketCommunicator] = []

    async def open_socket(
        user: User | None = None, *, origin: bytes | None = ORIGIN, session: str | None = None
    ) -> tuple[WebsocketCommunicator, bool]:
        headers = [(b"host", b"localhost")]
        if origin is not None:
            headers.append((b"origin", origin))
        if session is None and user is not None:
            session = await database_sync_to_async(session_key)(user)
        if session is not None:
            cookie = f"{django_settings.SESSION_COOKIE_NAME}={session}"
            headers.append((b"cookie", cookie.encode()))
        communicator = WebsocketCommunicator(application, "/ws/orders/", headers=headers)
        opened.append(communicator)
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        return communicator, connected

    yield open_socket
    for communicator in opened:
        await communicator.disconnect(timeout=TIMEOUT)


@database_sync_to_async
def place(customer: User, *, price: str = "6.25", quantity: int = 2) -> Order:
    product = ProductFactory.create(price=Decimal(price), stock=10)
    return order_place(
        customer=customer, lines=[LineItem(product_id=product.pk, quantity=quantity)]
    )


@database_sync_to_async
def transition(order: Order, to_status: str, actor: User | None) -> Order:
    return order_transition(order=order, to_status=to_status, actor=actor)


@database_sync_to_async
def events_of(order: Order) -> list[OrderEvent]:
    return list(OrderEvent.objects.filter(order=order).order_by("created_at", "pk"))


def iso_z(event: OrderEvent) -> str:
    return event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class TestTheHandshake:
    async def test_is_accepted_for_a_logged_in_customer_from_an_allowed_origin(
        self, connect, customer
    ):
        _, connected = await connect(customer)
        assert connected

    async def test_is_refused_without_a_session(self, connect):
        _, connected = await connect(None)
        assert not connected

    async def test_is_refused_with_a_session_that_does_not_exist(self, connect):
        _, connected = await connect(None, session="no-such-session-key")
        assert not connected

    async def test_is_refused_for_a_user_deactivated_after_logging_in(self, connect, customer):
        key = await database_sync_to_async(session_key)(customer)
        customer.is_active = False
        await database_sync_to_async(customer.save)()
        _, connected = await connect(session=key)
        assert not connected

    async def test_is_refused_from_a_foreign_origin(self, connect, customer):
        _, connected = await connect(customer, origin=b"http://evil.example")
        assert not connected

    async def test_is_refused_without_an_origin_header(self, connect, customer):
        _, connected = await connect(customer, origin=None)
        assert not connected


class TestTheOriginInProduction:
    """Production's origins name scheme, host and port: anything else is refused (issue 14)."""

    SITE = "https://desk.example.com"

    async def handshake(self, settings: Any, customer: User, origin: bytes) -> bool:
        settings.WEBSOCKET_ALLOWED_ORIGINS = [self.SITE]
        settings.ALLOWED_HOSTS = ["desk.example.com"]
        key = await database_sync_to_async(session_key)(customer)
        cookie = f"{django_settings.SESSION_COOKIE_NAME}={key}".encode()
        headers = [(b"host", b"desk.example.com"), (b"origin", origin), (b"cookie", cookie)]
        communicator = WebsocketCommunicator(websocket_application(), "/ws/orders/", headers)
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        await communicator.disconnect(timeout=TIMEOUT)
        return connected

    async def test_the_sites_own_origin_is_accepted(self, channel_layer, settings, customer):
        assert await self.handshake(settings, customer, self.SITE.encode())

    @pytest.mark.parametrize(
        "origin",
        [
            b"http://desk.example.com",
            b"https://desk.example.com:31337",
            b"ftp://desk.example.com",
            b"wss://desk.example.com:8443",
            b"https://evil.example",
        ],
    )
    async def test_another_scheme_port_or_host_is_refused(
        self, channel_layer, settings, customer, origin
    ):
        assert not await self.handshake(settings, customer, origin)


class TestARightLostAfterTheHandshake:
    """The next event closes the socket (4403) instead of reaching it (issue 14, finding 1)."""

    async def open_as(self, connect: Connect, user: User) -> tuple[WebsocketCommunicator, Client]:
        browser = Client()
        await database_sync_to_async(browser.force_login)(user)
        socket, connected = await connect(
            session=browser.cookies[django_settings.SESSION_COOKIE_NAME].value
        )
        assert connected
        return socket, browser

    async def assert_closed(self, socket: WebsocketCommunicator) -> None:
        assert await socket.receive_output(timeout=TIMEOUT) == {
            "type": "websocket.close",
            "code": RIGHT_GONE,
        }

    async def test_a_logout(self, connect, customer, staff):
        socket, browser = await self.open_as(connect, staff)
        await database_sync_to_async(browser.logout)()
        await place(customer)
        await self.assert_closed(socket)

    async def test_a_deactivation(self, connect, customer, staff):
        socket, _ = await self.open_as(connect, customer)
        order = await place(customer)
        assert (await socket.receive_json_from(timeout=TIMEOUT))["order_id"] == order.pk
        customer.is_active = False
        await database_sync_to_async(customer.save)()
        await transition(order, Order.Status.CANCELLED, staff)
        await self.assert_closed(socket)

    async def test_a_staff_member_who_is_staff_no_more(self, connect, customer, staff):
        socket, _ = await self.open_as(connect, staff)
        staff.is_staff = False
        await database_sync_to_async(staff.save)()
        await place(customer)
        await self.assert_closed(socket)

    async def test_a_password_change(self, connect, customer):
        socket, _ = await self.open_as(connect, customer)
        customer.set_password("a-new-long-passphrase")
        await database_sync_to_async(customer.save)()
        await place(customer)
        await self.assert_closed(socket)

    async def test_a_socket_that_keeps_its_rights_keeps_receiving(self, connect, customer):
        socket, _ = await self.open_as(connect, customer)
        for _ in range(2):
            order = await place(customer)
            assert (await socket.receive_json_from(timeout=TIMEOUT))["order_id"] == order.pk


class TestACustomerSocket:
    async def test_receives_the_creation_and_status_changes_of_their_order_with_every_field(
        self, connect, customer, staff
    ):
        ws, _ = await connect(customer)

        order = await place(customer, price="6.25", quantity=2)
        created = await ws.receive_json_from(timeout=TIMEOUT)
        await transition(order, Order.Status.PAID, staff)
        changed = await ws.receive_json_from(timeout=TIMEOUT)

        first, second = await events_of(order)
        assert created == {
            "type": "order.event",
            "order_id": order.pk,
            "customer_id": customer.pk,
            "kind": "created",
            "from_status": "",
            "status": "pending",
            "total": "12.50",
            "at": iso_z(first),
            "actor": customer.email,
        }
        assert changed == {
            "type": "order.event",
            "order_id": order.pk,
            "customer_id": customer.pk,
            "kind": "status_changed",
            "from_status": "pending",
            "status": "paid",
            "total": "12.50",
            "at": iso_z(second),
            "actor": staff.email,
        }
        assert created["at"].endswith("Z")
        assert await ws.receive_nothing(timeout=SILENCE)

    async def test_does_not_receive_another_customers_events(
        self, connect, customer, other_customer
    ):
        mine, _ = await connect(customer)
        theirs, _ = await connect(other_customer)

        order = await place(other_customer)

        # The owner's frame has arrived, so a frame meant for `mine` would have arrived too.
        assert (await theirs.receive_json_from(timeout=TIMEOUT))["order_id"] == order.pk
        assert await mine.receive_nothing(timeout=SILENCE)

    async def test_ignores_whatever_the_client_sends_and_stays_open(self, connect, customer):
        ws, _ = await connect(customer)
        await ws.send_to(text_data="not json")
        await ws.send_json_to({"type": "order.event", "order_id": 1})
        await ws.send_to(bytes_data=b"\x00\x01")
        assert await ws.receive_nothing(timeout=SILENCE)

        order = await place(customer)
        assert (await ws.receive_json_from(timeout=TIMEOUT))["order_id"] == order.pk


class TestAStaffSocket:
    async def test_receives_the_events_of_every_customers_orders(
        self, connect, staff, customer, other_customer
    ):
        ws, _ = await connect(staff)

        first = await place(customer)
        second = await place(other_customer)
        await transition(second, Order.Status.CANCELLED, other_customer)

        frames = [await ws.receive_json_from(timeout=TIMEOUT) for _ in range(3)]
        assert [(f["order_id"], f["customer_id"], f["kind"]) for f in frames] == [
            (first.pk, customer.pk, "created"),
            (second.pk, other_customer.pk, "created"),
            (second.pk, other_customer.pk, "status_changed"),
        ]
        assert frames[2]["actor"] == other_customer.email
        assert await ws.receive_nothing(timeout=SILENCE)

    async def test_leaves_the_staff_group_when_it_disconnects(self, connect, staff, channel_layer):
        ws, _ = await connect(staff)
        assert await group_size(channel_layer, STAFF_GROUP) == 1
        await ws.disconnect(timeout=TIMEOUT)
        assert await group_size(channel_layer, STAFF_GROUP) == 0


async def group_size(layer: Any, group: str) -> int:
    """How many channels are in `group`: neither layer has a public call for this."""
    if isinstance(layer, InMemoryChannelLayer):
        return len(layer.groups.get(group, {}))
    # channels_redis keeps a group as a sorted set of channel names.
    redis = layer.connection(layer.consistent_hash(group))
    return int(await redis.zcard(layer._group_key(group)))


class TestEventsAreSent:
    async def test_only_after_commit_and_never_for_a_change_that_rolls_back(
        self, connect, customer, staff
    ):
        mine, _ = await connect(customer)
        everyone, _ = await connect(staff)

        @database_sync_to_async
        def place_then_fail() -> None:
            with transaction.atomic():
                order = order_place(
                    customer=customer,
                    lines=[LineItem(product_id=ProductFactory.create().pk, quantity=1)],
                )
                order_transition(order=order, to_status=Order.Status.PAID, actor=staff)
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError, match="rolled back"):
            await place_then_fail()

        assert await mine.receive_nothing(timeout=SILENCE)
        assert await everyone.receive_nothing(timeout=SILENCE)
        assert not await database_sync_to_async(Order.objects.exists)()
        # The sockets still work: the next committed change arrives.
        order = await place(customer)
        assert (await mine.receive_json_from(timeout=TIMEOUT))["order_id"] == order.pk
        assert (await everyone.receive_json_from(timeout=TIMEOUT))["order_id"] == order.pk

    async def test_the_frame_comes_once_committed_and_the_order_is_readable_then(
        self, connect, customer
    ):
        mine, _ = await connect(customer)
        product = await database_sync_to_async(ProductFactory.create)(stock=5)
        placed, commit = threading.Event(), threading.Event()

        def place_and_hold() -> int:
            """In a thread of its own (its own connection): place, wait, then commit."""
            try:
                with transaction.atomic():
                    order = order_place(
                        customer=customer, lines=[LineItem(product_id=product.pk, quantity=1)]
                    )
                    placed.set()
                    assert commit.wait(TIMEOUT)
                return order.pk
            finally:
                connection.close()

        holding = asyncio.ensure_future(asyncio.to_thread(place_and_hold))
        assert await asyncio.to_thread(placed.wait, TIMEOUT)
        assert await mine.receive_nothing(timeout=SILENCE)  # placed, not committed: no frame
        commit.set()
        frame = await mine.receive_json_from(timeout=TIMEOUT)
        # Read on another connection than the writer's: the frame came after the commit.
        exists = Order.objects.filter(pk=frame["order_id"]).exists
        assert await database_sync_to_async(exists)()
        assert frame["order_id"] == await holding

    async def test_when_an_admin_action_changes_an_order(self, connect, customer):
        admin = await database_sync_to_async(StaffFactory.create)(is_superuser=True)
        order = await place(customer)
        mine, _ = await connect(customer)
        everyone, _ = await connect(admin)

        @database_sync_to_async
        def mark_paid() -> int:
            client = Client()
            client.force_login(admin)
            response = client.post(
                reverse("admin:orders_order_changelist"),
                {"action": "mark_paid", "_selected_action": [order.pk]},
            )
            return response.status_code

        assert await mark_paid() == 302
        for ws in (mine, everyone):
            frame = await ws.receive_json_from(timeout=TIMEOUT)
            assert (frame["order_id"], frame["kind"], frame["status"], frame["actor"]) == (
                order.pk,
                "status_changed",
                "paid",
                admin.email,
            )

    async def test_when_cancel_stale_orders_cancels_an_order_with_the_system_as_actor(
        self, connect, customer
    ):
        stale = await database_sync_to_async(OrderFactory.create)(
            customer=customer, created_at=timezone.now() - timedelta(days=2)
        )
        mine, _ = await connect(customer)

        await database_sync_to_async(call_command)(
            "cancel_stale_orders", "--older-than", "1h", stdout=StringIO()
        )

        frame = await mine.receive_json_from(timeout=TIMEOUT)
        assert frame["order_id"] == stale.pk
        assert (frame["kind"], frame["from_status"], frame["status"], frame["actor"]) == (
            "status_changed",
            "pending",
            "cancelled",
            None,
        )


@pytest.fixture
def recorded_errors() -> Iterator[list[logging.LogRecord]]:
    """Records what orders.events logs (the run may disable pytest's caplog plugin)."""
    records: list[logging.LogRecord] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Recorder(level=logging.ERROR)
    logger = logging.getLogger("orders.events")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TestAFailingChannelLayer:
    def test_is_logged_and_does_not_fail_the_committed_change(
        self, settings, customer, staff, recorded_errors
    ):
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                # Nothing listens there: every send fails to connect.
                "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}"]},
            }
        }
        channel_layers.backends.clear()
        product = ProductFactory.create(stock=5)

        order = order_place(customer=customer, lines=[LineItem(product_id=product.pk, quantity=1)])
        order_transition(order=order, to_status=Order.Status.PAID, actor=staff)

        order.refresh_from_db()
        assert order.status == Order.Status.PAID
        assert order.events.count() == 2
        assert recorded_errors, "the failed broadcast was not logged"
        assert all(record.exc_info for record in recorded_errors)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
class TestConnectingAndDisconnecting:
    def count_database_connections(self) -> int:
        """Server connections to the test database, counted over a connection of its own."""
        db = connection.settings_dict
        with psycopg.connect(
            dbname=db["NAME"],
            user=db["USER"],
            password=db["PASSWORD"] or None,
            host=db["HOST"],
            port=db["PORT"] or None,
        ) as probe:
            row = probe.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert row is not None
        return int(row[0])

    async def test_200_times_leaves_the_number_of_database_connections_unchanged(
        self, connect, customer
    ):
        key = await database_sync_to_async(session_key)(customer)

        async def connect_and_disconnect() -> None:
            ws, connected = await connect(session=key)
            assert connected
            await ws.disconnect(timeout=TIMEOUT)

        # Warm up, so the pool holds the connections it needs for this pattern.
        for _ in range(3):
            await connect_and_disconnect()
        before = await asyncio.to_thread(self.count_database_connections)
        for _ in range(200):
            await connect_and_disconnect()
        after = await asyncio.to_thread(self.count_database_connections)

        assert after == before
