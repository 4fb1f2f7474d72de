from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone

from runtime.admin_lookups import BoundedLookups
from runtime.throttle import CACHE_ERRORS
from users.models import LoginLockout, LoginLockoutQuerySet, Token, User
from users.services import login_unlock


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


class ActiveLockoutFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Locked now"), ("over", "Over")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        lockouts = cast(LoginLockoutQuerySet, queryset)  # the admin's: LoginLockout.objects'
        if self.value() == "active":
            return lockouts.in_force()
        if self.value() == "over":
            return lockouts.over()
        return lockouts


@admin.register(LoginLockout)
class LoginLockoutAdmin(BoundedLookups[LoginLockout], admin.ModelAdmin[LoginLockout]):
    """Password-login lockouts (users.backends), newest first: who, since when, until when.
    Staff lift one early with the "Unlock" action; the record stays, naming who lifted it."""

    list_display = ("who", "kind", "locked_at", "until", "locked_now", "unlocked_by")
    list_filter = (ActiveLockoutFilter, "kind")
    search_fields = ("who",)
    readonly_fields = ("kind", "who", "locked_at", "until", "unlocked_by")
    fields = readonly_fields
    date_hierarchy = "locked_at"
    actions = ["unlock"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written by the login throttle only

    @admin.display(boolean=True, description="locked now")
    def locked_now(self, lockout: LoginLockout) -> bool:
        return lockout.active

    @admin.action(description="Unlock: let them try again now", permissions=["change"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[LoginLockout]) -> None:
        actor = cast(User, request.user)  # the admin is for staff users
        lifted = over = 0
        try:
            for lockout in queryset:
                if login_unlock(lockout=lockout, actor=actor):
                    lifted += 1
                else:
                    over += 1
        except CACHE_ERRORS:
            self.message_user(
                request,
                "The login throttle's counters are unavailable (Redis): the rest stay locked.",
                messages.ERROR,
            )
        self.message_user(request, f"Unlocked {lifted} lockout(s).", messages.SUCCESS)
        if over:
            self.message_user(request, f"{over} lockout(s) were over already.", messages.WARNING)
