"""Settings for `bench.peers.bolt_app`: the project's own, with django-bolt installed.

`runbolt` is a management command of the `django_bolt` app and serves the APIs that
`BOLT_API` names. Production settings otherwise (the bench's environment: DEBUG off, the
database pool, UTC).

Run: `python manage.py runbolt --settings bench.peers.bolt_settings --processes 1 ...`
(`bench.servers` has the exact command, server kind "bolt").
"""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_bolt"]
BOLT_API = ["bench.peers.bolt_app:api"]
