"""Test settings: the real ones, with a fast password hasher."""

from config.settings import *  # noqa: F403
from config.settings import DATABASES, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The concurrency tests hold twenty connections at once.
if "pool" in DATABASES["default"].get("OPTIONS", {}):
    DATABASES["default"]["OPTIONS"]["pool"]["max_size"] = 40
# The hot async reads run on the test connection, which sees the test transaction
# (runtime/asyncdb.py); the live-server tests start servers with the production value.
ASYNC_DB = "django"
# The suite's own process counts throttles in memory whatever REDIS_URL says (each test starts
# with none); the multi-process tests start servers that count in Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Django's plain storage: pages name the files as they are (`/static/orders/live.js`) with no
# collectstatic first. The production storage (a manifest of hashed names) needs collectstatic,
# and pytest-django turns debug off, where it refuses a name its manifest lacks:
# tests/ops/test_static_production.py collects the files and serves them as production does.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# ServeStatic's middleware, in process, the same whether debug was on when an application was
# built (the suite builds config.asgi's at import, before pytest-django turns debug off) or off:
# it indexes nothing (a STATIC_ROOT filled by a collectstatic: a fifth of a second per test
# client) and looks nothing up per request (autorefresh: a thread hop before every view). Tests
# that serve files turn on SERVESTATIC_USE_FINDERS.
SERVESTATIC_AUTOREFRESH = False
SERVESTATIC_USE_FINDERS = False
SERVESTATIC_USE_STATIC_ROOT = False
# Tasks (the order emails) run where they are enqueued, into Django's test outbox (locmem):
# no worker adds anything there. The tests of the worker start one on the database backend.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
