"""Test settings: the real ones, with a fast password hasher."""

from config.settings import *  # noqa: F403
from config.settings import DATABASES

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
# Tasks (the order emails) run where they are enqueued, into Django's test outbox (locmem):
# no worker adds anything there. The tests of the worker start one on the database backend.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
