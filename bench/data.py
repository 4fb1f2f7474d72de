"""The benchmark's database: migrated, seeded with bench customers, and the database wait L.

Everything here talks to PostgreSQL directly with psycopg (the database the command is given
need not be the one Django is configured with). Bench rows are recognisable and replaced on
every run: customers `bench-<payload>-<n>@bench.invalid`, products `BENCH-nnnn`.
"""

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

PROJECT = Path(__file__).resolve().parent.parent
EMAIL_DOMAIN = "bench.invalid"
PRODUCTS = 20
LINES_PER_ORDER = 2
# The bench customers' `password` field: unusable, as Django writes "no password" ("!...").
UNUSABLE_PASSWORD = "!"  # noqa: S105 (no password: the field Django checks nothing against)
# Where the real token table goes while a view that waits L stands in its place.
REAL_TOKEN_TABLE = "users_token_bench_real"  # noqa: S105 (a table name)


@dataclass(frozen=True, slots=True)
class Customer:
    """One bench customer: the endpoint's URL path and a bearer token for it."""

    user_id: int
    orders: int
    token: str

    @property
    def path(self) -> str:
        return f"users/{self.user_id}/orders"


def migrate(database_url: str) -> None:
    """`manage.py migrate` against the bench database, in a child process."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, str(PROJECT / "manage.py"), "migrate", "--noinput", "-v0"],
        env=env,
        check=True,
        cwd=PROJECT,
    )


def seed(database_url: str, payloads: list[int]) -> dict[int, Customer]:
    """Replace the bench rows: one customer per payload size with that many orders.

    Each order has two lines of bench products. Returns the customer for each payload size.
    """
    # Imported here, so that the bench package loads without Django set up (the peers use it).
    from users.services import token_digest, token_password_mac  # noqa: PLC0415

    customers: dict[int, Customer] = {}
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        restore_token_table(conn)
        _delete_bench_rows(conn)
        conn.execute(
            """
            INSERT INTO orders_product (sku, name, price, stock, is_active, created_at, updated_at)
            SELECT 'BENCH-' || lpad(g::text, 4, '0'), 'Bench product ' || g,
                   (g * 1.25 + 0.5)::numeric(12, 2), 1000000, true, now(), now()
            FROM generate_series(1, %s) g
            ON CONFLICT (sku) DO NOTHING
            """,
            (PRODUCTS,),
        )
        for number, orders in enumerate(sorted(set(payloads)), start=1):
            row = conn.execute(
                """
                INSERT INTO users_user (password, is_superuser, email, name, age, is_staff,
                                        is_active, joined_at)
                VALUES (%s, false, %s, %s, 30, false, true, now()) RETURNING id
                """,
                (
                    UNUSABLE_PASSWORD,
                    f"bench-{orders}-{number}@{EMAIL_DOMAIN}",
                    f"Bench Customer {number}",
                ),
            ).fetchone()
            assert row is not None  # noqa: S101 (INSERT ... RETURNING)
            user_id = row[0]
            _orders(conn, user_id, orders)
            key = secrets.token_urlsafe(32)
            # As `users.services.token_issue` writes it: the digest, the MAC of the password.
            conn.execute(
                "INSERT INTO users_token (digest, user_id, client, password_mac, created_at)"
                " VALUES (%s, %s, 'bench', %s, now())",
                (token_digest(key), user_id, token_password_mac(key, UNUSABLE_PASSWORD)),
            )
            customers[orders] = Customer(user_id=user_id, orders=orders, token=key)
        conn.execute("ANALYZE")
    return customers


def _delete_bench_rows(conn: psycopg.Connection) -> None:
    bench_users = f"SELECT id FROM users_user WHERE email LIKE '%%@{EMAIL_DOMAIN}'"  # noqa: S608
    bench_orders = f"SELECT id FROM orders_order WHERE customer_id IN ({bench_users})"  # noqa: S608
    conn.execute(f"DELETE FROM orders_orderline WHERE order_id IN ({bench_orders})")  # noqa: S608
    conn.execute(f"DELETE FROM orders_orderevent WHERE order_id IN ({bench_orders})")  # noqa: S608
    conn.execute(f"DELETE FROM orders_order WHERE customer_id IN ({bench_users})")  # noqa: S608
    conn.execute(f"DELETE FROM users_token WHERE user_id IN ({bench_users})")  # noqa: S608
    conn.execute(f"DELETE FROM users_user WHERE id IN ({bench_users})")  # noqa: S608


def _orders(conn: psycopg.Connection, user_id: int, count: int) -> None:
    """`count` paid orders a minute apart (odd microseconds, so times print them)."""
    conn.execute(
        """
        INSERT INTO orders_order (customer_id, status, total, idempotency_key,
                                  request_fingerprint, created_at, updated_at)
        SELECT %s, 'paid', 0, NULL, '',
               date_trunc('second', now()) - g * interval '1 minute'
                   + g * interval '7 microseconds',
               date_trunc('second', now()) - g * interval '1 minute' + interval '1 second'
        FROM generate_series(1, %s) g
        """,
        (user_id, count),
    )
    conn.execute(
        """
        INSERT INTO orders_orderline (order_id, product_id, quantity, unit_price)
        SELECT o.id, p.id, 1 + o.id %% 3, p.price
        FROM orders_order o
        CROSS JOIN LATERAL (
            SELECT id, price FROM orders_product WHERE sku LIKE 'BENCH-%%'
            ORDER BY id OFFSET o.id %% %s LIMIT %s
        ) p
        WHERE o.customer_id = %s
        """,
        (PRODUCTS - LINES_PER_ORDER, LINES_PER_ORDER, user_id),
    )
    conn.execute(
        """
        UPDATE orders_order o SET total = s.total
        FROM (SELECT order_id, sum(quantity * unit_price) AS total
              FROM orders_orderline GROUP BY order_id) s
        WHERE s.order_id = o.id AND o.customer_id = %s
        """,
        (user_id,),
    )


# --- The database wait L ------------------------------------------------------------------------


def install_wait(conn: psycopg.Connection, seconds: float) -> None:
    """Make every token lookup wait `seconds` at the database, once per query.

    The real table is renamed and a view of the same name takes its place. The view's filter is
    an uncorrelated scalar subquery, which PostgreSQL runs once per query as an InitPlan (a
    one-time filter), however many rows the query reads. No application code is involved, so
    the Django ORM's `select_related("user")` query and the peers' join wait alike.
    """
    restore_token_table(conn)
    conn.execute(f"ALTER TABLE users_token RENAME TO {REAL_TOKEN_TABLE}")
    conn.execute(
        f"CREATE VIEW users_token AS SELECT * FROM {REAL_TOKEN_TABLE} "  # noqa: S608
        f"WHERE (SELECT 1 FROM pg_sleep({float(seconds)!r})) = 1"
    )


def restore_token_table(conn: psycopg.Connection) -> None:
    """Undo `install_wait` (also after a crashed run); a no-op when nothing is installed."""
    row = conn.execute("SELECT to_regclass(%s)", (REAL_TOKEN_TABLE,)).fetchone()
    if row is None or row[0] is None:
        return
    conn.execute("DROP VIEW IF EXISTS users_token")
    conn.execute(f"ALTER TABLE {REAL_TOKEN_TABLE} RENAME TO users_token")


@contextmanager
def database_wait(database_url: str, seconds: float) -> Iterator[None]:
    """The database wait L for the duration of the block (nothing at L = 0)."""
    if seconds <= 0:
        yield
        return
    with psycopg.connect(database_url, autocommit=True) as conn:
        with conn.transaction():
            install_wait(conn, seconds)
        try:
            yield
        finally:
            with conn.transaction():
                restore_token_table(conn)
