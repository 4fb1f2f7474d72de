"""The account pages: sign-up (a form over `user_create`, throttled with the API's sign-up),
password change, and password reset by email with Django's views and token generator."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from orders.factories import DEFAULT_PASSWORD
from users.forms import SignUpForm
from users.models import User
from users.validators import UNICODE_TEXT_MESSAGE

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-and-long-passphrase-42"
SIGN_UP = {
    "email": "Ada@Example.com",
    "name": "Ada Lovelace",
    "age": "36",
    "password": "correct-horse-battery-staple",
    "password_again": "correct-horse-battery-staple",
}


def with_rates(settings, **rates):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, **rates}


class TestSignUp:
    def test_signs_up_logs_in_and_goes_home(self, client):
        response = client.post(reverse("signup"), SIGN_UP)
        assert response.status_code == 302
        assert response.url == reverse("home")
        user = User.objects.get(email="ada@example.com")
        assert (user.name, user.age, user.is_staff) == ("Ada Lovelace", 36, False)
        assert user.check_password(SIGN_UP["password"])
        assert client.get(reverse("home")).context["user"] == user

    def test_the_form_is_linked_from_the_login_page_and_the_header(self, client):
        assert f'href="{reverse("signup")}"' in client.get(reverse("login")).text
        assert f'href="{reverse("password_reset")}"' in client.get(reverse("login")).text
        assert f'href="{reverse("signup")}"' in client.get(reverse("home")).text

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"email": "customer@example"}, "email", "Enter a valid email address."),
            ({"age": "151"}, "age", "Ensure this value is less than or equal to 150."),
            ({"age": "twenty"}, "age", "Enter a whole number."),
            ({"name": ""}, "name", "This field is required."),
            (
                {"password": "password", "password_again": "password"},
                "password",
                "This password is too common.",
            ),
            ({"password_again": "something else"}, "password_again", "The two passwords differ."),
        ],
    )
    def test_refusals_are_shown_next_to_their_field(self, client, changes, field, message):
        response = client.post(reverse("signup"), {**SIGN_UP, **changes})
        assert response.status_code == 200
        assert message in response.context["form"].errors[field]
        assert not User.objects.exists()
        html = response.text
        # The error follows its own input, as on the login page.
        assert html.index(message.replace("'", "&#x27;")) > html.index(f'name="{field}"')

    def test_a_taken_email_is_refused_by_the_domain_whatever_its_case(self, client, customer):
        response = client.post(reverse("signup"), {**SIGN_UP, "email": customer.email.upper()})
        assert response.status_code == 200
        (error,) = response.context["form"].errors["email"]
        assert error.lower() == "user with this email address already exists."

    @pytest.mark.parametrize("field", ["email", "name", "password"])
    def test_lone_surrogates_are_refused(self, field):
        value = "ada\ud800@example.com" if field == "email" else "ada\ud800"
        data = {**SIGN_UP, field: value}
        if field == "password":
            data["password_again"] = value
        form = SignUpForm(data)
        assert not form.is_valid()
        assert UNICODE_TEXT_MESSAGE in form.errors[field]

    def test_throttled_with_the_api_sign_up_per_address(self, client, settings):
        with_rates(settings, signup="2/hour")
        api = client.post(
            "/api/plain/sync/users/",
            {**SIGN_UP, "email": "api@example.com", "age": 36},
            content_type="application/json",
        )
        assert api.status_code == 201
        assert (
            client.post(reverse("signup"), {**SIGN_UP, "email": "a@example.com"}).status_code == 302
        )
        client.logout()
        refused = client.post(reverse("signup"), {**SIGN_UP, "email": "b@example.com"})
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) > 0
        assert "Too many sign-ups from your address" in refused.text
        assert not User.objects.filter(email="b@example.com").exists()
        # Another address has a budget of its own.
        other = client.post(
            reverse("signup"), {**SIGN_UP, "email": "c@example.com"}, REMOTE_ADDR="10.0.0.9"
        )
        assert other.status_code == 302

    def test_a_signed_in_user_is_sent_home(self, client, customer):
        client.force_login(customer)
        assert client.get(reverse("signup")).url == reverse("home")


class TestPasswordChange:
    def test_needs_a_login(self, client):
        response = client.get(reverse("password_change"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))

    def test_changes_the_password_and_keeps_the_session(self, client, customer):
        client.force_login(customer)
        assert f'href="{reverse("password_change")}"' in client.get(reverse("home")).text
        response = client.post(
            reverse("password_change"),
            {
                "old_password": DEFAULT_PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        assert response.url == reverse("password_change_done")
        assert "Your password is changed" in client.get(response.url).text
        customer.refresh_from_db()
        assert customer.check_password(NEW_PASSWORD)

    def test_a_wrong_old_password_is_shown_next_to_its_field(self, client, customer):
        client.force_login(customer)
        response = client.post(
            reverse("password_change"),
            {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert response.status_code == 200
        assert "old_password" in response.context["form"].errors


class TestPasswordReset:
    def test_mails_a_link_that_sets_a_new_password_once(self, client, customer):
        response = client.post(reverse("password_reset"), {"email": customer.email})
        assert response.url == reverse("password_reset_done")
        (message,) = mail.outbox
        assert message.to == [customer.email]
        assert message.subject == "Reset your orderdesk password"
        link = re.search(r"http://testserver(/password-reset/\S+/)", str(message.body))
        assert link is not None

        form = client.get(link[1], follow=True)
        assert "Choose a new password" in form.text
        done = client.post(
            form.redirect_chain[-1][0],
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert done.url == reverse("password_reset_complete")
        customer.refresh_from_db()
        assert customer.check_password(NEW_PASSWORD)
        # Used once: the same link no longer works.
        assert "This link does not work" in client.get(link[1], follow=True).text

    def test_an_unknown_address_gets_the_same_answer_and_no_email(self, client):
        response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
        assert response.url == reverse("password_reset_done")
        assert mail.outbox == []
