"""Bad input, each case on its own: VP's answer format, the right code, journaled, no money moved.

Everything we cannot read, authenticate or validate answers ``9999`` (VP retries; nothing moved);
an unknown player or a currency other than the player's answers ``2000``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from providers.vp.client import encrypt_payload, envelope
from providers.vp.crypto import encrypt, vp_key
from providers.wire import dumps
from tests.conftest import TEST_PROVIDER_SETTINGS
from tests.providers.conftest import Sent
from tests.providers.vp.conftest import (
    assert_answer,
    balance_payload,
    bet_payload,
    journal_row,
    rollback_payload,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("players", "no_money_moves", "ledger_is_consistent"),
]

Vp = Callable[..., Sent]
Raw = Callable[..., Sent]
KEY = vp_key(TEST_PROVIDER_SETTINGS["VP_API_KEY"])  # type: ignore[arg-type]
OTHER_KEY_HEX = "ff" * 32


def refused(sent: Sent, outcome: str, *, status: str = "9999", text: str = "") -> None:
    assert_answer(sent, status, "0.00")
    assert text.lower() in sent.json["errText"].lower(), sent.json
    row = journal_row()
    assert row.outcome == outcome, (row.outcome, row.error)
    assert (row.answer or {})["status"] == status


def cipher_of(plaintext: bytes, key: bytes = KEY) -> str:
    return encrypt(plaintext, key)


# --- the envelope -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b"not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b'["cipherText"]', "not a JSON object"),
        (b'{"cipherText": "a", "cipherText": "b"}', "duplicate key"),
        (b"{}", "cipherText is missing"),
        (b'{"cipher": "abc"}', "cipherText is missing"),
        (b'{"cipherText": 12}', "must be a non-empty string"),
        (b'{"cipherText": ""}', "must be a non-empty string"),
    ],
)
def test_a_body_without_a_usable_cipher_text(send_raw: Raw, body: bytes, text: str) -> None:
    refused(send_raw(body), "bad_input", text=text)
    assert journal_row().payload is None


def test_get_is_refused_in_vps_format(client: Any) -> None:
    response = client.get("/providers/vp/")
    body = json.loads(response.content)
    assert response.status_code == 200 and body["status"] == "9999"
    assert journal_row().outcome == "bad_input"


def test_an_oversized_body_is_refused(send_raw: Raw, settings: Any) -> None:
    settings.PROVIDER_MAX_BODY_BYTES = 1024
    big = envelope(encrypt_payload(balance_payload(pad="x" * 2000)))
    refused(send_raw(big), "too_large")


def test_a_caller_outside_the_allowlist_is_refused(vp: Vp, settings: Any) -> None:
    settings.VP_ALLOWED_IPS = ["10.1.2.0/24"]
    refused(vp(balance_payload()), "forbidden_ip", text="not allowed")


# --- the cipher ---------------------------------------------------------------------------------


def _pieces(cipher_text: str) -> tuple[str, str, str]:
    return cipher_text[:16], cipher_text[16:40], cipher_text[40:]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda c: c[:20] + "!!!!" + c[24:], id="bad-base64-in-tag"),
        pytest.param(lambda c: "%%%%" + c[4:], id="bad-base64-in-iv"),
        pytest.param(lambda c: c[:-2] + "@@", id="bad-base64-in-ciphertext"),
        pytest.param(lambda c: c + "A", id="ciphertext-length-not-base64"),
        pytest.param(lambda c: "é" * 16 + c[16:], id="non-ascii"),
        pytest.param(lambda c: c[:30], id="cut-to-nothing"),
        pytest.param(lambda c: _pieces(c)[0] + _pieces(c)[1], id="no-ciphertext"),
    ],
)
def test_a_malformed_cipher_text_is_an_authentication_failure(
    send_raw: Raw, mangle: Callable[[str], str]
) -> None:
    good = cipher_of(b'{"action":"balance","uid":"alice","currency":"USD"}')
    refused(send_raw(envelope(mangle(good))), "auth_failed")


def test_an_iv_cut_short(send_raw: Raw) -> None:
    good = cipher_of(b'{"action":"balance","uid":"alice","currency":"USD"}')
    iv, tag, ciphertext = _pieces(good)
    short_iv = base64.b64encode(base64.b64decode(iv)[:11]).decode()  # still 16 characters
    assert len(short_iv) == 16
    refused(send_raw(envelope(short_iv + tag + ciphertext)), "auth_failed", text="IV or tag")


def test_a_tag_cut_short(send_raw: Raw) -> None:
    good = cipher_of(b'{"action":"balance","uid":"alice","currency":"USD"}')
    iv, tag, ciphertext = _pieces(good)
    short_tag = base64.b64encode(base64.b64decode(tag)[:12]).decode()  # 16 characters, no "="
    refused(send_raw(envelope(iv + short_tag + ciphertext)), "auth_failed")


def test_a_wrong_key_does_not_authenticate(send_raw: Raw) -> None:
    wrong = encrypt_payload(bet_payload("b1"), api_key_hex=OTHER_KEY_HEX)
    refused(send_raw(envelope(wrong)), "auth_failed", text="does not authenticate")
    assert journal_row().payload is None  # nothing decrypted, nothing claimed


@pytest.mark.parametrize("where", ["iv", "tag", "ciphertext"])
def test_a_tampered_cipher_text_does_not_authenticate(send_raw: Raw, where: str) -> None:
    iv, tag, ciphertext = (
        base64.b64decode(p) for p in _pieces(encrypt_payload(bet_payload("b1", "1", "1000")))
    )
    parts = {"iv": bytearray(iv), "tag": bytearray(tag), "ciphertext": bytearray(ciphertext)}
    parts[where][0] ^= 0x01
    tampered = "".join(base64.b64encode(bytes(parts[k])).decode() for k in parts)
    refused(send_raw(envelope(tampered)), "auth_failed", text="does not authenticate")


@pytest.mark.parametrize(
    ("plaintext", "text"),
    [
        (b"action=balance&uid=alice", "not valid JSON"),
        (b"\x80\x81", "not UTF-8"),
        (b'"balance"', "not a JSON object"),
        (b'{"action":"balance","uid":"alice","uid":"bob","currency":"USD"}', "duplicate key"),
        (b'{"action":"betNSettle","actualBetAmt":NaN}', "not a number we accept"),
    ],
)
def test_decrypted_text_that_is_not_a_json_object(
    send_raw: Raw, plaintext: bytes, text: str
) -> None:
    refused(send_raw(envelope(cipher_of(plaintext))), "bad_input", text=text)


# --- the action -----------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["cancel", "Rollback", "betnsettle", "", 7, ["balance"]])
def test_an_unknown_action(vp: Vp, action: object) -> None:
    refused(vp({**balance_payload(), "action": action}), "unknown_action", text="unknown action")


def test_a_missing_action(vp: Vp) -> None:
    payload = balance_payload()
    del payload["action"]
    refused(vp(payload), "bad_input", text="action is missing")


# --- the fields -----------------------------------------------------------------------------------

REQUIRED = {
    "balance": (balance_payload, ["uid", "currency"]),
    "betNSettle": (
        bet_payload,
        ["uid", "currency", "betId", "roundId", "gameCode", "actualBetAmt", "winAmt", "gameInfo"],
    ),
    "retryBet": (
        lambda: bet_payload(action="retryBet"),
        ["uid", "currency", "betId", "roundId", "gameCode", "actualBetAmt", "winAmt", "gameInfo"],
    ),
    "rollback": (rollback_payload, ["uid", "betId"]),
}


@pytest.mark.parametrize(
    ("action", "field"),
    [(action, field) for action, (_, names) in REQUIRED.items() for field in names],
)
@pytest.mark.parametrize("how", ["absent", "null"])
def test_a_missing_required_field(vp: Vp, action: str, field: str, how: str) -> None:
    payload = REQUIRED[action][0]()  # type: ignore[operator]
    if how == "absent":
        del payload[field]
    else:
        payload[field] = None
    refused(vp(payload), "bad_input", text=f"{field} is missing")
    row = journal_row()
    assert row.action == action and row.is_cancel == (action == "rollback")


BAD_VALUES: list[tuple[str, str, Any, str]] = [
    ("balance", "uid", 42, "uid must be a string"),
    ("balance", "uid", "", "uid must not be empty"),
    ("balance", "currency", ["USD"], "currency must be a string"),
    ("balance", "brand", 1, "brand must be a string"),
    ("betNSettle", "uid", {"id": "alice"}, "uid must be a string"),
    ("betNSettle", "uid", "a" * 65, "longer than 64"),
    ("betNSettle", "betId", True, "betId must be a string or a whole number"),
    ("betNSettle", "roundId", [], "roundId must be a string"),
    ("betNSettle", "gameCode", 230036, "gameCode must be a string"),
    ("betNSettle", "actualBetAmt", "10", "actualBetAmt must be a number"),
    ("betNSettle", "actualBetAmt", -1, "must not be negative"),
    ("betNSettle", "actualBetAmt", True, "not a boolean"),
    ("betNSettle", "actualBetAmt", "__D__1.0000001", "more than 6 decimal places"),
    ("betNSettle", "actualBetAmt", "__D__1e20", "too large"),
    ("betNSettle", "winAmt", "25", "winAmt must be a number"),
    ("betNSettle", "winAmt", "__D__-0.01", "must not be negative"),
    ("betNSettle", "validBetAmt", "x", "validBetAmt must be a number"),
    ("betNSettle", "jackpotWin", -5, "jackpotWin must not be negative"),
    ("betNSettle", "jackpotContribute", [], "jackpotContribute must be a number"),
    ("betNSettle", "transferId", {"a": 1}, "transferId must be a string"),
    ("betNSettle", "betTime", False, "betTime must be a string or a whole number"),
    ("betNSettle", "gameInfo", {"spinID": ["x"]}, "gameInfo must be a string"),
    ("betNSettle", "gameInfo", "", "gameInfo is not a JSON object"),
    ("betNSettle", "gameInfo", "{spinID: 1}", "gameInfo is not a JSON object"),
    ("betNSettle", "gameInfo", "[1, 2]", "gameInfo is not a JSON object"),
    ("betNSettle", "gameInfo", '{"spinID": {"a": 1}}', "spinID must be a list"),
    ("betNSettle", "gameInfo", '{"spinID": [["nested"]]}', "spinID must be a string"),
    ("betNSettle", "gameInfo", '{"spinID": [""]}', "spinID must not be empty"),
    ("betNSettle", "gameInfo", '{"spinID": [1.5]}', "must be a whole number"),
    ("retryBet", "actualBetAmt", "0", "actualBetAmt must be a number"),
    ("rollback", "betId", 1.5, "betId must be a whole number"),
    ("rollback", "betId", "", "betId must not be empty"),
    ("rollback", "uid", 7, "uid must be a string"),
    ("rollback", "roundId", [1], "roundId must be a string"),
    ("rollback", "gameCode", 1, "gameCode must be a string"),
]


@pytest.mark.parametrize(
    ("action", "field", "value", "text"),
    BAD_VALUES,
    ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in BAD_VALUES],
)
def test_a_mistyped_field(vp: Vp, action: str, field: str, value: Any, text: str) -> None:
    payload = REQUIRED[action][0]()  # type: ignore[operator]
    if isinstance(value, str) and value.startswith("__D__"):
        value = Decimal(value[5:])
    elif isinstance(value, float):
        value = Decimal(str(value))  # sent as the JSON number 1.5, never through float
    payload[field] = value
    refused(vp(payload), "bad_input", text=text)


def test_a_float_artefact_amount_is_refused_not_rounded(send_raw: Raw) -> None:
    """An amount VP computed in binary floating point is not silently rounded to cents."""
    text = dumps(bet_payload("b1", "0", "0")).replace('"winAmt":0', '"winAmt":0.30000000000000004')
    assert "0.30000000000000004" in text
    refused(send_raw(envelope(cipher_of(text.encode()))), "bad_input", text="decimal places")


# --- the player -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(balance_payload("nobody"), id="balance"),
        pytest.param(bet_payload("b1", uid="nobody"), id="betNSettle"),
        pytest.param(bet_payload("b1", uid="nobody", action="retryBet"), id="retryBet"),
        pytest.param(rollback_payload("b1", uid="nobody"), id="rollback"),
    ],
)
def test_an_unknown_player_answers_2000(vp: Vp, payload: dict[str, Any]) -> None:
    refused(vp(payload), "player_not_found", status="2000", text="nobody")
    assert journal_row().account_id == "nobody"


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(balance_payload("alice", "CNY"), id="balance"),
        pytest.param(bet_payload("b1", currency="CNY"), id="betNSettle"),
        pytest.param(bet_payload("b1", currency="usd", action="retryBet"), id="retryBet-case"),
        pytest.param(bet_payload("b1", uid="chen", currency="USD"), id="chen-in-USD"),
    ],
)
def test_a_currency_other_than_the_players_answers_2000(vp: Vp, payload: dict[str, Any]) -> None:
    refused(vp(payload), "wrong_currency", status="2000", text="wallet")
