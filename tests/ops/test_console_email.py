"""The development email backend (runtime/mail.py): a message printed whole, long lines too,
so a password-reset link in the terminal is one line to copy or click."""

import io

from django.core.mail import EmailMessage, mailers

LINK = "http://127.0.0.1:8000/password-reset/MTIzNDU/d3k5zq-" + "0123456789abcdef" * 2 + "/"


def test_a_long_link_is_printed_whole_and_not_quoted_printable(settings):
    stream = io.StringIO()
    settings.MAILERS = {
        "default": {"BACKEND": "runtime.mail.ConsoleBackend", "OPTIONS": {"stream": stream}}
    }
    mailer = mailers.default
    message = EmailMessage(
        "Reset your orderdesk password", f"Hello Zoë,\n\n{LINK}\n", to=["zoe@example.com"]
    )

    assert mailer.send_messages([message]) == 1

    printed = stream.getvalue()
    assert len(LINK) > 78
    assert f"\n{LINK}\n" in printed
    assert "Hello Zoë," in printed
    assert "quoted-printable" not in printed
    assert "Subject: Reset your orderdesk password" in printed
