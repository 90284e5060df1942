"""``manage.py provider_call jdb '<json>'``: the README's way to send an encrypted request."""

from __future__ import annotations

import json
import shlex
from io import StringIO
from urllib.parse import parse_qs

import pytest
from django.core.management import call_command

from providers.jdb import crypto
from providers.jdb.config import aes_key_and_iv

BALANCE = '{"action":6,"ts":1700000000000,"uid":"chen","currency":"RB","gType":0,"mType":8001}'


def run(*args: str) -> str:
    out = StringIO()
    call_command("provider_call", "jdb", *args, stdout=out)
    return out.getvalue()


def test_curl_line_carries_the_encrypted_form(settings) -> None:
    line = run(BALANCE, "--curl", "--base-url", "http://127.0.0.1:8043")
    parts = shlex.split(line)
    assert parts[:5] == ["curl", "-sS", "-X", "POST", "http://127.0.0.1:8043/providers/jdb/"]
    assert "Content-Type: application/x-www-form-urlencoded" in parts
    body = parts[parts.index("--data-binary") + 1]
    (x,) = parse_qs(body)["x"]
    key, iv = aes_key_and_iv()
    assert json.loads(crypto.decrypt(x, key, iv)) == json.loads(BALANCE)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("chen")
def test_the_command_sends_to_a_running_server_and_prints_the_answer(live_server) -> None:
    out = run(BALANCE, "--base-url", live_server.url)
    assert out.splitlines() == [
        "HTTP 200",
        '{"status":"0000","balance":"1000.00","err_text":""}',
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("chen")
def test_decimal_amounts_in_the_json_stay_exact(live_server) -> None:
    bet = (
        '{"action":8,"ts":1,"transferId":91,"uid":"chen","currency":"RB",'
        '"bet":-0.10,"win":0.30,"netWin":0.20}'
    )
    out = run(bet, "--base-url", live_server.url)
    assert '"balance":"1000.20"' in out
