"""The settings module read in fresh interpreters, with the environment a deployment would set."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "API_TOKEN_"))
    }
    clean.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestSettings:
    def test_refuse_to_start_without_a_secret_key_when_debug_is_off(self):
        result = run_manage("check", DJANGO_DEBUG="0")
        assert result.returncode != 0
        assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off" in result.stderr

    @pytest.mark.parametrize("module", ["config.settings", "config.settings_hot"])
    def test_pass_the_deployment_checks_with_debug_off_and_a_real_key(self, module):
        result = run_manage(
            "check",
            "--deploy",
            "--settings",
            module,
            "--fail-level",
            "WARNING",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="orderdesk.example.com",
        )
        assert result.returncode == 0, result.stderr
        # Django's own checks, every one of them run (runtime/checks.py), none silenced.
        assert result.stdout.strip() == "System check identified no issues (0 silenced)."
        assert result.stderr == ""

    def test_production_sockets_accept_the_sites_https_origins_only(self):
        result = run_manage(
            "shell",
            "-c",
            "from django.conf import settings; print(settings.WEBSOCKET_ALLOWED_ORIGINS)",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="desk.example.com,api.example.com",
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == (
            "['https://desk.example.com', 'https://api.example.com']"
        )

    @pytest.mark.parametrize("proxies", ["proxy.internal", "10.0.0.1/8", "127.0.0.1,nope"])
    def test_refuse_trusted_proxies_that_are_not_addresses_or_networks(self, proxies):
        result = run_manage("check", DJANGO_TRUSTED_PROXIES=proxies)
        assert result.returncode != 0
        assert "DJANGO_TRUSTED_PROXIES" in result.stderr
        assert "is not an IP address, a network or *" in result.stderr

    def test_refuse_the_old_proxy_header_switch_that_trusted_anyone(self):
        result = run_manage("check", DJANGO_SECURE_PROXY_SSL_HEADER="1")
        assert result.returncode != 0
        assert "set DJANGO_TRUSTED_PROXIES" in result.stderr

    def test_email_goes_to_the_console_while_debugging_and_to_local_smtp_in_production(self):
        show = "from django.conf import settings; print(settings.MAILERS['default'])"
        debugging = run_manage("shell", "-c", show, DJANGO_DEBUG="1")
        assert debugging.returncode == 0, debugging.stderr
        assert "runtime.mail.ConsoleBackend" in debugging.stdout
        production = run_manage(
            "shell",
            "-c",
            show,
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="desk.example.com",
        )
        assert production.returncode == 0, production.stderr
        assert "smtp.EmailBackend" in production.stdout
        assert "'host': 'localhost', 'port': 25" in production.stdout
        relay = run_manage(
            "shell", "-c", show, EMAIL_URL="smtp+tls://mailer:s3cret@smtp.example.com:587"
        )
        assert "'host': 'smtp.example.com', 'port': 587, 'username': 'mailer'" in relay.stdout
        assert "'use_tls': True" in relay.stdout

    def test_refuse_an_unknown_tasks_backend(self):
        result = run_manage("check", DJANGO_TASKS_BACKEND="celery")
        assert result.returncode != 0
        assert "DJANGO_TASKS_BACKEND must be one of database, immediate" in result.stderr

    @pytest.mark.parametrize(("value", "seconds"), [(None, 30 * 24 * 60 * 60), ("3600", 3600)])
    def test_api_tokens_live_30_days_or_api_token_lifetime_seconds(self, value, seconds):
        env = {} if value is None else {"API_TOKEN_LIFETIME": value}
        code = "from django.conf import settings; print(settings.API_TOKEN_LIFETIME)"
        result = run_manage("shell", "-c", code, **env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == str(seconds)

    @pytest.mark.parametrize("value", ["0", "-5"])
    def test_refuse_a_token_lifetime_that_is_not_positive(self, value):
        result = run_manage("check", API_TOKEN_LIFETIME=value)
        assert result.returncode != 0
        assert "API_TOKEN_LIFETIME must be a positive number of seconds" in result.stderr

    def test_fail_the_deployment_checks_with_debug_on(self):
        result = run_manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_DEBUG="1")
        assert result.returncode != 0
        assert "DEBUG" in result.stderr


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("sqlite:////tmp/x.sqlite3", "django.db.backends.sqlite3"),
        ("postgres://u:p@db.internal:5432/orderdesk", "django.db.backends.postgresql"),
    ],
)
def test_database_url_selects_the_engine_and_the_pool(url, engine):
    code = (
        "from django.conf import settings as s; import json; d = s.DATABASES['default'];"
        "print(json.dumps([d['ENGINE'], d.get('CONN_MAX_AGE'), 'pool' in d.get('OPTIONS', {})]))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**clean, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    reported_engine, conn_max_age, pooled = __import__("json").loads(result.stdout)
    assert reported_engine == engine
    if engine.endswith("postgresql"):
        assert (conn_max_age, pooled) == (0, True)
    else:
        assert not pooled
