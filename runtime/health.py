"""Probes for a load balancer or an orchestrator.

- `GET /healthz` (liveness): the process serves HTTP. Touches nothing, so a database outage
  does not get healthy workers restarted.
- `GET /readyz` (readiness): the process can do its work: the database answers a cheap query
  and, when `REDIS_URL` is set, Redis (the channel layer) answers a ping. 503 naming what is
  down otherwise, so the balancer stops sending traffic until it is back.

Both are exempt from SECURE_SSL_REDIRECT (settings.SECURE_REDIRECT_EXEMPT): probes speak plain
HTTP to the worker. They still go through ALLOWED_HOSTS: a probe must send an allowed Host.
"""

import asyncio
import logging
from typing import Final

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from runtime.unavailable import RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)

# Seconds Redis gets to connect and to answer. The database check is bounded by the pool
# (DB_POOL_TIMEOUT) and the connection's connect_timeout.
REDIS_TIMEOUT: Final = 2.0
NO_STORE: Final = {"Cache-Control": "no-store"}


@require_safe
async def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the process serves requests; checks nothing else."""
    return JsonResponse({"status": "ok"}, headers=NO_STORE)


def _query_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _database_ok() -> bool:
    try:
        await sync_to_async(_query_database)()
    except Exception as error:  # any failure means "not ready"; a probe must not answer 500
        logger.warning("readyz: the database is unavailable: %s: %s", type(error).__name__, error)
        return False
    return True


async def _redis_ok(url: str) -> bool:
    # Imported here: only a process with REDIS_URL needs the client (60 modules, some MiB).
    import redis.asyncio as redis  # noqa: PLC0415

    client = redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
    )
    try:
        async with asyncio.timeout(REDIS_TIMEOUT * 2):
            await client.ping()
    except Exception as error:  # as above
        logger.warning("readyz: Redis is unavailable: %s: %s", type(error).__name__, error)
        return False
    finally:
        await client.aclose()
    return True


@require_safe
async def readyz(request: HttpRequest) -> JsonResponse:
    """200 `{"status": "ok", "checks": {...}}` when every dependency answers, else 503."""
    names = ["database"]
    checks = [_database_ok()]
    if settings.REDIS_URL:
        names.append("redis")
        checks.append(_redis_ok(settings.REDIS_URL))
    results = dict(zip(names, await asyncio.gather(*checks), strict=True))
    body: dict[str, object] = {
        "status": "ok",
        "checks": {name: "ok" if ok else "unavailable" for name, ok in results.items()},
    }
    down = [name for name, ok in results.items() if not ok]
    if not down:
        return JsonResponse(body, headers=NO_STORE)
    body["status"] = "unavailable"
    body["detail"] = f"Not ready: {', '.join(down)} unavailable."
    headers = {**NO_STORE, "Retry-After": str(RETRY_AFTER_SECONDS)}
    return JsonResponse(body, status=503, headers=headers)
