"""ASGI entry point of the hot-path worker: `uvicorn config.asgi_hot:application`.

HTTP only, with `config.settings_hot` (the fast path and the probes, fewer apps, less memory);
the monolith's `config.asgi` serves everything else, WebSockets included.
"""

import os

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_hot"  # this worker's, whatever is set
django.setup(set_prefix=False)

from runtime.handlers import http_application  # noqa: E402
from runtime.proxy import behind_trusted_proxies  # noqa: E402
from runtime.startup import settle  # noqa: E402

application = behind_trusted_proxies(http_application())

settle()
