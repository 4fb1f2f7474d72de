"""Settings of the hot-path worker: the fast path and the probes, in a process of their own.

`config.asgi_hot` serves `GET /api/fast/users/{id}/orders` (api/plain/fast.py) with these: the
same database, secret key, security middleware, sessions and auth as `config.settings`, which
this module starts from, but only the apps that endpoint needs. Admin, DRF, ninja, Channels,
messages and static files stay out of the process, and so does their memory: 61 MiB of RSS
after start-up against the full worker's 87 (docs/benchmarks.md).

A deployment that wants it runs a few of these workers beside the monolith's, and its proxy
routes `/api/fast/` to them (README, "The hot-path worker"). Everything else answers 404 here.
"""

from config.settings import *  # noqa: F403 (this worker is the monolith's settings, fewer apps)
from config.settings import MIDDLEWARE

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",  # a browser session authenticates the fast path too
    "users",
    "orders",
    "runtime.apps.ProjectConfig",
]
# The same stack as the monolith's, but messages (no app, no page that shows one) and static
# files (the monolith's workers serve them: the proxy sends only /api/fast/ here).
_left_out = {"runtime.middleware.MessageMiddleware", "runtime.staticfiles.serve_static"}
MIDDLEWARE = [path for path in MIDDLEWARE if path not in _left_out]
ROOT_URLCONF = "config.urls_hot"
ASGI_APPLICATION = "config.asgi_hot.application"
# Nothing served here writes, so nothing enqueues a task; were something to, it would run here
# and now rather than need the task table's app (django_tasks_db) in this worker.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
