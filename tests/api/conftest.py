"""Fixtures for the contract suite: one client per API style, speaking JSON with a token."""

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from users.models import User
from users.services import token_issue

# Every style and its prefix. The plain styles serve `users/{id}/orders`, `users/` and
# `auth/token` only, the fast path `users/{id}/orders` only.
STYLES = {
    "drf": "/api/drf/",
    "ninja": "/api/ninja/",
    "plain-async": "/api/plain/async/",
    "plain-sync": "/api/plain/sync/",
    "fast": "/api/fast/",
    # The article's endpoint in the tuned and raw tiers of DRF and ninja (docs/benchmarks.md).
    "drf-tuned": "/api/drf/tuned/",
    "drf-raw": "/api/drf/raw/",
    "ninja-tuned": "/api/ninja/tuned/",
    "ninja-raw": "/api/ninja/raw/",
}
FULL_STYLES = ["drf", "ninja"]
ALL_STYLES = ["drf", "ninja", "plain-async", "plain-sync"]
# The styles of `GET users/{id}/orders`: every tier of every style.
READ_STYLES = [*ALL_STYLES, "fast", "drf-tuned", "drf-raw", "ninja-tuned", "ninja-raw"]


@dataclass
class Api:
    """One API style: requests relative to its prefix, authenticated by a bearer token."""

    style: str
    client: Client

    @property
    def prefix(self) -> str:
        return STYLES[self.style]

    def _headers(self, user: User | None, headers: dict[str, str] | None) -> dict[str, str]:
        all_headers = dict(headers or {})
        if user is not None:
            all_headers["Authorization"] = f"Bearer {token_issue(user=user)}"
        return all_headers

    def get(self, path: str, *, user: User | None = None, **params: Any) -> Any:
        return self.client.get(self.prefix + path, params, headers=self._headers(user, None))

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        user: User | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
    ) -> Any:
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(
            self.prefix + path,
            data,
            content_type=content_type,
            headers=self._headers(user, headers),
        )

    def delete(self, path: str, *, headers: dict[str, str] | None = None) -> Any:
        return self.client.delete(self.prefix + path, headers=headers)

    def patch(self, path: str, body: Any, *, user: User | None = None) -> Any:
        return self.client.patch(
            self.prefix + path,
            json.dumps(body),
            content_type="application/json",
            headers=self._headers(user, None),
        )

    def error_fields(self, response: Any) -> set[str]:
        """The field names a validation error names, whatever the style's shape."""
        body = response.json()
        if self.style == "drf":
            return _drf_fields(body)
        if self.style == "ninja":
            return {str(part) for item in body["detail"] for part in item["loc"][1:]}
        return set(body["errors"])

    @property
    def validation_status(self) -> int:
        return 422 if self.style == "ninja" else 400


def _drf_fields(body: Any, prefix: str = "") -> set[str]:
    """Every key of DRF's (possibly nested) field map: {"lines": [{"quantity": [...]}]}."""
    fields: set[str] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            fields.add(key)
            fields |= _drf_fields(value)
    elif isinstance(body, list):
        for item in body:
            fields |= _drf_fields(item)
    return fields


@pytest.fixture(params=ALL_STYLES)
def api(request: pytest.FixtureRequest, client: Client) -> Api:
    return Api(request.param, client)


@pytest.fixture(params=READ_STYLES)
def reader(request: pytest.FixtureRequest, client: Client) -> Api:
    """Every style that serves `GET users/{id}/orders`, the fast path too."""
    return Api(request.param, client)


@pytest.fixture
def every_reader(client: Client) -> dict[str, Api]:
    return {style: Api(style, client) for style in READ_STYLES}


@pytest.fixture(params=FULL_STYLES)
def full_api(request: pytest.FixtureRequest, client: Client) -> Api:
    return Api(request.param, client)


@pytest.fixture
def every_api(client: Client) -> dict[str, Api]:
    return {style: Api(style, client) for style in ALL_STYLES}
