"""Email for reading in a terminal: the console backend of `EMAIL_URL=consolemail://`.

Django's console backend prints each message as it would travel, so a body line over 78
characters (a password-reset link) arrives quoted-printable, cut with `=` and no longer a link
to click. This one prints the same message with lines up to SMTP's own limit (998) left whole.
"""

import email.policy
from typing import Any

from django.core.mail.backends import console

READABLE = email.policy.default.clone(max_line_length=998)


class ConsoleBackend(console.EmailBackend):
    def write_message(self, message: Any) -> None:
        text = message.message(policy=READABLE).as_bytes().decode(errors="replace")
        self.stream.write(f"{text}\n{'-' * 79}\n")
