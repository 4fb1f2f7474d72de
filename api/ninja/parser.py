"""The ninja style's body parser: JSON objects only, 415 for anything else."""

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.parser import Parser
from ninja.types import DictStrAny


class UnsupportedMediaType(HttpError):
    def __init__(self, content_type: str) -> None:
        super().__init__(415, f'Unsupported media type "{content_type}": send application/json.')


class JSONOnlyParser(Parser):
    """ninja parses any body as JSON whatever its Content-Type; the contract wants 415.

    ninja wraps whatever the parser raises in a 400 `HttpError` (keeping it as `__cause__`);
    `http_error` below answers with the cause when it is an `HttpError` itself. A body nested
    deeper than Python's json can recurse gets a 400 naming that, not the RecursionError's text.
    Every body here is an object: ninja would read `[]`, `5` or `null` as `{}`, which a PATCH
    whose fields are all optional accepts as a change of nothing.
    """

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        content_type = request.content_type or ""
        if content_type.lower() != "application/json":
            raise UnsupportedMediaType(content_type)
        try:
            data = super().parse_body(request)
        except RecursionError:
            raise HttpError(400, "Cannot parse request body (JSON nested too deeply).") from None
        if not isinstance(data, dict):
            raise HttpError(400, "The body must be a JSON object.")
        return data
