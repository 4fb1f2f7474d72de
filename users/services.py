"""Writes of the users app: sign-up and API tokens."""

import hashlib
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .models import Token, User


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def user_create(*, email: str, name: str, age: int | None, password: str) -> User:
    """Sign a customer up.

    Raises:
        django.core.exceptions.ValidationError: with a message dict naming each bad field
            (email taken or malformed, name too long, age out of range, a weak password).
    """
    user = User(email=email, name=name, age=age)
    errors: dict[str, list[str]] = {}
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # A concurrent sign-up took the email between full_clean's check and the insert.
        raise ValidationError({"email": ["User with this email address already exists."]}) from None
    return user


def token_issue(*, user: User) -> str:
    """Create an API token for `user` and return its key (shown once, stored as a digest)."""
    key = secrets.token_urlsafe(32)
    Token.objects.create(user=user, digest=token_digest(key))
    return key
