"""The DRF JSON parser with Django's body-size limit.

DRF imports the classes named in settings.REST_FRAMEWORK while it defines `APIView`, so
this module must not import `rest_framework.views` (or anything that subclasses it) at import.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with Django's body-size limit, which DRF's stream reading bypasses.

    A body over `DATA_UPLOAD_MAX_MEMORY_SIZE` raises `RequestDataTooBig`, answered with 413;
    one nested deeper than Python's json can recurse a 400 (DRF's would let RecursionError out).
    """

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and isinstance(stream, HttpRequest):
            # Reading `.body` applies the limit to the declared length before reading anything.
            stream.body  # noqa: B018
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
