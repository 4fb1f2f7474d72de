"""Accounts in a real browser against the live server: sign up, log in, and reset a forgotten
password through the link of an email a real SMTP server (aiosmtpd) received."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.mailserver import MailServer, body, smtp_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "ada@example.com"
PASSWORD = "correct-horse-battery-staple"
NEW_PASSWORD = "a-new-and-long-passphrase-42"


@pytest.fixture
def mail_server(settings) -> Iterator[MailServer]:
    """A real SMTP server that the live server (a thread of this process) sends to."""
    with smtp_server() as server:
        settings.MAILERS = server.mailers
        yield server


def sign_up(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Age").fill("36")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text(f"Signed in as {EMAIL}")).to_be_visible()


def log_in(page: Page, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Signed in as {EMAIL}")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()


def test_sign_up_log_in_and_reset_a_forgotten_password_by_email(
    mail_server: MailServer, page: Page
):
    sign_up(page)
    log_out(page)
    log_in(page, PASSWORD)
    log_out(page)

    page.goto("/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    (message,) = mail_server.wait_for(EMAIL)
    assert message["Subject"] == "Reset your orderdesk password"
    link = re.search(r"http://\S+/password-reset/\S+/", body(message))
    assert link is not None, body(message)
    page.goto(link[0])
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()

    log_in(page, NEW_PASSWORD)
    # The link worked once.
    page.goto(link[0])
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
