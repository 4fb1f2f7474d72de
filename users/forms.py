"""The account forms: Django's login forms, saying so when a login is throttled
(`users.backends`), and the sign-up page's form over `users.services.user_create`."""

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from .models import AGE_MAX, AGE_MIN, EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, User
from .services import user_create
from .validators import UnicodeTextValidator


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


class SignUpForm(forms.Form):
    """The sign-up page: the API's sign-up fields, and the password typed twice.

    Types, lengths and ranges are checked here; everything else (a taken or malformed email, a
    weak password) by `user_create`, whose refusals are shown next to their fields. Text UTF-8
    cannot encode (a lone surrogate) is refused as in every API style.
    """

    email = forms.EmailField(
        label="Email address",
        max_length=EMAIL_MAX_LENGTH,
        validators=[UnicodeTextValidator()],
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        validators=[UnicodeTextValidator()],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    age = forms.IntegerField(min_value=AGE_MIN, max_value=AGE_MAX)
    password = forms.CharField(
        strip=False,
        validators=[UnicodeTextValidator()],
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password, again = cleaned.get("password"), cleaned.get("password_again")
        if password is not None and again is not None and password != again:
            self.add_error("password_again", "The two passwords differ.")
        return cleaned

    def save(self) -> User:
        """Sign the customer up; refusals become the form's errors.

        Raises:
            django.core.exceptions.ValidationError: `user_create` refused (the errors are on
                the form too).
        """
        data = self.cleaned_data
        try:
            return user_create(
                email=data["email"], name=data["name"], age=data["age"], password=data["password"]
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
            raise
