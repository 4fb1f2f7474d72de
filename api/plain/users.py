"""The article's two handlers and the token endpoint as plain Django views, written twice.

Once as `async def` views on the async ORM (/api/plain/async/), once as sync, Flask-style
views (/api/plain/sync/). No framework: the body is read and validated by hand, auth, CSRF
and throttling are called explicitly, and every answer is a `JsonResponse`. The shared
pieces live beside them in `api.plain` (errors, bodies, auth, throttles), so what DRF and
ninja do for you is visible there.
"""

from asgiref.sync import sync_to_async
from django.contrib import auth as django_auth
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path

from orders.contract import user_document, user_orders_document_of
from orders.selectors import orders_of_customer
from users.models import User
from users.selectors import auser_visible_to, user_visible_to
from users.services import token_issue, token_revoke, user_create

from .auth import (
    aauthenticate,
    aauthenticate_token,
    aenforce_session_csrf,
    authenticate,
    authenticate_token,
    enforce_session_csrf,
)
from .bodies import read_json_object, validate_credentials, validate_sign_up
from .errors import FieldErrors, json_view, not_authenticated, not_found
from .throttles import athrottle, throttle

INVALID_CREDENTIALS = "Invalid email or password."

# --- async def views on the async ORM -----------------------------------------------------


@json_view("GET")
async def user_orders_async(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET users/{id}/orders: the user and all their orders, newest first."""
    viewer = await aauthenticate(request)
    if not viewer.is_authenticated:
        raise not_authenticated()
    await athrottle(request, user=viewer)
    user = await auser_visible_to(viewer=viewer, user_id=user_id)
    if user is None:
        raise not_found()
    orders = [order async for order in orders_of_customer(customer_id=user.pk)]
    return JsonResponse(user_orders_document_of(user, orders))


@json_view("POST")
async def user_signup_async(request: HttpRequest) -> HttpResponse:
    """POST users/: open sign-up, throttled by the client's budget and the sign-up rate."""
    await aenforce_session_csrf(request)
    await athrottle(request, user=await request.auser())
    await athrottle(request, "signup")
    sign_up = validate_sign_up(read_json_object(request))
    try:
        # Services are sync: their transaction cannot run in async code.
        user = await sync_to_async(user_create)(
            email=sign_up.email, name=sign_up.name, age=sign_up.age, password=sign_up.password
        )
    except ValidationError as error:
        raise FieldErrors(error.message_dict) from error
    return JsonResponse(user_document(user), status=201)


@json_view("POST", "DELETE")
async def token_async(request: HttpRequest) -> HttpResponse:
    """POST auth/token: a token for an email and password (one per client name), throttled by
    the client's budget and the token rate. DELETE: revoke the request's own token."""
    if request.method == "DELETE":
        viewer, key = await aauthenticate_token(request)
        await athrottle(request, user=viewer)
        await sync_to_async(token_revoke)(key=key)
        return HttpResponse(status=204)
    await aenforce_session_csrf(request)
    await athrottle(request, user=await request.auser())
    await athrottle(request, "token")
    credentials = validate_credentials(read_json_object(request))
    user = await django_auth.aauthenticate(
        request, email=credentials.email, password=credentials.password
    )
    if not isinstance(user, User):
        raise not_authenticated(INVALID_CREDENTIALS)
    key = await sync_to_async(token_issue)(user=user, client=credentials.client)
    return JsonResponse({"token": key})


# --- sync, Flask-style views --------------------------------------------------------------


@json_view("GET")
def user_orders_sync(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET users/{id}/orders: the user and all their orders, newest first."""
    viewer = authenticate(request)
    if not viewer.is_authenticated:
        raise not_authenticated()
    throttle(request, user=viewer)
    user = user_visible_to(viewer=viewer, user_id=user_id)
    if user is None:
        raise not_found()
    orders = list(orders_of_customer(customer_id=user.pk))
    return JsonResponse(user_orders_document_of(user, orders))


@json_view("POST")
def user_signup_sync(request: HttpRequest) -> HttpResponse:
    """POST users/: open sign-up, throttled by the client's budget and the sign-up rate."""
    enforce_session_csrf(request)
    throttle(request, user=request.user)
    throttle(request, "signup")
    sign_up = validate_sign_up(read_json_object(request))
    try:
        user = user_create(
            email=sign_up.email, name=sign_up.name, age=sign_up.age, password=sign_up.password
        )
    except ValidationError as error:
        raise FieldErrors(error.message_dict) from error
    return JsonResponse(user_document(user), status=201)


@json_view("POST", "DELETE")
def token_sync(request: HttpRequest) -> HttpResponse:
    """POST auth/token: a token for an email and password (one per client name), throttled by
    the client's budget and the token rate. DELETE: revoke the request's own token."""
    if request.method == "DELETE":
        viewer, key = authenticate_token(request)
        throttle(request, user=viewer)
        token_revoke(key=key)
        return HttpResponse(status=204)
    enforce_session_csrf(request)
    throttle(request, user=request.user)
    throttle(request, "token")
    credentials = validate_credentials(read_json_object(request))
    user = django_auth.authenticate(request, email=credentials.email, password=credentials.password)
    if not isinstance(user, User):
        raise not_authenticated(INVALID_CREDENTIALS)
    return JsonResponse({"token": token_issue(user=user, client=credentials.client)})


async_urlpatterns: list[URLPattern] = [
    path("users/<int:user_id>/orders", user_orders_async, name="user-orders"),
    path("users/", user_signup_async, name="user-create"),
    path("auth/token", token_async, name="token"),
]

sync_urlpatterns: list[URLPattern] = [
    path("users/<int:user_id>/orders", user_orders_sync, name="user-orders"),
    path("users/", user_signup_sync, name="user-create"),
    path("auth/token", token_sync, name="token"),
]
