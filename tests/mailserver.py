"""A real SMTP server on loopback for the email tests (aiosmtpd, in a thread of the test).

`smtp_server()` yields a `MailServer`: its port, the messages it accepted, and how many
deliveries it was offered. `refuse_first=N` answers the first N deliveries `451` (try again
later), as a mail server does when it is busy or greylisting; `refusal` another answer (a
permanent `550`).
"""

import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.servers import HOST, free_port, poll

TRY_LATER = "451 4.3.0 Try again later (the test's refusing mail server)"
REJECTED = "550 5.7.1 Not accepted (the test's refusing mail server)"


@dataclass
class MailServer:
    port: int
    refuse_first: int = 0
    refusal: str = TRY_LATER
    attempts: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.attempts += 1
            if self.attempts <= self.refuse_first:
                return self.refusal
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [message for message in self.messages if address in message["To"]]

    def wait_for(self, address: str, *, count: int = 1, timeout: float = 60) -> list[EmailMessage]:
        """The messages to `address` once there are `count`; TimeoutError after `timeout` s."""
        poll(lambda: len(self.to(address)) >= count, timeout=timeout)
        return self.to(address)

    @property
    def mailers(self) -> dict[str, dict[str, Any]]:
        """settings.MAILERS that deliver here."""
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": HOST, "port": self.port, "timeout": 10},
            }
        }

    @property
    def url(self) -> str:
        """EMAIL_URL that delivers here (for a server process)."""
        return f"smtp://{HOST}:{self.port}"


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


@contextmanager
def smtp_server(*, refuse_first: int = 0, refusal: str = TRY_LATER) -> Iterator[MailServer]:
    server = MailServer(port=free_port(), refuse_first=refuse_first, refusal=refusal)
    controller = Controller(server, hostname=HOST, port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
