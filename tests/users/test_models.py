import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from users.models import User

pytestmark = pytest.mark.django_db


class TestUserManager:
    def test_create_user_logs_in_by_email_lowercased(self):
        user = User.objects.create_user("Ada@Example.COM", "a-long-passphrase", name="Ada")
        assert user.email == "ada@example.com"
        assert user.check_password("a-long-passphrase")
        assert not user.is_staff

    def test_create_superuser_is_staff(self):
        user = User.objects.create_superuser("root@example.com", "a-long-passphrase", name="Root")
        assert (user.is_staff, user.is_superuser) == (True, True)

    def test_email_is_unique(self):
        User.objects.create_user("ada@example.com", "pw-pw-pw-pw", name="Ada")
        with pytest.raises(ValidationError):
            User.objects.create_user("ADA@example.com", "pw-pw-pw-pw", name="Ada 2")

    @pytest.mark.parametrize("age", [-1, 151])
    def test_age_outside_0_to_150_is_refused(self, age):
        with pytest.raises(ValidationError):
            User.objects.create_user("a@example.com", "pw-pw-pw-pw", name="A", age=age)

    def test_the_database_refuses_an_age_over_150(self, customer):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=customer.pk).update(age=151)

    def test_age_is_optional(self):
        user = User.objects.create_user("staff@example.com", "pw-pw-pw-pw", name="S", age=None)
        assert user.age is None
