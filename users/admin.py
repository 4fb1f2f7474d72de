from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest
from django.utils import formats, timezone

from runtime.admin_lookups import BoundedLookups
from users.models import Token, User


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "age")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes: dict[str, type[forms.Field]] = {}


class TokenInline(admin.TabularInline[Token, User]):
    """The user's API tokens: client name, issued, expires; never the key (only its digest is
    kept, and not shown either). Ticking "Delete" and saving revokes a token; tokens are issued
    by `POST auth/token` only. A password change here voids them all."""

    model = Token
    fields = ("client", "created_at", "expires")
    readonly_fields = fields
    extra = 0
    can_delete = True
    verbose_name = "API token"
    verbose_name_plural = "API tokens (tick Delete and save to revoke)"

    def has_add_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False

    @admin.display(description="expires")
    def expires(self, token: Token) -> str:
        # As the admin shows a datetime field (a computed value it would print raw).
        return str(formats.localize(timezone.localtime(token.expires_at)))


@admin.register(User)
class UserAdmin(BoundedLookups[User], BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    ordering = ("email",)
    list_display = ("email", "name", "age", "is_staff", "is_active", "joined_at")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "name")
    readonly_fields = ("last_login", "joined_at")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("name", "age")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "joined_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "age", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_inlines(
        self, request: HttpRequest, obj: User | None
    ) -> list[type[admin.options.InlineModelAdmin[Any, Any]]]:
        # A user being added has no tokens yet.
        return [] if obj is None else [TokenInline]
