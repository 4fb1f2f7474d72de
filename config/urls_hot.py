"""The hot-path worker's URLconf (config.settings_hot): the fast path and the probes."""

from django.urls import include, path

from api.plain import fast
from runtime import health

urlpatterns = [
    path("api/fast/", include((fast.urlpatterns, "fast"))),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

handler400 = "runtime.errors.bad_request"
handler403 = "runtime.errors.permission_denied"
handler404 = "runtime.errors.page_not_found"
handler500 = "runtime.errors.server_error"
