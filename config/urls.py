from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from orders import views as order_views

admin.site.site_header = "orderdesk"
admin.site.site_title = "orderdesk admin"
admin.site.index_title = "Order desk"

urlpatterns = [
    path("", order_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
