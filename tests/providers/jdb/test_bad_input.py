"""Bad input: each case answered in JDB's format, journaled, and no money moved.

Before ``x`` decrypts we cannot know the action (nor trust the caller): ``9001``. After it
decrypts, a parameter problem is ``8000``, except for Action 4, where anything but 6101/9017
would read as "cancelled" at JDB (see test_cancel_bet_n_settle).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from journal.models import JournalEntry
from providers.jdb import crypto
from providers.jdb.client import build_request, encrypt_payload
from tests.helpers import balance
from tests.providers.jdb.jdb_wire import (
    CNY_PLAYER,
    balance_query,
    bet_n_settle,
    cancel_debits,
    cancel_withdraw,
    credit,
    debit,
)
from wallet.models import LedgerEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chen", "ledger_is_consistent")]

D = Decimal
KEY = crypto.key_bytes("testJdbAesKey128")
IV = crypto.key_bytes("testJdbAesIv0016")


@pytest.fixture(autouse=True)
def no_money_moves(chen: Any) -> Iterator[None]:
    """Every test here ends with the player's money and the ledger untouched."""
    rows = LedgerEntry.objects.count()
    yield
    assert balance(CNY_PLAYER, "CNY") == D("1000")
    assert LedgerEntry.objects.count() == rows


def form(x: str) -> bytes:
    return urlencode({"x": x}).encode()


def sealed(text: str) -> bytes:
    """A form body whose x is ``text`` encrypted with the right keys (any text, even non-JSON)."""
    return form(crypto.encrypt(text.encode(), KEY, IV))


def journal() -> JournalEntry:
    entry = JournalEntry.objects.order_by("-id").first()
    assert entry is not None
    return entry


# --- before x decrypts: 9001 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "form field x is missing"),
        (b"y=1", "form field x is missing"),
        (b"x=", "form field x is empty"),
        (b"x=abc&x=abc", "form field x is given more than once"),
        (b"x=%ff%fe", "x is not URL-safe base64"),
        (b"\xff\xfe=1", "body is not a form"),
    ],
    ids=["empty-body", "missing-x", "empty-x", "x-twice", "x-not-utf8", "body-not-utf8"],
)
def test_missing_or_unreadable_x_is_9001(jdb_raw, body: bytes, why: str) -> None:
    sent = jdb_raw(body)
    assert sent.json["status"] == "9001"
    assert why in sent.json["err_text"]
    entry = journal()
    assert entry.outcome == "auth_failed" and entry.payload is None and why in entry.error


@pytest.mark.parametrize("x", ["not base64 at all!", "abc$def", "A", "QUJD\nREVG"])
def test_x_that_is_not_url_safe_base64_is_9001(jdb_raw, x: str) -> None:
    assert jdb_raw(form(x)).json["status"] == "9001"
    assert journal().outcome == "auth_failed"


def test_x_in_the_standard_base64_alphabet_is_9001(jdb_raw) -> None:
    """JDB sends the URL-safe alphabet; '+' and '/' mean someone else's encoder."""
    for transfer_id in range(100):
        x = encrypt_payload(debit(transfer_id, "1"))
        if "-" in x or "_" in x:
            break
    standard = x.replace("-", "+").replace("_", "/")
    assert jdb_raw(form(standard)).json["status"] == "9001"


def test_x_sealed_with_another_key_is_9001(jdb_raw) -> None:
    x = crypto.encrypt(b'{"action":6,"uid":"chen","currency":"RB"}', b"Z" * 16, IV)
    sent = jdb_raw(form(x))
    assert sent.json["status"] == "9001"
    assert journal().payload is None


def test_x_sealed_with_another_iv_is_9001(jdb_raw) -> None:
    # A wrong IV garbles only the first block: the text no longer parses as JSON.
    x = crypto.encrypt(b'{"action":6,"uid":"chen","currency":"RB","gType":0}', KEY, b"Y" * 16)
    assert jdb_raw(form(x)).json["status"] == "9001"


def test_truncated_ciphertext_is_9001(jdb_raw) -> None:
    x = encrypt_payload(bet_n_settle(5001, "-1", "0"))
    assert jdb_raw(form(x[:-5])).json["status"] == "9001"  # not whole blocks
    raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
    one_block_short = base64.urlsafe_b64encode(raw[:-16]).decode().rstrip("=")
    sent = jdb_raw(form(one_block_short))  # whole blocks, but the JSON is cut short
    assert sent.json["status"] == "9001"
    assert "JSON" in sent.json["err_text"]


@pytest.mark.parametrize("text", ["[1,2,3]", '"action"', "4", "null", "hello"])
def test_plaintext_that_is_not_a_json_object_is_9001(jdb_raw, text: str) -> None:
    assert jdb_raw(sealed(text)).json["status"] == "9001"


def test_a_json_body_instead_of_a_form_is_9001(jdb_raw) -> None:
    assert jdb_raw(b'{"x": "abc"}', content_type="application/json").json["status"] == "9001"


# --- decrypted but unacceptable: 8000 --------------------------------------------------------


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity_literal_is_8000_and_journaled_readably(jdb_raw, constant: str) -> None:
    text = (
        f'{{"action":9,"transferId":5002,"uid":"chen","currency":"RB","amount":{constant},'
        '"gameRoundSeqNo":1}'
    )
    sent = jdb_raw(sealed(text))
    assert sent.json["status"] == "8000"
    entry = journal()
    assert entry.outcome == "bad_input" and entry.action == "9 Bet" and entry.bet_key == "5002"
    assert entry.payload["amount"] == constant


def test_duplicate_keys_are_8000(jdb_raw) -> None:
    text = '{"action":9,"transferId":5003,"uid":"chen","currency":"RB","amount":1,"amount":9}'
    sent = jdb_raw(sealed(text))
    assert sent.json == {"status": "8000", "err_text": "duplicate key 'amount'"}


def test_nan_in_an_action_4_is_9017(jdb_raw) -> None:
    text = '{"action":4,"transferId":5004,"uid":"chen","currency":"RB","ts":NaN}'
    assert jdb_raw(sealed(text)).json["status"] == "9017"


@pytest.mark.parametrize(
    ("action", "why"),
    [(99, "action 99 is not served"), (21, "action 21 is not served"), (-4, "not served")],
)
def test_unknown_action_is_8000(jdb, action: int, why: str) -> None:
    sent = jdb({**balance_query(), "action": action})
    assert sent.json["status"] == "8000" and why in sent.json["err_text"]
    entry = journal()
    assert entry.outcome == "unknown_action" and entry.action == f"{action} (unknown)"


@pytest.mark.parametrize(
    ("value", "why"),
    [(None, "action is missing"), ("six", "action must be a whole number"), (6.0, "whole")],
)
def test_missing_or_mistyped_action_is_8000(jdb, value: Any, why: str) -> None:
    payload = {k: v for k, v in {**balance_query(), "action": value}.items() if v is not None}
    sent = jdb(payload)
    assert sent.json["status"] == "8000" and why in sent.json["err_text"]


def _without(payload: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != field}


MISSING_OR_MISTYPED = [
    (_without(balance_query(), "uid"), "uid is missing"),
    (_without(balance_query(), "currency"), "currency is missing"),
    ({**balance_query(), "uid": ""}, "uid must not be empty"),
    ({**balance_query(), "uid": ["chen"]}, "uid must be a string"),
    ({**balance_query(), "uid": "x" * 65}, "uid is longer than 64"),
    (_without(bet_n_settle(5010, "-1", "0"), "transferId"), "transferId is missing"),
    ({**bet_n_settle(5011, "-1", "0"), "transferId": D("5011.5")}, "whole number"),
    ({**bet_n_settle(5012, "-1", "0"), "transferId": True}, "transferId must be"),
    (_without(bet_n_settle(5013, "-1", "0"), "bet"), "bet is missing"),
    (_without(bet_n_settle(5014, "-1", "0"), "win"), "win is missing"),
    ({**bet_n_settle(5015, "-1", "0"), "win": "1"}, "win must be a number"),
    ({**bet_n_settle(5016, "-1", "0"), "bet": True}, "bet must be a number"),
    ({**bet_n_settle(5017, "-1", "0"), "mb": "lots"}, "mb must be a number"),
    (_without(debit(5018, "1"), "amount"), "amount is missing"),
    ({**debit(5019, "1"), "amount": "1"}, "amount must be a number"),
    ({**debit(5020, "1"), "amount": {"v": 1}}, "amount must be a number"),
    (_without(credit(5021, "1", [1]), "refTransferIds"), "refTransferIds is missing"),
    ({**credit(5022, "1", [1]), "refTransferIds": 1}, "must be a non-empty list"),
    ({**credit(5023, "1", [1]), "refTransferIds": []}, "must be a non-empty list"),
    ({**credit(5024, "1", [1]), "refTransferIds": [{"id": 1}]}, "refTransferIds must be"),
    ({**credit(5025, "1", [1]), "roundClosed": "false"}, "roundClosed must be true or false"),
    (_without(cancel_debits(5026, "1", [1]), "amount"), "amount is missing"),
    (_without(cancel_withdraw(5027, "1", 1), "refTransferId"), "refTransferId is missing"),
]


@pytest.mark.parametrize(("payload", "why"), MISSING_OR_MISTYPED)
def test_missing_or_mistyped_field_is_8000(jdb, payload: dict[str, Any], why: str) -> None:
    sent = jdb(payload)
    assert sent.json["status"] == "8000", sent.json
    assert why in sent.json["err_text"]
    entry = journal()
    assert entry.outcome == "bad_input" and why in entry.error


NEGATIVE_OR_NOT_A_NUMBER = [
    ({**bet_n_settle(5030, "-1", "0"), "win": D("-1"), "netWin": D("-2")}, "win must not be neg"),
    ({**bet_n_settle(5031, "-1", "0"), "mb": D("-5")}, "mb must not be negative"),
    (debit(5032, "-1"), "amount must not be negative"),
    (debit(5033, "-0.01", action=13), "amount must not be negative"),
    (credit(5034, "-1", [1]), "amount must not be negative"),
    (cancel_debits(5035, "-10", [1]), "amount must not be negative"),
    ({**debit(5036, "1"), "amount": "NaN"}, "amount must be a number"),
    ({**debit(5037, "1"), "amount": D("1e999")}, "amount is too large"),
    ({**debit(5038, "1"), "amount": D("0.0000001")}, "more than 6 decimal places"),
    ({**bet_n_settle(5039, "-1", "0"), "bet": D("-1e30")}, "bet is too large"),
]


@pytest.mark.parametrize(("payload", "why"), NEGATIVE_OR_NOT_A_NUMBER)
def test_negative_or_non_numeric_amount_is_8000(jdb, payload: dict[str, Any], why: str) -> None:
    sent = jdb(payload)
    assert sent.json["status"] == "8000"
    assert why in sent.json["err_text"]


# --- player and currency ------------------------------------------------------------------------


def test_unknown_player_is_7501(jdb) -> None:
    sent = jdb(debit(5040, "1", uid="who"))
    assert sent.json["status"] == "7501"
    assert journal().account_id == "who" and journal().outcome == "player_not_found"


@pytest.mark.parametrize("code", ["XX", "rb", "usd", "R B", "CNYY"])
def test_unknown_currency_code_is_8000(jdb, code: str) -> None:
    sent = jdb(debit(5041, "1", currency=code))
    assert sent.json["status"] == "8000"
    assert "unknown currency" in sent.json["err_text"] or "longer" in sent.json["err_text"]


def test_a_valid_iso_code_the_player_has_no_wallet_in_is_8000(jdb) -> None:
    sent = jdb(debit(5042, "1", currency="EUR"))
    assert sent.json["status"] == "8000" and "EUR" in sent.json["err_text"]


def test_currency_codes_follow_the_setting_at_call_time(jdb, settings) -> None:
    settings.JDB_CURRENCY_MAP = "YB:CNY"
    assert jdb(balance_query(currency="YB")).json["status"] == "0000"
    assert jdb(balance_query(currency="RB")).json["status"] == "8000"


def test_a_malformed_currency_map_setting_is_an_internal_error(jdb, settings) -> None:
    settings.JDB_CURRENCY_MAP = "RB=CNY"
    sent = jdb(debit(5043, "1"))
    assert sent.json == {"status": "9999", "err_text": "internal error, try again"}
    assert "JDB_CURRENCY_MAP" in journal().error


# --- transport ----------------------------------------------------------------------------------


def test_oversized_body_is_8000_and_never_decrypted(jdb_raw, settings) -> None:
    settings.PROVIDER_MAX_BODY_BYTES = 1024
    sent = jdb_raw(b"x=" + b"A" * 2000)
    assert sent.json["status"] == "8000" and "over 1024" in sent.json["err_text"]
    assert journal().outcome == "too_large"


def test_a_large_but_allowed_body_is_read(jdb, settings) -> None:
    settings.PROVIDER_MAX_BODY_BYTES = 4096
    assert jdb(balance_query(padding="p" * 1500)).json["status"] == "0000"


def test_get_is_refused_in_jdb_format(client) -> None:
    response = client.get("/providers/jdb/")
    assert response.status_code == 200
    assert response.json() == {"status": "8000", "err_text": "only POST is accepted"}


def test_the_url_works_without_the_trailing_slash_and_never_redirects(client) -> None:
    signed = build_request(balance_query())
    response = client.post("/providers/jdb", signed.body, content_type=signed.content_type)
    assert response.status_code == 200
    assert response.json()["status"] == "0000"


# --- IP allowlist -------------------------------------------------------------------------------


def test_caller_outside_the_allowlist_is_9001(jdb, settings) -> None:
    settings.JDB_ALLOWED_IPS = ["10.1.2.3", "192.168.50.0/24"]
    sent = jdb(debit(5050, "1"), remote_addr="203.0.113.9")
    assert sent.json == {"status": "9001", "err_text": "address 203.0.113.9 is not allowed"}
    entry = journal()
    assert entry.outcome == "forbidden_ip" and entry.client_ip == "203.0.113.9"
    assert entry.payload is None  # a stranger's body is never decrypted


def test_caller_inside_the_allowlist_range_is_served(jdb, settings) -> None:
    settings.JDB_ALLOWED_IPS = ["10.1.2.3", "192.168.50.0/24"]
    assert jdb(balance_query(), remote_addr="192.168.50.77").json["status"] == "0000"


def test_forwarded_for_from_an_untrusted_peer_is_ignored(jdb, settings) -> None:
    settings.JDB_ALLOWED_IPS = ["10.1.2.3"]
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    sent = jdb(balance_query(), remote_addr="203.0.113.9", **{"X-Forwarded-For": "10.1.2.3"})
    assert sent.json["status"] == "9001"
    assert journal().client_ip == "203.0.113.9"


def test_forwarded_for_from_a_trusted_proxy_is_believed(jdb, settings) -> None:
    settings.JDB_ALLOWED_IPS = ["10.1.2.3"]
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    sent = jdb(balance_query(), remote_addr="127.0.0.1", **{"X-Forwarded-For": "10.1.2.3"})
    assert sent.json["status"] == "0000"
    assert journal().client_ip == "10.1.2.3"


def test_a_spoofed_left_hop_through_a_trusted_proxy_is_ignored(jdb, settings) -> None:
    settings.JDB_ALLOWED_IPS = ["10.1.2.3"]
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    sent = jdb(
        balance_query(), remote_addr="127.0.0.1", **{"X-Forwarded-For": "10.1.2.3, 203.0.113.9"}
    )
    assert sent.json["status"] == "9001"
    assert journal().client_ip == "203.0.113.9"


def test_an_action_4_from_outside_the_allowlist_is_9001_as_we_cannot_read_it(jdb, settings) -> None:
    """Not decrypted, so not known to be Action 4; it is not JDB calling anyway."""
    from tests.providers.jdb.jdb_wire import cancel_bet_n_settle

    settings.JDB_ALLOWED_IPS = ["10.1.2.3"]
    assert jdb(cancel_bet_n_settle(5051), remote_addr="203.0.113.9").json["status"] == "9001"
