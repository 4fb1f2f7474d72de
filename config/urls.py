from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api.ninja.api import api as ninja_api
from api.plain import fast
from api.plain import users as plain
from orders import views as order_views
from runtime import health
from users import views as user_views
from users.forms import AdminLoginForm, LoginForm

admin.site.site_header = "orderdesk"
admin.site.site_title = "orderdesk admin"
admin.site.index_title = "Order desk"
admin.site.login_form = AdminLoginForm

urlpatterns = [
    # First: Django tries the patterns in order, and this is the hot path (api/plain/fast.py).
    path("api/fast/", include((fast.urlpatterns, "fast"))),
    path("", order_views.home, name="home"),
    path("compare/", order_views.compare, name="compare"),
    path("orders/", order_views.order_list_page, name="order-list"),
    path("orders/board/", order_views.order_board_page, name="order-board"),
    path("orders/<int:order_id>/", order_views.order_detail_page, name="order-detail"),
    path(
        "orders/<int:order_id>/move/",
        order_views.order_transition_page,
        name="order-transition",
    ),
    path("orders/new/", order_views.order_new_page, name="order-new"),
    path("products/", order_views.catalogue_page, name="catalogue"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=LoginForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", user_views.signup_page, name="signup"),
    # Django's own views and token generator; the templates are in templates/registration/.
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    # Probes: exempt from the HTTPS redirect (settings.SECURE_REDIRECT_EXEMPT).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/drf/", include("api.drf.urls")),
    path("api/ninja/", ninja_api.urls),
    path("api/plain/async/", include((plain.async_urlpatterns, "plain_async"))),
    path("api/plain/sync/", include((plain.sync_urlpatterns, "plain_sync"))),
]

# JSON, not HTML, for errors Django itself answers under /api/ (a body over the upload limit,
# an unknown path, a crash); pages keep Django's templates.
handler400 = "runtime.errors.bad_request"
handler403 = "runtime.errors.permission_denied"
handler404 = "runtime.errors.page_not_found"
handler500 = "runtime.errors.server_error"
