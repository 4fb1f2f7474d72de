"""DRF page-number pagination with strict, clamped parameters.

DRF imports the classes named in settings.REST_FRAMEWORK while it defines `APIView`, so
this module must not import `rest_framework.views` (or anything that subclasses it) at import.
"""

from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from api.drf.fields import QUERY_POSITIVE_INTEGER


class Pagination(PageNumberPagination):
    """Page-number pagination; `page_size` is clamped to `API_MAX_PAGE_SIZE`.

    DRF's own ignores a `page_size` it cannot read (`?page_size=x` gets the default) and reads
    `?page=` as 1 and `?page=last` as the last page. Here both are integers from 1, as the schema
    says, and anything else is a 400 naming the parameter. A page past the end stays a 404.
    """

    page_size_query_param = "page_size"
    last_page_strings = ()

    def __init__(self) -> None:
        # Read per request (DRF makes one paginator per view instance), not at import.
        self.page_size = settings.API_PAGE_SIZE
        self.max_page_size = settings.API_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        # Both parameters are checked before any query, so one 400 names every bad one.
        params = _query_params(request, {"page": 1, "page_size": settings.API_PAGE_SIZE})
        self._page_number = params["page"]
        self._page_size = min(params["page_size"], settings.API_MAX_PAGE_SIZE)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int:
        return self._page_size

    def get_page_number(self, request: Request, paginator: Any) -> int:
        return self._page_number

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == "page_size":
                parameter["description"] = (
                    f"Results per page, {settings.API_PAGE_SIZE} by default; "
                    f"a larger value than {settings.API_MAX_PAGE_SIZE} counts as "
                    f"{settings.API_MAX_PAGE_SIZE}."
                )
        return parameters


def _query_params(request: Request, defaults: dict[str, int]) -> dict[str, int]:
    """Each named query parameter as a positive integer (its default when absent).

    Raises:
        rest_framework.exceptions.ValidationError: a field map naming each bad parameter.
    """
    values: dict[str, int] = {}
    errors: dict[str, Any] = {}
    for name, default in defaults.items():
        if name not in request.query_params:
            values[name] = default
            continue
        try:
            # A repeated parameter counts by its last value, as `QueryDict.get` reads it.
            values[name] = QUERY_POSITIVE_INTEGER.run_validation(request.query_params[name])
        except exceptions.ValidationError as error:
            errors[name] = error.detail
    if errors:
        raise exceptions.ValidationError(errors)
    return values
