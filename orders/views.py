"""Server-rendered pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

# The API prefixes of PRODUCT.md; `served` turns true as each style lands.
API_STYLES = [
    {
        "prefix": "/api/drf/",
        "style": "Django REST Framework: viewsets, serializers",
        "served": False,
    },
    {"prefix": "/api/ninja/", "style": "django-ninja: async, typed", "served": False},
    {"prefix": "/api/plain/async/", "style": "Plain Django, async ORM", "served": False},
    {"prefix": "/api/plain/sync/", "style": "Plain Django, Flask-style sync", "served": False},
]


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"api_styles": API_STYLES})
