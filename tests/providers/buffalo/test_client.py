"""providers.buffalo.client and ``manage.py provider_call buffalo``: what Buffalo would send."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from providers.buffalo.client import build_request
from tests.providers.buffalo.conftest import TOKEN


def test_build_request_puts_the_token_in_the_query_and_the_header() -> None:
    signed = build_request({"amount": Decimal("0.000001"), "uuid": "u"}, function="debit")
    assert signed.path == f"/providers/buffalo/debit?authToken={TOKEN}"
    assert signed.headers == {"Authorization": f"Bearer {TOKEN}"}
    assert signed.content_type == "application/json"
    assert signed.body == b'{"amount":0.000001,"uuid":"u"}'  # exact number, no float


def test_build_request_needs_a_known_method() -> None:
    with pytest.raises(ValueError, match="--function"):
        build_request({}, function="")


def test_build_request_reads_the_token_at_call_time(settings: Any) -> None:
    settings.BUFFALO_AUTH_TOKEN = "other_token-2"
    assert build_request({}, function="check").headers["Authorization"] == "Bearer other_token-2"


def test_provider_call_prints_a_working_curl_line() -> None:
    out = StringIO()
    payload = {"sid": "S", "userId": "demo_alice", "currency": "USD", "uuid": "u-1"}
    call_command(
        "provider_call",
        "buffalo",
        json.dumps(payload),
        "--function",
        "balance",
        "--base-url",
        "http://127.0.0.1:8123",
        "--curl",
        stdout=out,
    )
    line = out.getvalue()
    assert f"'http://127.0.0.1:8123/providers/buffalo/balance?authToken={TOKEN}'" in line
    assert f"'Authorization: Bearer {TOKEN}'" in line
    assert json.dumps(payload, separators=(",", ":")) in line
