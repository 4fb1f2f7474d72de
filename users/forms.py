"""The login forms: Django's, saying so when a login is throttled (`users.backends`)."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest


class ThrottledLoginMixin:
    """`get_invalid_login_error` (Django's hook) names the lockout instead of a bad password."""

    request: HttpRequest | None

    def get_invalid_login_error(self) -> ValidationError:
        refusal = getattr(self.request, "login_throttled", None)
        if refusal is not None:
            minutes = max(1, round(refusal.retry_after / 60))
            return ValidationError(
                f"Too many login attempts. Try again in about {minutes} minute(s).",
                code="throttled",
            )
        return super().get_invalid_login_error()  # type: ignore[misc]


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
