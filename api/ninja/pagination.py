"""The contract's page for the ninja style's lists."""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Schema
from ninja.pagination import AsyncPaginationBase


class PagePagination(AsyncPaginationBase):
    """The contract's Page: `{count, next, previous, results}`, `page` and `page_size`.

    ninja's own PageNumberPagination answers `{items, count}` and an empty list past the end;
    the contract wants absolute `next`/`previous` links and a 404 past the last page.
    """

    items_attribute = "results"

    class Input(Schema):
        page: int = Field(1, ge=1)
        page_size: int | None = Field(None, ge=1, description="Capped at API_MAX_PAGE_SIZE.")

    class Output(Schema):
        count: int
        next: str | None
        previous: str | None
        results: list[Any]

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Input, request: HttpRequest, **params: Any
    ) -> Any:
        raise NotImplementedError("The ninja style's operations are all async.")

    async def apaginate_queryset(
        self, queryset: QuerySet[Any], pagination: Input, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        size = min(pagination.page_size or settings.API_PAGE_SIZE, settings.API_MAX_PAGE_SIZE)
        count = await queryset.acount()
        offset = (pagination.page - 1) * size
        if pagination.page > 1 and offset >= count:
            raise Http404("Invalid page.")
        results = [obj async for obj in queryset[offset : offset + size]]
        return {
            "count": count,
            "next": _page_url(request, pagination.page + 1) if offset + size < count else None,
            "previous": _page_url(request, pagination.page - 1) if pagination.page > 1 else None,
            "results": results,
        }


def _page_url(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    if page == 1:
        query.pop("page", None)
    else:
        query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{urlencode(query, doseq=True)}")
