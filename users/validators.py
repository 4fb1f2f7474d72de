"""Validators the models share with every input path (API styles, admin, services)."""

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible


@deconstructible
class UnicodeTextValidator:
    """Refuse text UTF-8 cannot encode: a lone UTF-16 surrogate, which JSON's "\\ud800" writes
    and no database, password hasher or encoder takes."""

    message = "Must be valid Unicode text."
    code = "invalid_unicode"

    def __call__(self, value: object) -> None:
        try:
            str(value).encode()
        except UnicodeEncodeError:
            raise ValidationError(self.message, code=self.code) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnicodeTextValidator)

    def __hash__(self) -> int:
        return hash(type(self))
