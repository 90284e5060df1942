"""JDB's AES-128-CBC codec for ``x``: the published test vector, key mapping, round trips."""

from __future__ import annotations

import pytest

from journal.models import JournalEntry
from providers.jdb import crypto
from providers.jdb.client import build_request
from providers.jdb.crypto import JdbCryptoError, JdbKeyError, key_bytes

VECTOR_X = (
    "RK3wn-eTsqaqNKQbX9kz6ngE6UktzyXXHiPZh1mQH1Oz9tITxuP7GdX8SZhtbOMPnONlHoiJ3QGgMYHm7oc-OAGBBHBY"
    "Tr9AWRkb2DgEqVaQEA2iBdBfSLtTeeLIeRA7vjw39gpYIcXqnRKvoMX7JkB58pryC-yDisadqo0TPvU"
)
VECTOR_PLAIN = (
    '{"action":21,"ts":1609430400000,"parent":"testParent","uid":"testPlayID","balance":1000,'
    '"lang":"en","gType":"0","mType":"8001"}'
)
VECTOR_KEY = key_bytes("testKey")
VECTOR_IV = key_bytes("testIVtestIVtest", name="JDB_AES_IV")


def test_the_published_vector_decrypts() -> None:
    assert VECTOR_KEY == b"testKey" + b"\0" * 9
    assert crypto.decrypt(VECTOR_X, VECTOR_KEY, VECTOR_IV) == VECTOR_PLAIN


def test_encrypting_the_vector_plaintext_gives_the_published_x() -> None:
    # 127 bytes of JSON + one space of padding = the 128 bytes JDB encrypted.
    assert len(VECTOR_PLAIN) == 127
    assert crypto.encrypt(VECTOR_PLAIN.encode(), VECTOR_KEY, VECTOR_IV) == VECTOR_X


def test_a_normal_sixteen_character_key_is_used_as_it_is() -> None:
    assert key_bytes("testJdbAesKey128") == b"testJdbAesKey128"
    key = key_bytes("testJdbAesKey128")
    iv = key_bytes("testJdbAesIv0016")
    for size in (1, 15, 16, 17, 200):
        text = "é" * size
        x = crypto.encrypt(text.encode(), key, iv)
        assert "=" not in x and "+" not in x and "/" not in x
        assert crypto.decrypt(x, key, iv) == text


@pytest.mark.parametrize("text", ["", "seventeen-chars!!", "ключ-ключ"])
def test_keys_that_cannot_be_aes_128_are_refused(text: str) -> None:
    with pytest.raises(JdbKeyError):
        key_bytes(text)


def test_padding_with_equals_signs_is_tolerated_on_input() -> None:
    x = crypto.encrypt(b'{"a":1}', VECTOR_KEY, VECTOR_IV)
    assert crypto.decrypt(x + "=" * (-len(x) % 4), VECTOR_KEY, VECTOR_IV) == '{"a":1}'


@pytest.mark.parametrize(
    "bad",
    [
        "not base64!",
        VECTOR_X[:-1],  # an impossible base64 length
        VECTOR_X[:40],  # not whole AES blocks
        VECTOR_X.replace("-", "+"),  # standard alphabet: not what JDB sends
        "",
    ],
)
def test_malformed_x_is_a_crypto_error(bad: str) -> None:
    with pytest.raises(JdbCryptoError):
        crypto.decrypt(bad, VECTOR_KEY, VECTOR_IV)


def test_a_wrong_key_does_not_give_the_text() -> None:
    with pytest.raises(JdbCryptoError):
        crypto.decrypt(VECTOR_X, key_bytes("otherKey"), VECTOR_IV)


@pytest.mark.django_db
def test_the_vector_through_the_endpoint_with_the_vector_keys(settings, jdb_raw) -> None:
    """The endpoint decrypts JDB's own sample (Action 21, which we do not serve: 8000)."""
    settings.JDB_AES_KEY = "testKey"
    settings.JDB_AES_IV = "testIVtestIVtest"
    sent = jdb_raw(f"x={VECTOR_X}".encode())
    assert sent.json == {"status": "8000", "err_text": "action 21 is not served"}
    entry = JournalEntry.objects.get()
    assert entry.payload["parent"] == "testParent" and entry.payload["balance"] == 1000
    assert entry.action == "21 (unknown)" and entry.outcome == "unknown_action"
    assert entry.account_id == "testPlayID"


def test_the_client_builds_the_exact_form_body(settings) -> None:
    settings.JDB_AES_KEY = "testKey"
    settings.JDB_AES_IV = "testIVtestIVtest"
    payload = {
        "action": 21,
        "ts": 1609430400000,
        "parent": "testParent",
        "uid": "testPlayID",
        "balance": 1000,
        "lang": "en",
        "gType": "0",
        "mType": "8001",
    }
    signed = build_request(payload)
    assert signed.path == "/providers/jdb/"
    assert signed.content_type == "application/x-www-form-urlencoded"
    assert signed.body == f"x={VECTOR_X}".encode()
