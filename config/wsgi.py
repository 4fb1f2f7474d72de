"""WSGI entry point (sync workers)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from runtime.startup import settle  # noqa: E402 (after Django is set up)

settle()
