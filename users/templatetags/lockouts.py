"""`{% login_lockouts_now as count %}`: the password-login lockouts in force (users.backends),
for the admin index."""

from django import template

from users.models import LoginLockout

register = template.Library()


@register.simple_tag
def login_lockouts_now() -> int:
    """How many lockouts are in force now: one query."""
    return LoginLockout.objects.in_force().count()
