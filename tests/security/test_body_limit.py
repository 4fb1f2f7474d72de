"""A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused before it is read (issue 14).

Django reads a whole body, spooling it to disk, before it checks its size: the black-box test
sent a 64 MB chunked body and got its 413 only after the worker had written all of it. Here a
worker under uvicorn (runtime/handlers.py) is sent a body that never ends: an answer at all
shows the worker stopped reading at the limit. On the old handler these wait for the rest of
the body until the socket's timeout.
"""

import socket
from collections.abc import Iterator

import pytest

from tests.servers import HOST, serve_in_thread

LIMIT = 64 * 1024
CHUNK = 16 * 1024
# Waiting longer than this for an answer means the server is still waiting for the body.
ANSWER_TIMEOUT = 15


@pytest.fixture
def port(settings: pytest.FixtureRequest) -> Iterator[int]:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT  # type: ignore[attr-defined]
    with serve_in_thread() as port:
        yield port


def exchange(port: int, head: str, *body: bytes) -> bytes:
    """Send `head` and `body` without ending the body; the server's answer, headers and all."""
    with socket.create_connection((HOST, port), timeout=ANSWER_TIMEOUT) as conn:
        conn.sendall(head.encode() + b"\r\n")
        for part in body:
            conn.sendall(part)
        answer = b""
        while data := conn.recv(65536):  # until the server closes: it reads no more
            answer += data
        return answer


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def headers(path: str, **fields: str) -> str:
    lines = [f"POST {path} HTTP/1.1", f"Host: {HOST}", "Content-Type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in fields.items()]
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(
    "path", ["/api/ninja/orders/", "/api/drf/orders/", "/api/plain/sync/users"]
)
def test_a_chunked_body_is_refused_once_it_passes_the_limit(port: int, path: str) -> None:
    parts = [chunk(b" " * CHUNK) for _ in range(LIMIT // CHUNK + 1)]  # one chunk past it

    answer = exchange(port, headers(path, Transfer_Encoding="chunked"), *parts)

    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b'{"detail": "Request body exceeds the maximum size."}' in answer


def test_a_declared_length_over_the_limit_is_refused_before_any_body(port: int) -> None:
    answer = exchange(port, headers("/api/ninja/orders/", Content_Length=str(64 * 1024 * 1024)))

    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"connection: close" in answer.lower()


def test_a_page_gets_a_plain_413(port: int) -> None:
    answer = exchange(port, headers("/login/", Content_Length=str(LIMIT + 1)))

    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"text/plain" in answer.lower()


@pytest.mark.django_db(transaction=True)  # the request reaches the view, and its middleware
def test_a_body_at_the_limit_is_read(port: int) -> None:
    # No login: the 401 shows the whole body was read and the request reached the view.
    body = b" " * LIMIT
    head = headers("/api/ninja/orders/", Content_Length=str(LIMIT), Connection="close")

    answer = exchange(port, head, body)

    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
