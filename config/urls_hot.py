"""The hot-path worker's URLconf (config.settings_hot): the fast path and the probes."""

from django.urls import include, path

from config import health
from users.api import fast

urlpatterns = [
    path("api/fast/", include((fast.urlpatterns, "fast"))),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
