"""The plain style's request bodies: JSON objects, and the sign-up and token fields checked by
hand."""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, UnreadablePostError

from api.plain.errors import ApiError, FieldErrors
from users.models import (
    AGE_MAX,
    AGE_MIN,
    CLIENT_NAME_MAX_LENGTH,
    DEFAULT_CLIENT_NAME,
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
)
from users.validators import UNICODE_TEXT_MESSAGE, is_unicode_text


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object: 415 for another content type, 400 for anything else."""
    if request.content_type != "application/json":
        raise ApiError(415, f'Unsupported media type "{request.content_type}" in request.')
    try:
        data = json.loads(request.body)
    except UnreadablePostError as error:
        raise ApiError(400, "The request body could not be read.") from error
    # ValueError covers bad syntax, bad UTF-8 and over-long integers.
    except ValueError as error:
        raise ApiError(400, "Malformed JSON.") from error
    except RecursionError:
        raise ApiError(400, "Malformed JSON: nested too deeply.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return data


@dataclass(frozen=True, slots=True)
class SignUp:
    email: str
    name: str
    age: int
    password: str


class _BadValue(Exception):
    """A field's value is refused; the message is shown to the client."""


def _text(value: object, *, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise _BadValue("Must be a string.")
    if "\x00" in value:
        raise _BadValue("Null characters are not allowed.")
    if not is_unicode_text(value):
        raise _BadValue(UNICODE_TEXT_MESSAGE)
    if not value:
        raise _BadValue("This field may not be blank.")
    if max_length is not None and len(value) > max_length:
        raise _BadValue(f"Ensure this field has no more than {max_length} characters.")
    return value


def _is_email(text: str) -> bool:
    local, _, domain = text.partition("@")
    if not local or not domain or "@" in domain:
        return False
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


def _email(value: object) -> str:
    email = _text(value, max_length=EMAIL_MAX_LENGTH)
    if not _is_email(email):
        raise _BadValue("Enter a valid email address.")
    return email


def _name(value: object) -> str:
    return _text(value, max_length=NAME_MAX_LENGTH)


def _age(value: object) -> int:
    # JSON has one number type: 36.0 is the integer 36, as DRF and ninja read it (the contract).
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int:  # not bool, a fraction, str or null
        raise _BadValue("Must be an integer.")
    if not AGE_MIN <= value <= AGE_MAX:
        raise _BadValue(f"Must be between {AGE_MIN} and {AGE_MAX}.")
    return value


def _password(value: object) -> str:
    return _text(value)


def _login_email(value: object) -> str:
    # As DRF's and ninja's `auth/token` take it: a string; the login checks it, not its format.
    return _text(value, max_length=EMAIL_MAX_LENGTH)


def _client(value: object) -> str:
    return _text(value, max_length=CLIENT_NAME_MAX_LENGTH)


_SIGN_UP_FIELDS: dict[str, Callable[[object], object]] = {
    "email": _email,
    "name": _name,
    "age": _age,
    "password": _password,
}


def validate_sign_up(data: Mapping[str, object]) -> SignUp:
    """The sign-up fields, checked by hand; unknown fields are ignored.

    Raises:
        FieldErrors: naming each missing or bad field. Password strength and a taken email
            are the domain's to judge (`users.services.user_create`).
    """
    return SignUp(**_clean(data, _SIGN_UP_FIELDS))


@dataclass(frozen=True, slots=True)
class Credentials:
    email: str
    password: str
    client: str


_CREDENTIALS_FIELDS: dict[str, Callable[[object], object]] = {
    "email": _login_email,
    "password": _password,
    "client": _client,
}


def validate_credentials(data: Mapping[str, object]) -> Credentials:
    """`POST auth/token`'s fields: email, password and the optional client name.

    Raises:
        FieldErrors: naming each missing or bad field.
    """
    return Credentials(**_clean(data, _CREDENTIALS_FIELDS, {"client": DEFAULT_CLIENT_NAME}))


def _clean(
    data: Mapping[str, object],
    fields: Mapping[str, Callable[[object], object]],
    defaults: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """Each field cleaned; a missing one takes its default, else it is refused."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, clean in fields.items():
        if field not in data:
            if defaults is not None and field in defaults:
                cleaned[field] = defaults[field]
            else:
                errors[field] = ["This field is required."]
            continue
        try:
            cleaned[field] = clean(data[field])
        except _BadValue as error:
            errors[field] = [str(error)]
    if errors:
        raise FieldErrors(errors)
    return cleaned
