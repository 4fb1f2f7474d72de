from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .validators import UnicodeTextValidator

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

AGE_MIN = 0
AGE_MAX = 150
# Input limits every API style applies (a longer value is a validation error in each).
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 150
# An API token's client name (`POST auth/token`'s "client"): one token per user and name.
CLIENT_NAME_MAX_LENGTH = 64
DEFAULT_CLIENT_NAME = "default"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> "User":
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        # Emails are stored lower-case, so logging in is case-insensitive.
        return self.get(**{self.model.USERNAME_FIELD: (username or "").lower()})

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> "User":
        fields["is_staff"] = True
        fields["is_superuser"] = True
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address: a customer, or staff (is_staff)."""

    email = models.EmailField(
        "email address",
        max_length=EMAIL_MAX_LENGTH,
        unique=True,
        validators=[ProhibitNullCharactersValidator(), UnicodeTextValidator()],
    )
    name = models.CharField(
        max_length=NAME_MAX_LENGTH,
        validators=[ProhibitNullCharactersValidator(), UnicodeTextValidator()],
    )
    age = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(AGE_MIN), MaxValueValidator(AGE_MAX)],
        help_text=f"{AGE_MIN} to {AGE_MAX}; optional for staff.",
    )
    is_staff = models.BooleanField(
        default=False, help_text="Staff see and act on every order and may use the admin."
    )
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__gte=AGE_MIN, age__lte=AGE_MAX),
                name="user_age_in_range",
                violation_error_message=f"Age must be between {AGE_MIN} and {AGE_MAX}.",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class Token(models.Model):
    """An API token: `Authorization: Bearer <key>` (or `Token <key>` in DRF), every API style.

    Only a SHA-256 digest of the key is stored, so a leaked database does not leak logins. A
    token authenticates for `settings.API_TOKEN_LIFETIME` seconds after `created_at`, only
    while the user's password is the one it was issued under (`password_mac`), and until it
    is revoked (deleted: `DELETE auth/token`, the admin) or replaced: a user holds one token
    per client name, and issuing another for that name replaces it.
    """

    digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    client = models.CharField(
        "client name",
        max_length=CLIENT_NAME_MAX_LENGTH,
        default=DEFAULT_CLIENT_NAME,
        validators=[ProhibitNullCharactersValidator(), UnicodeTextValidator()],
        help_text="Who holds the token (a CLI, a laptop); one token per user and name.",
    )
    # HMAC-SHA256, keyed by the token's key, of the user's password hash at issue time: any
    # password change voids the token (see users.services.token_password_mac).
    password_mac = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "client"], name="token_one_per_client"),
        ]

    def __str__(self) -> str:
        return f"{self.client} token of {self.user_id}"

    @property
    def expires_at(self) -> datetime:
        """When the token stops authenticating (the lifetime setting as it is now)."""
        return self.created_at + token_lifetime()


class LoginLockoutQuerySet(models.QuerySet["LoginLockout"]):
    """The one rule of a lockout in force: its `until` is still ahead (`LoginLockout.active`
    for one row)."""

    def in_force(self) -> "LoginLockoutQuerySet":
        return self.filter(until__gt=timezone.now())

    def over(self) -> "LoginLockoutQuerySet":
        return self.filter(until__lte=timezone.now())


class LoginLockout(models.Model):
    """A password-login lockout, for staff to see and lift (`users.backends`).

    Written once per lockout, at the attempt that first passes the `login` rate: per account
    (the email typed, whoever it belongs to) or per client address. The lockout itself is the
    throttle's counter in the cache; this row is its record. It is over at `until`, or when
    staff unlock it (`users.services.login_unlock`: the counter is reset).
    """

    class Kind(models.TextChoices):
        ACCOUNT = "account", "account"
        ADDRESS = "address", "client address"

    kind = models.CharField(max_length=7, choices=Kind)
    who = models.CharField(
        max_length=EMAIL_MAX_LENGTH, help_text="The email typed, or the client's address."
    )
    # The throttle's identity (`users.backends`): the account's is hashed.
    ident = models.CharField(max_length=100, editable=False)
    locked_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField(help_text="When the lockout ends by itself.")
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff member who lifted it early, if any.",
    )

    objects = LoginLockoutQuerySet.as_manager()

    class Meta:
        ordering = ["-locked_at", "-pk"]
        indexes = [models.Index(fields=["who"]), models.Index(fields=["until"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.who}"

    @property
    def active(self) -> bool:
        return self.until > timezone.now()


def token_lifetime() -> timedelta:
    """How long a token authenticates after it is issued (`settings.API_TOKEN_LIFETIME`)."""
    return timedelta(seconds=settings.API_TOKEN_LIFETIME)


# --- Who may see what ---------------------------------------------------------------------
# The contract's one visibility rule, for users and for what they own (orders): staff see
# everyone's, a customer their own, anyone else nothing. Two forms of the same rule: a
# predicate, and a queryset filter.


def may_see(viewer: "User | AnonymousUser", owner_id: int) -> bool:
    """Whether `viewer` may see the user `owner_id`, or what that user owns."""
    if not viewer.is_authenticated or not viewer.is_active:
        return False
    return bool(viewer.is_staff) or viewer.pk == owner_id


def visible_owners(viewer: "User | AnonymousUser", owner_field: str) -> Q:
    """`may_see` as a filter on `owner_field`, the owner's id: no rows, all, or the viewer's."""
    if not viewer.is_authenticated or not viewer.is_active:
        return Q(pk__in=[])
    if viewer.is_staff:
        return Q()
    return Q(**{owner_field: viewer.pk})
