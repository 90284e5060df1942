"""The harness's own arithmetic and framing, without a server or a database."""

from __future__ import annotations

from decimal import Decimal

from bench.loadtest.report import Figures, Latency
from bench.loadtest.requests import answer_code, frame
from bench.loadtest.scenarios import split
from bench.loadtest.seed import stake_of, win_of
from providers.client_base import SignedRequest


def test_percentiles_are_read_from_the_sorted_latencies() -> None:
    latencies = [n * 1_000_000 for n in range(1, 101)]  # 1 ms .. 100 ms, shuffled below
    latency = Latency.of(latencies[::-1])
    assert (latency.p50_ms, latency.p95_ms, latency.p99_ms, latency.max_ms) == (50, 95, 99, 100)
    assert Latency.of([]) == Latency(0.0, 0.0, 0.0, 0.0)
    figures = Figures("x", requests=200, seconds=0.5, latency=latency)
    assert figures.rate == 400 and figures.as_dict()["rate"] == 400


def test_answer_codes_are_the_providers_own() -> None:
    assert answer_code("jdb", 200, b'{"status":"0000","balance":"1.00"}') == "0000"
    assert answer_code("buffalo", 200, b'{"status":"TEMPORARY_ERROR"}') == "TEMPORARY_ERROR"
    assert answer_code("naga", 503, b'{"data":null}') == "503"  # Naga's code is the HTTP status
    assert answer_code("vp", 502, b"<html>bad gateway</html>") == "HTTP 502 without a status"


def test_requests_are_framed_as_http_1_1_with_their_exact_body() -> None:
    signed = SignedRequest("/providers/vp/", b'{"cipherText":"abc"}', headers={"x-nonce": "n1"})
    raw = frame(signed, "127.0.0.1:8000")
    head, body = raw.split(b"\r\n\r\n")
    assert head.splitlines() == [
        b"POST /providers/vp/ HTTP/1.1",
        b"Host: 127.0.0.1:8000",
        b"Content-Type: application/json",
        b"Content-Length: 20",
        b"x-nonce: n1",
    ]
    assert body == signed.body


def test_seeded_amounts_and_the_split_over_providers() -> None:
    assert stake_of(1) == Decimal("2.25") and stake_of(49) == Decimal("50.25")
    assert win_of(3) == 0 and win_of(1) == Decimal("3.38")  # 2.25 x 1.5, to the cent
    assert split(10, ("a", "b", "c")) == {"a": 4, "b": 3, "c": 3}
