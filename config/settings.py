"""orderdesk settings, read from the environment.

Development needs nothing set: SQLite in the project folder, debug on, a throwaway secret key.
Production sets DJANGO_DEBUG=0, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL.
"""

import ipaddress
import os
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

# Lets admin.ModelAdmin[Product] and QuerySet[Order] be written at run time as mypy reads them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG: bool = env.bool("DJANGO_DEBUG", default=True)

if DEBUG:
    SECRET_KEY: str = env.str(
        "DJANGO_SECRET_KEY", default="django-insecure-orderdesk-development-only-key"
    )
else:
    try:
        SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    except ImproperlyConfigured:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off: generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        ) from None

ALLOWED_HOSTS: list[str] = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
if not DEBUG and "*" in ALLOWED_HOSTS:
    # "*" accepts any Host header: forged password-reset links, poisoned caches.
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must not contain '*' when DJANGO_DEBUG is off: list the host "
        "names this site answers to, such as 'orderdesk.example.com'."
    )
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Origins a browser's socket (/ws/orders/) may come from: scheme, host and port, exactly. In
# production the site's own, over HTTPS; while debugging any scheme and port of the allowed
# hosts (runserver's :8000). DJANGO_WEBSOCKET_ORIGINS lists them: "https://desk.example.com".
WEBSOCKET_ALLOWED_ORIGINS: list[str] = env.list(
    "DJANGO_WEBSOCKET_ORIGINS",
    default=list(ALLOWED_HOSTS) if DEBUG else [f"https://{host}" for host in ALLOWED_HOSTS],
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "servestatic",  # its configuration checks
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "ninja",
    "channels",
    # The durable task backend: tasks as rows, run by `manage.py db_worker` (TASKS below).
    "django_tasks_db",
    "users",
    "orders",
    "runtime.apps.ProjectConfig",
]
# Daphne's runserver serves WebSockets as well as HTTP: development's `runserver` (and
# ./scripts/demo) get it first. Production serves config.asgi with uvicorn, and Daphne as an app
# imports Twisted into every worker (27 MiB of RSS each, docs/benchmarks.md).
if env.bool("DJANGO_DAPHNE_RUNSERVER", default=DEBUG):
    INSTALLED_APPS.insert(0, "daphne")

# Django's default stack, in subclasses that skip the thread hop per middleware under ASGI
# (runtime/middleware.py says which may still hop, and when). Django's deployment checks see
# them as Django's own (runtime/checks.py), so none is silenced.
MIDDLEWARE = [
    "runtime.middleware.SecurityMiddleware",
    # Static files (ServeStatic's middleware, runtime/staticfiles.py): right after the HTTPS
    # redirect and the security headers, before anything that reads a session or the database.
    "runtime.staticfiles.serve_static",
    "runtime.middleware.ContentSecurityPolicyMiddleware",
    "runtime.middleware.SessionMiddleware",
    "runtime.middleware.CommonMiddleware",
    "runtime.middleware.CsrfViewMiddleware",
    "runtime.middleware.AuthenticationMiddleware",
    "runtime.middleware.MessageMiddleware",
    "runtime.middleware.XFrameOptionsMiddleware",
    # Last, so its process_exception sees a view's error first: a database outage is a 503.
    "runtime.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Channels ---------------------------------------------------------------------------------
# One process: the in-memory layer. More processes (several ASGI workers, or WSGI and ASGI
# side by side) need a shared layer so an event caused in one reaches sockets held by another.
REDIS_URL: str | None = env.str("REDIS_URL", default=None)
CHANNEL_LAYERS: dict[str, dict[str, Any]] = (
    {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    if REDIS_URL
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",  # {{ csp_nonce }}
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite is the embedded default; a postgres:// URL selects psycopg 3 with Django's pool.
DATABASES: dict[str, dict[str, Any]] = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.postgresql":
    # Django's pool owns the connections, so persistent connections must stay off.
    _db["CONN_MAX_AGE"] = 0
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
        "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),
        # While the server is down the pool retries with a doubling delay; giving up after this
        # many seconds lets the next request start afresh, so recovery is not minutes late.
        "reconnect_timeout": env.float("DB_POOL_RECONNECT_TIMEOUT", default=10.0),
    }
    # A server that does not answer (a dead host, a black-holed network) fails a connection
    # attempt after this many seconds, not psycopg's default 130 (the minimum is 2).
    _db["OPTIONS"].setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=3))
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two writers queue up
    # instead of one failing with "database is locked" when it upgrades its read lock.
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

# The hot async reads (runtime/asyncdb.py): "psycopg", an async connection pool of their own on
# PostgreSQL; "django", Django's connection through sync_to_async (the test settings).
ASYNC_DB: str = env.str("ASYNC_DB", default="psycopg")
if ASYNC_DB not in {"psycopg", "django"}:
    raise ImproperlyConfigured(f'ASYNC_DB must be "psycopg" or "django", not "{ASYNC_DB}".')

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
# Password logins through the `login` rate (users/backends.py), whatever the entry point.
AUTHENTICATION_BACKENDS = ["users.backends.ThrottledModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# Password-reset links (Django's token generator) stay valid this long: one hour.
PASSWORD_RESET_TIMEOUT = 60 * 60

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- APIs ----------------------------------------------------------------------------------
# Shared by every API style, so that they agree on limits and rates.
API_PAGE_SIZE = 20
API_MAX_PAGE_SIZE = 100
# Seconds POST orders/ remembers an Idempotency-Key and replays its first answer; an older key
# places a new order. `manage.py purge_idempotency_keys` clears expired keys.
IDEMPOTENCY_KEY_TTL: int = env.int("IDEMPOTENCY_KEY_TTL", default=24 * 60 * 60)
# Against hoarding (issue 14): the units one customer may hold in unpaid (pending) orders, and
# the minutes a pending order keeps its stock before `manage.py cancel_stale_orders` (run it
# every few minutes) cancels it and puts the stock back on sale.
ORDER_MAX_UNPAID_UNITS: int = env.int("ORDER_MAX_UNPAID_UNITS", default=200)
ORDER_RESERVATION_MINUTES: int = env.int("ORDER_RESERVATION_MINUTES", default=30)
if ORDER_MAX_UNPAID_UNITS < 1 or ORDER_RESERVATION_MINUTES < 1:
    raise ImproperlyConfigured(
        "ORDER_MAX_UNPAID_UNITS and ORDER_RESERVATION_MINUTES must be whole numbers above 0."
    )
# Seconds an API token (POST auth/token) authenticates after it is issued; an older one is
# refused as an unknown one is. 30 days: a client logs in again about monthly.
API_TOKEN_LIFETIME: int = env.int("API_TOKEN_LIFETIME", default=30 * 24 * 60 * 60)
if API_TOKEN_LIFETIME <= 0:
    raise ImproperlyConfigured("API_TOKEN_LIFETIME must be a positive number of seconds.")
# Requests per period, per client (user, or IP address when anonymous). "signup" guards the
# open POST users/, "token" the password check of POST auth/token, "orders" each user's
# POST orders/ (placing orders takes stock: a script must not empty the shelves).
API_THROTTLE_RATES: dict[str, str] = {
    "anon": env.str("API_THROTTLE_ANON", default="60/min"),
    "user": env.str("API_THROTTLE_USER", default="600/min"),
    "signup": env.str("API_THROTTLE_SIGNUP", default="10/hour"),
    "token": env.str("API_THROTTLE_TOKEN", default="20/min"),
    "orders": env.str("API_THROTTLE_ORDERS", default="60/min"),
    # Password attempts per account and per address, on every login (users/backends.py).
    "login": env.str("API_THROTTLE_LOGIN", default="10/hour"),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.drf.auth.BearerOrTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "api.drf.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.drf.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.drf.throttles.ClientThrottle",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.drf.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "orderdesk API (Django REST Framework)",
    "DESCRIPTION": "Customers, products and orders: the DRF style of the orderdesk contract.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# The throttles' counters (api/throttle.py). One process: in memory. More: Redis, so that
# every worker counts in the same window and each rate holds in total, not per process.
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "orderdesk",
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "orderdesk"}
    )
}

# --- Email ------------------------------------------------------------------------------------
# EMAIL_URL, django-environ's form: `consolemail://` (printed on stdout: development's and the
# demo's default), `smtp://user:password@host:25`, `smtp+tls://...:587`, `smtp+ssl://...:465`.
# With debug off the default is the host's own mail server, smtp://localhost:25.
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
_email_options: dict[str, Any] = {}
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
    _email_options = {
        "host": _email["EMAIL_HOST"],
        "port": _email["EMAIL_PORT"],
        "username": _email["EMAIL_HOST_USER"] or "",
        "password": _email["EMAIL_HOST_PASSWORD"] or "",
        "use_tls": bool(_email.get("EMAIL_USE_TLS")),
        "use_ssl": bool(_email.get("EMAIL_USE_SSL")),
        # Seconds an SMTP connection may block: a hung mail server fails the attempt (retried).
        "timeout": env.int("EMAIL_TIMEOUT", default=10),
    }
elif _email["EMAIL_FILE_PATH"]:
    _email_options = {"file_path": _email["EMAIL_FILE_PATH"]}
elif _email["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend":
    # The same, with long lines (a reset link) printed whole rather than quoted-printable.
    _email["EMAIL_BACKEND"] = "runtime.mail.ConsoleBackend"
# Django 6.1's mailers (EMAIL_BACKEND, EMAIL_HOST and the like are deprecated).
MAILERS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _email_options}
}
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="orderdesk <noreply@localhost>")
SERVER_EMAIL: str = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Where links in emails sent outside a request point (the order emails): the site's own URL.
SITE_URL: str = env.str(
    "DJANGO_SITE_URL",
    default="http://127.0.0.1:8000" if DEBUG else f"https://{(ALLOWED_HOSTS or ['localhost'])[0]}",
).rstrip("/")

# --- Background tasks (django.tasks) ------------------------------------------------------------
# "database": django-tasks-db, each task a row that `manage.py db_worker` runs (durable: a task
# enqueued survives a restart); "immediate": run in the process that enqueues, when it enqueues.
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
_tasks_backend: str = env.str("DJANGO_TASKS_BACKEND", default="database")
if _tasks_backend not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"DJANGO_TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {_tasks_backend!r}."
    )
TASKS: dict[str, dict[str, Any]] = {"default": {"BACKEND": _TASK_BACKENDS[_tasks_backend]}}
# An order email the mail server refuses for now (a 4xx answer, a lost or refused connection)
# is tried again, up to this many attempts in all, after ORDER_EMAIL_RETRY_DELAY seconds, then
# twice that, and so on (orders/tasks.py).
ORDER_EMAIL_MAX_ATTEMPTS: int = env.int("ORDER_EMAIL_MAX_ATTEMPTS", default=5)
ORDER_EMAIL_RETRY_DELAY: float = env.float("ORDER_EMAIL_RETRY_DELAY", default=60.0)
if ORDER_EMAIL_MAX_ATTEMPTS < 1 or ORDER_EMAIL_RETRY_DELAY < 0:
    raise ImproperlyConfigured(
        "ORDER_EMAIL_MAX_ATTEMPTS must be 1 or more and ORDER_EMAIL_RETRY_DELAY 0 or more."
    )

# --- Internationalisation and time ----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
# The workers serve them (ServeStatic's middleware, above) from STATIC_ROOT, where
# `manage.py collectstatic --noinput` puts them before the workers start: each file under a name
# with a hash of its content (`base.5af66c1b1797.css`), which `{% static %}` writes into the
# pages and which is cached for ten years (`immutable`), and gzip-compressed beside it. While
# debugging `{% static %}` writes the plain names and the files come from the apps' folders.
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security -------------------------------------------------------------------------------
# The proxies in front of the workers, whose X-Forwarded-For and X-Forwarded-Proto give the
# client's address (every throttle counts by it) and scheme (runtime/proxy.py): addresses or
# networks, `*` for any peer (only where nothing else can reach the workers). None by default:
# the peer is the client and those headers are ignored. DJANGO_SECURE_SSL_REDIRECT=0 when the
# proxy already redirects.
TRUSTED_PROXIES: list[str] = env.list("DJANGO_TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        if _proxy != "*":
            ipaddress.ip_network(_proxy)
    except ValueError:
        raise ImproperlyConfigured(
            f"DJANGO_TRUSTED_PROXIES: {_proxy!r} is not an IP address, a network or *."
        ) from None
if "DJANGO_SECURE_PROXY_SSL_HEADER" in os.environ:
    # It trusted X-Forwarded-Proto from any peer; the proxy rule above trusts it from the proxy.
    raise ImproperlyConfigured(
        "DJANGO_SECURE_PROXY_SSL_HEADER is gone: set DJANGO_TRUSTED_PROXIES to the proxy's "
        "address instead (its X-Forwarded-Proto is then believed, and only its)."
    )
SECURE_SSL_REDIRECT: bool = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Load-balancer probes (runtime/health.py) speak plain HTTP to the worker.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS: int = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response: only this origin's scripts, styles, images and
# connections (WebSockets included); inline <style>/<script> only with the request's nonce
# (`nonce="{{ csp_nonce }}"`). Both Swagger UIs (/api/ninja/docs, /api/drf/docs/) run on the
# swagger-ui copy ninja ships in its static files (templates/drf_spectacular/ points DRF's at
# it too, instead of a CDN), so they need no exception; swagger-ui draws icons as data: SVGs.
# DRF's browsable API works, but loses its inline styles (JSON colouring, two floats).
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # Django's own "django" logger already writes to the console; do not print its lines twice.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
