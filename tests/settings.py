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
