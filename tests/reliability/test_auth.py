"""Authentication under attack: wrong keys and signatures, other players' tokens, spoofed client
addresses; none gets through, each is refused in the provider's format, journaled, and moves no
money. And a full run with known test secrets, whose logs, journal rows and answers are grepped
for every secret: none may appear.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from journal.models import JournalEntry
from providers.client_base import SignedRequest
from providers.jdb import crypto as jdb_crypto
from providers.naga.client import build_request as naga_request
from providers.vp.client import envelope
from providers.vp.crypto import encrypt as vp_encrypt
from providers.vp.signature import new_headers
from providers.wire import dumps
from tests.conftest import TEST_PROVIDER_SETTINGS
from tests.reliability.conftest import gambler, post_signed, private_pem
from tests.reliability.flows import Answer, Call, Flows, Gambler
from wallet.models import Bet, LedgerEntry, PlayerSession, Wallet
from wallet.services import session_create, session_rotate

pytestmark = [pytest.mark.django_db]

D = Decimal


@pytest.fixture
def players() -> dict[str, Gambler]:
    return {"alice": gambler("alice", "USD", "100"), "bob": gambler("bob", "USD", "50")}


@pytest.fixture
def no_money_moves(players: dict[str, Gambler]) -> Iterator[None]:
    """Only the opening deposits exist before and after; no bet row of any kind appears."""
    balances = dict(Wallet.objects.values_list("id", "balance"))
    yield
    assert not LedgerEntry.objects.exclude(kind="deposit").exists()
    assert dict(Wallet.objects.values_list("id", "balance")) == balances
    assert not Bet.objects.exclude(state="tombstone").exists()


def send(signed: SignedRequest, provider: str, **meta: Any) -> Answer:
    remote_addr = meta.pop("REMOTE_ADDR", "127.0.0.1")
    return post_signed(Client(), provider, signed, remote_addr=remote_addr, **meta)


def last_journal() -> JournalEntry:
    row = JournalEntry.objects.order_by("-id").first()
    assert row is not None
    return row


# --- wrong keys and signatures ------------------------------------------------------------------


@pytest.mark.usefixtures("no_money_moves")
def test_jdb_request_under_another_key_is_not_authorised(players: dict[str, Gambler]) -> None:
    payload = Flows().open("jdb9", players["alice"], "5001", D("10"), D(0)).payload
    x = jdb_crypto.encrypt(dumps(payload).encode(), b"someoneElsesKey!", b"testJdbAesIv0016")
    answer = send(
        SignedRequest("/providers/jdb/", f"x={x}".encode(), "application/x-www-form-urlencoded"),
        "jdb",
    )
    assert answer.code == "9001" and answer.balance is None
    assert last_journal().outcome == "auth_failed"


@pytest.mark.usefixtures("no_money_moves")
def test_vp_callback_under_another_key_is_refused(players: dict[str, Gambler]) -> None:
    payload = Flows().open("vp", players["alice"], "b1", D("10"), D("30")).payload
    cipher_text = vp_encrypt(dumps(payload).encode(), bytes(32))
    headers = new_headers(str(TEST_PROVIDER_SETTINGS["VP_AGENT_ID"]), cipher_text)
    answer = send(SignedRequest("/providers/vp/", envelope(cipher_text), headers=headers), "vp")
    assert answer.code == "9999" and answer.balance == D("0.00")  # not alice's balance
    assert last_journal().outcome == "auth_failed"


@pytest.mark.usefixtures("no_money_moves")
@pytest.mark.parametrize("how", ["stranger's key", "data changed after signing", "no signature"])
def test_naga_request_not_signed_by_naga_is_refused(players: dict[str, Gambler], how: str) -> None:
    call = Flows().open("naga", players["alice"], "nb-1", D("10"), D(0))
    if how == "stranger's key":
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        signed = naga_request(call.payload, function="place-bet", private_key=stranger)
    else:
        signed = call.signed()
        if how == "no signature":
            signed = SignedRequest(signed.path, signed.body)
        else:  # the amount raised in the body, hash and signature left as they were
            body = signed.body.replace(b'"amount":10', b'"amount":1')
            signed = SignedRequest(signed.path, body, headers=signed.headers)
    answer = send(signed, "naga")
    assert answer.code == "401 Invalid signature"
    assert last_journal().outcome == "auth_failed"


@pytest.mark.usefixtures("no_money_moves")
@pytest.mark.parametrize(
    ("query", "header"),
    [
        ("wrong", "Bearer test-buffalo-token_01"),
        ("test-buffalo-token_01", "Bearer wrong"),
        ("", None),
        (None, None),
        (None, "Basic dGVzdC1idWZmYWxvLXRva2VuXzAx"),
        ("test-buffalo-token_01&authToken=wrong", None),
    ],
)
def test_buffalo_request_without_the_right_token_everywhere_is_refused(
    players: dict[str, Gambler], query: str | None, header: str | None
) -> None:
    call = Flows().open("buffalo", players["alice"], "bf-1", D("10"), D(0))
    path = "/providers/buffalo/debit" + ("" if query is None else f"?authToken={query}")
    headers = {} if header is None else {"Authorization": header}
    answer = send(SignedRequest(path, dumps(call.payload).encode(), headers=headers), "buffalo")
    assert answer.code == "INVALID_TOKEN_ID"
    assert answer.balance is None  # an unauthenticated caller learns nothing
    assert last_journal().outcome == "auth_failed"


# --- tokens of other players ------------------------------------------------------------------


@pytest.mark.usefixtures("no_money_moves")
def test_buffalo_sid_of_another_player_is_refused_for_every_money_method(
    players: dict[str, Gambler],
) -> None:
    alice, bob = players["alice"], players["bob"]
    as_alice_with_bobs_sid = Gambler("alice", "USD", buffalo_sid=bob.buffalo_sid)
    flows = Flows()
    for call in (
        flows.open("buffalo", as_alice_with_bobs_sid, "bf-1", D("10"), D(0)),
        flows.settle("buffalo", as_alice_with_bobs_sid, "bf-1", "c-1", D("10")),
        flows.cancel("buffalo", as_alice_with_bobs_sid, "bf-1", "", D("10")),
    ):
        answer = send(call.signed(), "buffalo")
        assert answer.code == "INVALID_SID", call.function
        assert answer.balance == D("100")  # the named player's own balance, never bob's
    assert alice.account_id == "alice"


def test_a_players_token_cannot_settle_or_cancel_another_players_naga_bet(
    players: dict[str, Gambler],
) -> None:
    alice, bob = players["alice"], players["bob"]
    flows = Flows()
    assert send(flows.open("naga", alice, "nb-1", D("10"), D(0)).signed(), "naga").code == "200"
    for call in (
        flows.settle("naga", bob, "nb-1", "pay-1", D("500")),
        flows.cancel("naga", bob, "nb-1", "", D(0)),
    ):
        answer = send(call.signed(), "naga")
        assert answer.code == "409 Duplicate bet", answer
    stored = Bet.objects.get(provider="naga", bet_key="nb-1")
    assert stored.state == "open" and stored.needs_review
    assert Wallet.objects.get(player__account_id="alice").balance == D("90")
    assert Wallet.objects.get(player__account_id="bob").balance == D("50")


@pytest.mark.usefixtures("no_money_moves")
def test_expired_rotated_and_foreign_tokens_open_no_bet(players: dict[str, Gambler]) -> None:
    alice = players["alice"]
    expired = session_create(account_id="alice", provider="naga", ttl_seconds=-1).token
    buffalo_token_at_naga = alice.buffalo_sid
    for token in (expired, buffalo_token_at_naga, "x" * 43):
        call = Flows().open("naga", Gambler("alice", "USD", naga_token=token), "nb-1", D("1"), D(0))
        assert send(call.signed(), "naga").code == "401 Invalid player token"
    old = PlayerSession.objects.get(token=alice.buffalo_sid)
    session_rotate(session=old)  # Buffalo's ``check`` retired it
    call = Flows().open("buffalo", alice, "bf-1", D("1"), D(0))
    assert send(call.signed(), "buffalo").code == "INVALID_SID"


# --- client address behind proxies ------------------------------------------------------------

PROXY = "10.0.0.2"
PROVIDER_IP = "203.0.113.7"
ATTACKER = "198.51.100.9"


@pytest.fixture
def allowlists(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    for slug in ("JDB", "VP", "NAGA", "BUFFALO"):
        setattr(settings, f"{slug}_ALLOWED_IPS", [PROVIDER_IP])


def balance_calls(who: Gambler) -> list[Call]:
    """One harmless call per provider (a balance query, or Naga's authorize)."""
    jdb = {"action": 6, "ts": 1, "uid": who.account_id, "currency": "USD", "gType": 0, "mType": 1}
    vp = {"action": "balance", "uid": who.account_id, "currency": "USD", "brand": "VP"}
    naga = {
        "playerToken": who.naga_token,
        "gameCode": "G",
        "brandCode": "TBRD",
        "groupCode": "TGRP",
    }
    buffalo = {"sid": who.buffalo_sid, "userId": who.account_id, "uuid": "u-1", "currency": "USD"}
    return [
        Call("jdb", "", jdb),
        Call("vp", "", vp),
        Call("naga", "authorize", naga),
        Call("buffalo", "balance", buffalo),
    ]


REFUSED_CODES = {"jdb": "9001", "vp": "9999", "naga": "403 Forbidden", "buffalo": "UNKNOWN_ERROR"}


@pytest.mark.usefixtures("allowlists", "no_money_moves")
@pytest.mark.parametrize(
    ("peer", "forwarded", "seen_as"),
    [
        (ATTACKER, PROVIDER_IP, ATTACKER),  # not through our proxy: the header is ignored
        (PROXY, f"{PROVIDER_IP}, {ATTACKER}", ATTACKER),  # the proxy appended the real peer
        (PROXY, ATTACKER, ATTACKER),
        (PROXY, f"{PROVIDER_IP},{ATTACKER},{PROXY}", ATTACKER),  # our own hops are skipped
        (PROXY, "", PROXY),
    ],
)
def test_spoofed_forwarded_for_does_not_pass_the_allowlist(
    players: dict[str, Gambler], peer: str, forwarded: str, seen_as: str
) -> None:
    for call in balance_calls(players["alice"]):
        answer = send(
            call.signed(), call.provider, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded
        )
        assert answer.code == REFUSED_CODES[call.provider], (call.provider, answer.body)
        assert answer.balance in (None, D("0.00")), answer.body  # nothing about the player
        row = last_journal()
        assert (row.provider, row.outcome, row.client_ip) == (
            call.provider,
            "forbidden_ip",
            seen_as,
        )


@pytest.mark.usefixtures("allowlists")
@pytest.mark.parametrize(
    ("peer", "forwarded"),
    [(PROVIDER_IP, ""), (PROXY, PROVIDER_IP), (PROXY, f"{PROVIDER_IP}, {PROXY}")],
)
def test_the_provider_itself_gets_through_directly_or_through_our_proxy(
    players: dict[str, Gambler], peer: str, forwarded: str
) -> None:
    for call in balance_calls(players["alice"]):
        answer = send(
            call.signed(), call.provider, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded
        )
        assert answer.code in ("0000", "200", "OK"), (call.provider, answer.body)
        assert last_journal().client_ip == PROVIDER_IP


@pytest.mark.usefixtures("allowlists", "no_money_moves")
@pytest.mark.parametrize(
    "forwarded", ["not-an-address", "203.0.113.7garbage", "::ffff:zz", "\u00e9"]
)
def test_a_malformed_forwarded_hop_is_refused_and_journaled(
    players: dict[str, Gambler], forwarded: str
) -> None:
    for call in balance_calls(players["alice"]):
        before = JournalEntry.objects.count()
        answer = send(
            call.signed(), call.provider, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded
        )
        assert answer.code == REFUSED_CODES[call.provider]
        assert JournalEntry.objects.count() == before + 1
        assert last_journal().outcome == "forbidden_ip"


# --- secrets stay secret --------------------------------------------------------------------


def _secrets(naga_key: rsa.RSAPrivateKey, gamblers: list[Gambler]) -> dict[str, str]:
    found = {
        name: str(TEST_PROVIDER_SETTINGS[name])
        for name in (
            "JDB_AES_KEY",
            "JDB_AES_IV",
            "VP_API_KEY",
            "VP_SECRET_KEY",
            "BUFFALO_AUTH_TOKEN",
        )
    }
    pem_lines = [line for line in private_pem(naga_key).splitlines() if "-----" not in line]
    found["NAGA private key"] = max(pem_lines, key=len)
    for g in gamblers:
        found[f"naga token of {g.account_id}"] = g.naga_token
        found[f"buffalo sid of {g.account_id}"] = g.buffalo_sid
    return found


def test_secrets_never_reach_logs_journal_or_error_answers(
    players: dict[str, Gambler], naga_key: rsa.RSAPrivateKey, settings: Any, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    alice, bob = players["alice"], players["bob"]
    flows = Flows()
    answers: list[tuple[str, Answer]] = []

    def go(call: Call, **meta: Any) -> None:
        answers.append((call.function, send(call.signed(), call.provider, **meta)))

    # Every provider: a bet, its settle or cancel, their repeats, and refusals of each kind.
    for flow in ("jdb8", "jdb9", "vp", "naga", "buffalo"):
        go(flows.open(flow, alice, "3001", D("5"), D("2")))
        go(flows.open(flow, alice, "3001", D("5"), D("2")))
        if flow in ("jdb9", "naga", "buffalo"):
            go(flows.settle(flow, alice, "3001", "3101", D("1")))
        go(flows.cancel(flow, alice, "3001", "3201", D("5")))
        go(flows.open(flow, bob, "3001", D("9"), D("0")))  # another player's key
        go(flows.open(flow, alice, "3002", D("5000"), D("0")))  # insufficient funds
    go(Call("buffalo", "check", {"sid": alice.buffalo_sid, "userId": "alice", "uuid": "u-9"}))
    go(Call("buffalo", "debit", {"sid": bob.buffalo_sid, "authToken": "leaked", "uuid": "u-8"}))
    go(
        Call(
            "naga",
            "balance",
            {"playerToken": bob.naga_token, "brandCode": "TBRD", "groupCode": "TGRP"},
        )
    )
    # Our own misconfiguration, answered as "try again" and logged with its stack trace.
    jdb_signed = flows.open("jdb9", alice, "3003", D("1"), D(0)).signed()
    naga_signed = flows.open("naga", alice, "3004", D("1"), D(0)).signed()
    settings.JDB_AES_KEY = "a-secret-key-of-the-wrong-length"
    answers.append(("jdb", send(jdb_signed, "jdb")))
    settings.JDB_AES_KEY = TEST_PROVIDER_SETTINGS["JDB_AES_KEY"]
    settings.NAGA_PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----"
    answers.append(("naga", send(naga_signed, "naga")))
    # A request whose refusal message could echo what it was sent.
    bad = SignedRequest(
        "/providers/buffalo/debit?authToken="
        + str(TEST_PROVIDER_SETTINGS["BUFFALO_AUTH_TOKEN"])[:-1],
        b"{}",
        headers={"Authorization": "Bearer " + str(TEST_PROVIDER_SETTINGS["BUFFALO_AUTH_TOKEN"])},
    )
    answers.append(("debit", send(bad, "buffalo")))

    secrets = _secrets(naga_key, [alice, bob])
    secrets["misconfigured JDB key"] = "a-secret-key-of-the-wrong-length"
    journal_text = json.dumps(list(JournalEntry.objects.values()), default=str, ensure_ascii=False)
    rotated = [a.body.get("sid", "") for f, a in answers if f == "check"]
    answer_text = json.dumps(
        [a.body for f, a in answers if f != "check"], default=str, ensure_ascii=False
    )
    assert len(JournalEntry.objects.all()) == len(answers)
    assert any(r.levelno >= logging.ERROR for r in caplog.records)  # the tracebacks were logged
    for name, secret in {**secrets, "rotated sid": rotated[0]}.items():
        assert secret and len(secret) >= 8, name
        assert secret not in caplog.text, f"{name} is in the logs"
        assert secret not in journal_text, f"{name} is in the journal"
        assert secret not in answer_text, f"{name} is in an answer"
