"""The load generator resends what got no answer, as a provider would: a dropped connection,
or a load balancer's own error page (no app server answered), and tells the drill each time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.loadtest.driver import Driver
from bench.loadtest.requests import Prepared

OK = b'{"status": "0000"}'
BALANCER_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


class _Answers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script: list[tuple[int, bytes, str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        status, body, kind = self.script.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def cancel() -> Prepared:
    body = b"{}"
    raw = b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n" + body
    return Prepared("jdb", "cancel", raw, frozenset({"0000"}), frozenset({"9999"}), key="b1")


def test_a_balancer_error_page_and_a_try_again_are_resent_until_answered(
    server: ThreadingHTTPServer,
) -> None:
    _Answers.script = [
        (502, BALANCER_PAGE, "text/html"),
        (200, b'{"status": "9999"}', "application/json"),
        (200, OK, "application/json"),
    ]
    seen: list[tuple[str, str]] = []
    driver = Driver(
        "127.0.0.1",
        server.server_address[1],
        1,
        max_s=30,
        on_answer=lambda request, outcome: seen.append((request.key, outcome)),
    )

    result = driver.run([[cancel()]])

    assert seen == [
        ("b1", "no answer: HTTP 502 from the balancer"),
        ("b1", "9999"),
        ("b1", "0000"),
    ]
    assert (result.transport_errors, result.try_again, result.undrained) == (1, 1, 0)
    assert result.requests == 3 and result.rounds == 3
