"""The Django REST Framework style, under /api/drf/: a router (with the browsable API root),
the token endpoint, and the OpenAPI schema with Swagger UI."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from api.drf.orders import OrderViewSet, ProductViewSet
from api.drf.users import TokenView, UserOrdersRawView, UserOrdersTunedView, UserViewSet

router = DefaultRouter()
# `orders/` and `orders` both resolve, without a redirect that would drop a POST body. The
# constructor only takes a bool, so the pattern is set on the instance before any URL is made.
router.trailing_slash = "/?"
router.register("users", UserViewSet, basename="drf-user")
router.register("products", ProductViewSet, basename="drf-product")
router.register("orders", OrderViewSet, basename="drf-order")

urlpatterns = [
    re_path(r"^auth/token/?$", TokenView.as_view(), name="drf-token"),
    # The browsable API's "Log in" and "Log out" links.
    path("auth/", include("rest_framework.urls")),
    # The article's endpoint in the tuned and raw tiers, beside the router's idiomatic one.
    re_path(
        r"^tuned/users/(?P<pk>[0-9]{1,18})/orders/?$",
        UserOrdersTunedView.as_view(),
        name="drf-tuned-user-orders",
    ),
    re_path(
        r"^raw/users/(?P<pk>[0-9]{1,18})/orders/?$",
        UserOrdersRawView.as_view(),
        name="drf-raw-user-orders",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="drf-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="drf-schema"), name="drf-docs"),
    *router.urls,
]
