import pytest
from django.urls import reverse

from orders.factories import StaffFactory
from users.models import User

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
