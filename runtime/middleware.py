"""Django's default middleware, without thread hops under ASGI.

Under ASGI, Django's `MiddlewareMixin` runs every `process_request` and `process_response`
through `sync_to_async`: two thread hops per middleware per request, fourteen for the default
stack, plus one for CSRF's `process_view`. Profiled on the benchmark's endpoint they cost
about 2 ms of CPU per request, more than the whole FastAPI request (docs/benchmarks.md).

These methods only read headers and cookies, set headers and make lazy objects, so under ASGI
the classes below call them on the event loop. The exceptions touch the database, and still
hop, but only when they do: the session middleware when the session must be saved, the
messages middleware when messages were read or added (their storage reads the session), CSRF
when a multipart body may have to be read from a temporary file. Under WSGI nothing changes.

On a Django upgrade: re-read `MiddlewareMixin.__acall__`, `BaseHandler.load_middleware`, the
session, messages, CSP and CSRF middleware methods these classes replace or wrap, and the
private attributes they read (`request._messages`, the storage's `used` and `added_new`,
`SimpleLazyObject._wrapped`, a response's `_csp_config`); tests/test_tripwires.py fingerprints
each and fails, naming this module, when one changed since the version reviewed.
"""

from collections.abc import Awaitable, Callable
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.messages.storage import default_storage
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware import clickjacking, common, csp, csrf, security
from django.utils.csp import CSP, build_policy
from django.utils.functional import SimpleLazyObject, empty

from runtime.unavailable import (
    DATABASE_UNAVAILABLE_ERRORS,
    database_unavailable_response,
    log_database_unavailable,
)


class InlineMiddlewareMixin:
    """Call `process_request` and `process_response` on the event loop: they do no I/O."""

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        middleware: Any = self
        response = None
        if hasattr(middleware, "process_request"):
            response = middleware.process_request(request)
        response = response or await middleware.get_response(request)
        if hasattr(middleware, "process_response"):
            response = middleware.process_response(request, response)
        return cast(HttpResponseBase, response)


class SecurityMiddleware(InlineMiddlewareMixin, security.SecurityMiddleware):
    pass


class CommonMiddleware(InlineMiddlewareMixin, common.CommonMiddleware):
    pass


class AuthenticationMiddleware(InlineMiddlewareMixin, auth.AuthenticationMiddleware):
    """Sets the lazy `request.user` and `request.auser`; nothing is read until asked for."""


class XFrameOptionsMiddleware(InlineMiddlewareMixin, clickjacking.XFrameOptionsMiddleware):
    pass


class ContentSecurityPolicyMiddleware(InlineMiddlewareMixin, csp.ContentSecurityPolicyMiddleware):
    """Django's, with the policy of a response that used no nonce built once, not per response.

    A JSON answer never uses the nonce, so its header is the same string every time; Django
    renders it from the settings on each response (2% of the fast path's CPU).
    """

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        # id(config) -> (config, policy); the config is kept so that its id is not reused.
        self._policies: dict[int, tuple[Any, str]] = {}

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if csp.get_nonce(request):  # evaluated: this response's policy names its nonce
            return super().process_response(request, response)
        for header, name, setting in (
            (CSP.HEADER_ENFORCE, "_csp_config", "SECURE_CSP"),
            (CSP.HEADER_REPORT_ONLY, "_csp_ro_config", "SECURE_CSP_REPORT_ONLY"),
        ):
            # A view's own config (@csp_override), else the setting, as Django chooses.
            config = (
                getattr(response, name) if hasattr(response, name) else getattr(settings, setting)
            )
            if config and header not in response:
                response.headers[str(header)] = self._policy(config)
        return response

    def _policy(self, config: Any) -> str:
        cached = self._policies.get(id(config))
        if cached is None or cached[0] is not config:
            if len(self._policies) > 64:  # per-view configs are few; never grow without end
                self._policies.clear()
            cached = self._policies[id(config)] = (config, build_policy(config))
        return cached[1]


class CsrfViewMiddleware(InlineMiddlewareMixin, csrf.CsrfViewMiddleware):
    """The token comes from a cookie; a form body is read only for unsafe methods."""

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        if self.async_mode:
            # Django wraps a sync process_view in sync_to_async; an async one it awaits.
            self.process_view = self._aprocess_view  # type: ignore[method-assign,assignment]

    async def _aprocess_view(
        self,
        request: HttpRequest,
        callback: Callable[..., Any],
        callback_args: tuple[Any, ...],
        callback_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        check = super().process_view
        if request.content_type == "multipart/form-data":
            # Uploads over FILE_UPLOAD_MAX_MEMORY_SIZE are parsed from a file on disk.
            return await sync_to_async(check)(request, callback, callback_args, callback_kwargs)
        return check(request, callback, callback_args, callback_kwargs)


class SessionMiddleware(sessions.SessionMiddleware):
    """Makes the lazy session on the loop; saving it (a database write) still hops.

    A save that finds the database down is answered 503 here. Django would answer it 500 under
    ASGI: its error handler runs in another thread, where `runtime.errors.server_error` cannot
    see the exception (under WSGI it can, and answers 503 itself).
    """

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        self.process_request(request)
        response = await cast(Awaitable[HttpResponse], self.get_response(request))
        session = request.session
        if session.modified or settings.SESSION_SAVE_EVERY_REQUEST:
            try:
                return await sync_to_async(self.process_response)(request, response)
            except DATABASE_UNAVAILABLE_ERRORS as error:
                log_database_unavailable(request, error)
                return database_unavailable_response(request)
        return self.process_response(request, response)


class MessageMiddleware(messages.MessageMiddleware):
    """Message storage made when first used; storing messages (the session) still hops.

    Django makes the storage on every request, and its cookie signer derives a key each time:
    6% of the fast path's CPU for requests that never touch a message.
    """

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not _used(request):
            return response
        return super().process_response(request, response)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        self.process_request(request)
        response = await cast(Awaitable[HttpResponse], self.get_response(request))
        if not _used(request):
            return response
        storage = request._messages  # type: ignore[attr-defined]
        if storage.used or storage.added_new:
            return await sync_to_async(self.process_response)(request, response)
        return self.process_response(request, response)


def _used(request: HttpRequest) -> bool:
    """Whether the request's lazy message storage was made."""
    storage = getattr(request, "_messages", None)
    return storage is not None and storage._wrapped is not empty
