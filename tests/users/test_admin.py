import pytest
from django.urls import reverse
from django.utils import formats, timezone

from orders.factories import StaffFactory
from users.models import Token, User
from users.selectors import user_for_token
from users.services import token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(StaffFactory.create(is_superuser=True))
    return client


class TestUserAdmin:
    def test_staff_add_a_user_with_email_name_age_and_password(self, admin_client):
        response = admin_client.post(
            reverse("admin:users_user_add"),
            {
                "email": "New.Person@Example.com",
                "name": "New Person",
                "age": "33",
                "usable_password": "true",
                "password1": "a-long-enough-passphrase",
                "password2": "a-long-enough-passphrase",
            },
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        user = User.objects.get(email="new.person@example.com")
        assert (user.name, user.age) == ("New Person", 33)
        assert user.check_password("a-long-enough-passphrase")

    def test_the_password_validators_refuse_a_weak_password(self, admin_client):
        response = admin_client.post(
            reverse("admin:users_user_add"),
            {
                "email": "weak@example.com",
                "name": "Weak",
                "usable_password": "true",
                "password1": "12345678",
                "password2": "12345678",
            },
        )
        assert response.status_code == 200
        assert "password2" in response.context["adminform"].form.errors
        assert not User.objects.filter(email="weak@example.com").exists()

    def test_an_age_over_150_is_refused(self, admin_client):
        response = admin_client.post(
            reverse("admin:users_user_add"),
            {
                "email": "old@example.com",
                "name": "Old",
                "age": "151",
                "usable_password": "false",
            },
        )
        assert response.status_code == 200
        assert "age" in response.context["adminform"].form.errors

    def test_the_changelist_and_change_page_render(self, admin_client, customer):
        assert admin_client.get(reverse("admin:users_user_changelist")).status_code == 200
        change = admin_client.get(reverse("admin:users_user_change", args=[customer.pk]))
        assert change.status_code == 200
        assert customer.email in change.text


def change_form_data(response) -> dict[str, object]:
    """What the admin's change page would post back unchanged: the user's fields and each
    inline's forms with their management form."""
    data: dict[str, object] = {}

    def add(form) -> None:
        for bound in form:
            if bound.field.disabled:
                continue
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


class TestTokenAdmin:
    @pytest.fixture
    def keys(self, customer) -> dict[str, str]:
        return {client: token_issue(user=customer, client=client) for client in ("cli", "laptop")}

    def test_staff_see_a_users_tokens_by_client_never_the_key(self, admin_client, customer, keys):
        response = admin_client.get(reverse("admin:users_user_change", args=[customer.pk]))

        assert response.status_code == 200
        assert "API tokens" in response.text
        tokens = list(Token.objects.order_by("client"))
        for token in tokens:
            assert token.client in response.text
            assert token.digest not in response.text
            expires = formats.localize(timezone.localtime(token.expires_at))
            assert f"<p>{expires}</p>" in response.text
        for key in keys.values():
            assert key not in response.text

    def test_staff_revoke_a_token_from_the_users_page(self, admin_client, customer, keys):
        url = reverse("admin:users_user_change", args=[customer.pk])
        page = admin_client.get(url)
        data = change_form_data(page)
        tokens = page.context["inline_admin_formsets"][0].formset
        cli = next(form for form in tokens.forms if form.instance.client == "cli")
        data[f"{cli.prefix}-DELETE"] = "on"

        response = admin_client.post(url, data)

        assert response.status_code == 302, response.context["adminform"].form.errors
        assert list(Token.objects.values_list("client", flat=True)) == ["laptop"]
        assert user_for_token(key=keys["cli"]) is None
        assert user_for_token(key=keys["laptop"]) == customer

    def test_a_password_set_in_the_admin_voids_the_users_tokens(self, admin_client, customer, keys):
        response = admin_client.post(
            reverse("admin:auth_user_password_change", args=[customer.pk]),
            {
                "usable_password": "true",
                "password1": "a-new-long-passphrase",
                "password2": "a-new-long-passphrase",
            },
        )

        assert response.status_code == 302
        assert [user_for_token(key=key) for key in keys.values()] == [None, None]
