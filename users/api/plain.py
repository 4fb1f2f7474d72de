"""The article's two handlers as plain Django views, written twice.

Once as `async def` views on the async ORM (/api/plain/async/), once as sync, Flask-style
views (/api/plain/sync/). No framework: the body is read and validated by hand, auth, CSRF
and throttling are called explicitly, and every answer is a `JsonResponse`. The shared
pieces live in `plain_support`, so what DRF and ninja do for you is visible there.
"""

from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path

from orders.selectors import orders_of_customer
from users.selectors import auser_visible_to, user_visible_to
from users.services import user_create

from .plain_support import (
    FieldErrors,
    aauthenticate,
    aenforce_session_csrf,
    athrottle,
    authenticate,
    enforce_session_csrf,
    json_view,
    not_authenticated,
    not_found,
    order_json,
    read_json_object,
    throttle,
    user_json,
    validate_sign_up,
)

# --- async def views on the async ORM -----------------------------------------------------


@json_view("GET")
async def user_orders_async(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET users/{id}/orders: the user and all their orders, newest first."""
    viewer = await aauthenticate(request)
    if not viewer.is_authenticated:
        raise not_authenticated()
    user = await auser_visible_to(viewer=viewer, user_id=user_id)
    if user is None:
        raise not_found()
    orders = [order async for order in orders_of_customer(customer_id=user.pk)]
    return JsonResponse({"user": user_json(user), "orders": [order_json(o) for o in orders]})


@json_view("POST")
async def user_signup_async(request: HttpRequest) -> HttpResponse:
    """POST users/: open sign-up, throttled per client."""
    await aenforce_session_csrf(request)
    await athrottle(request, "signup")
    sign_up = validate_sign_up(read_json_object(request))
    try:
        # Services are sync: their transaction cannot run in async code.
        user = await sync_to_async(user_create)(
            email=sign_up.email, name=sign_up.name, age=sign_up.age, password=sign_up.password
        )
    except ValidationError as error:
        raise FieldErrors(error.message_dict) from error
    return JsonResponse(user_json(user), status=201)


# --- sync, Flask-style views --------------------------------------------------------------


@json_view("GET")
def user_orders_sync(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET users/{id}/orders: the user and all their orders, newest first."""
    viewer = authenticate(request)
    if not viewer.is_authenticated:
        raise not_authenticated()
    user = user_visible_to(viewer=viewer, user_id=user_id)
    if user is None:
        raise not_found()
    orders = list(orders_of_customer(customer_id=user.pk))
    return JsonResponse({"user": user_json(user), "orders": [order_json(o) for o in orders]})


@json_view("POST")
def user_signup_sync(request: HttpRequest) -> HttpResponse:
    """POST users/: open sign-up, throttled per client."""
    enforce_session_csrf(request)
    throttle(request, "signup")
    sign_up = validate_sign_up(read_json_object(request))
    try:
        user = user_create(
            email=sign_up.email, name=sign_up.name, age=sign_up.age, password=sign_up.password
        )
    except ValidationError as error:
        raise FieldErrors(error.message_dict) from error
    return JsonResponse(user_json(user), status=201)


async_urlpatterns: list[URLPattern] = [
    path("users/<int:user_id>/orders", user_orders_async, name="user-orders"),
    path("users/", user_signup_async, name="user-create"),
]

sync_urlpatterns: list[URLPattern] = [
    path("users/<int:user_id>/orders", user_orders_sync, name="user-orders"),
    path("users/", user_signup_sync, name="user-create"),
]
