"""Validators the models share with every input path (API styles, admin, services)."""

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

UNICODE_TEXT_MESSAGE = "Must be valid Unicode text."


def is_unicode_text(value: str) -> bool:
    """Whether UTF-8 can encode `value`: not so with a lone UTF-16 surrogate ("\\ud800"),
    which JSON can write and no database, password hasher or encoder takes."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


@deconstructible
class UnicodeTextValidator:
    """Refuse text UTF-8 cannot encode: a lone UTF-16 surrogate, which JSON's "\\ud800" writes
    and no database, password hasher or encoder takes."""

    message = UNICODE_TEXT_MESSAGE
    code = "invalid_unicode"

    def __call__(self, value: object) -> None:
        if not is_unicode_text(str(value)):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnicodeTextValidator)

    def __hash__(self) -> int:
        return hash(type(self))
