"""The account pages beside Django's own (login, password change and reset): sign-up."""

from django.conf import settings
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from api import throttle

from .forms import SignUpForm

TOO_MANY = 429


@require_http_methods(["GET", "HEAD", "POST"])
def signup_page(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST: sign up, logged in at once, and off to the landing page.

    A POST counts in the API's `signup` rate, per address (`api.throttle`): the page is one
    more way in to the same open sign-up, not a second budget. Past it: 429 and the form again,
    saying when to try.
    """
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        refusal = throttle.check("signup", request)
        if refusal is not None:
            minutes = max(1, round(refusal.retry_after / 60))
            form.add_error(
                None,
                f"Too many sign-ups from your address. Try again in about {minutes} minute(s).",
            )
            response = render(request, "registration/signup.html", {"form": form}, status=TOO_MANY)
            response["Retry-After"] = str(refusal.retry_after)
            return response
        if form.is_valid():
            try:
                user = form.save()
            except ValidationError:
                pass  # the refusals are on the form
            else:
                login(request, user, backend="users.backends.ThrottledModelBackend")
                return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup.html", {"form": form})
