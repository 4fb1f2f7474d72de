"""`manage.py purge_expired_tokens`: expired API tokens go, live ones stay and keep working."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from users.models import Token, User
from users.selectors import user_for_token
from users.services import token_issue

DAY = 24 * 60 * 60


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_expired_tokens", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
class TestPurgeExpiredTokens:
    @pytest.fixture
    def keys(self, customer: User, staff: User, settings) -> dict[str, str]:
        settings.API_TOKEN_LIFETIME = 7 * DAY
        keys = {
            "expired": token_issue(user=customer, client="old\nlaptop"),
            "at the limit": token_issue(user=staff, client="cli"),
            "live": token_issue(user=customer, client="phone"),
        }
        now = timezone.now()
        Token.objects.filter(client="old\nlaptop").update(created_at=now - timedelta(days=8))
        # Issued exactly a lifetime before the purge's clock or earlier: expired (a lifetime
        # ago or longer is refused).
        Token.objects.filter(client="cli").update(created_at=now - timedelta(days=7))
        Token.objects.filter(client="phone").update(created_at=now - timedelta(days=6))
        return keys

    def test_list_the_expired_tokens_and_change_nothing_in_a_dry_run(self, keys, customer, staff):
        before = list(Token.objects.order_by("pk").values())

        out = purge("--dry-run")

        assert f"Would remove the 'old\\nlaptop' token of {customer.email}" in out
        assert f"Would remove the 'cli' token of {staff.email}" in out
        assert "'phone'" not in out
        assert out.splitlines()[-1] == (
            "Dry run: would remove 2 token(s) older than 7d (API_TOKEN_LIFETIME). "
            "Nothing was changed."
        )
        assert list(Token.objects.order_by("pk").values()) == before

    def test_delete_the_expired_tokens_and_keep_the_live_one_working(self, keys, customer):
        out = purge()

        assert out.splitlines()[-1] == "Removed 2 token(s) older than 7d (API_TOKEN_LIFETIME)."
        assert list(Token.objects.values_list("client", flat=True)) == ["phone"]
        assert user_for_token(key=keys["live"]) == customer
        assert User.objects.count() == 2
        assert purge().splitlines() == ["Removed 0 token(s) older than 7d (API_TOKEN_LIFETIME)."]

    def test_a_token_issued_again_for_an_expired_name_is_live_and_kept(self, keys, customer):
        fresh = token_issue(user=customer, client="old\nlaptop")

        purge()

        assert user_for_token(key=fresh) == customer
        assert Token.objects.filter(client="old\nlaptop").count() == 1
