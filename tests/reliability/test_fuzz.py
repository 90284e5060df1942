"""Hostile input at every provider endpoint: whatever arrives, the answer is the provider's own
JSON (never HTML, never a 500, always a code from the provider's file), no money moves, and the
request has its journal row, written by the endpoint (not by an unexpected-failure path).

Three fuzzers:

- **transport**: garbage bodies, truncated and bit-flipped real requests, oversized bodies, other
  encodings (UTF-16, Latin-1, invalid UTF-8), wrong content types and methods, junk and huge
  headers (signatures, tokens, X-Forwarded-For, Content-Length), on every URL of every provider;
- **payload**: correctly encrypted and signed requests of real players whose content is broken
  in one required place (missing, wrongly typed, null, NaN, too many decimals, negative, huge,
  duplicate keys, NUL characters, lone surrogates): the authentication passes and the field
  validation must refuse;
- **edges**: correctly encrypted and signed requests (for settles and cancels, of a bet opened
  first) with a number at the edge of the decimal context or of numeric(20,6) in an amount
  (``12345678901234567890123.1234567``, ``1e999999``, ``99999999999999.999999`` ...), or a
  hostile shape in a required field (nesting up to 20,000 deep, long or odd text): no 5xx, the
  provider's format and a documented code, never "try again" for bad input, one journal row,
  ``check_ledger`` clean, and no ledger row or balance change when the answer is a refusal.
  Each example runs in a savepoint rolled back after it, so a violation is its own.

Bounded for CI (about 10 s on SQLite, 20 s on PostgreSQL). A longer run sets the number of
examples of every fuzzer: ``FUZZ_EXAMPLES=5000 .venv/bin/pytest -s tests/reliability/test_fuzz.py``
(``-s`` prints the edge fuzzer's requests per provider and its violations).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journal.models import JournalEntry
from providers.client_base import SignedRequest
from providers.jdb import crypto as jdb_crypto
from providers.jdb.config import aes_key_and_iv
from providers.naga.client import sign as naga_sign
from providers.naga.crypto import data_hash
from providers.vp import signature as vp_signature
from providers.vp.crypto import encrypt as vp_encrypt
from providers.vp.crypto import vp_key
from providers.wire import dumps
from tests.helpers import ON_POSTGRES
from tests.reliability.budget import sized
from tests.reliability.conftest import gambler, post_signed
from tests.reliability.flows import (
    FLOW_PROVIDER,
    RETRY_CODES,
    Answer,
    Call,
    Flows,
    Gambler,
    documented,
    read_answer,
)
from wallet.consistency import check_ledger
from wallet.models import Bet, LedgerEntry, Wallet

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

D = Decimal
NAGA_FUNCTIONS = ("authorize", "place-bet", "payout", "cancel-bet", "bet-status", "balance")
BUFFALO_METHODS = ("check", "balance", "debit", "credit", "cancel", "sid")
PATHS = (
    [("jdb", "/providers/jdb/"), ("jdb", "/providers/jdb"), ("vp", "/providers/vp/")]
    + [("naga", f"/providers/naga/{f}/") for f in (*NAGA_FUNCTIONS, "unknown")]
    + [("buffalo", f"/providers/buffalo/{m}") for m in (*BUFFALO_METHODS, "unknown")]
)
MAX_BODY = 2048  # PROVIDER_MAX_BODY_BYTES in these tests: oversized bodies stay cheap to send
NOBODY = Gambler("fuzz_nobody", "USD", naga_token="not-a-token", buffalo_sid="not-a-sid")

FUZZ_SETTINGS = settings(
    # FUZZ_EXAMPLES overrides the bounded CI size (e.g. FUZZ_EXAMPLES=5000 for a long run).
    max_examples=int(os.environ.get("FUZZ_EXAMPLES") or 0) or sized(120, 250),
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture
def fuzz_world(settings: Any, naga_key: Any) -> dict[str, Gambler]:
    settings.PROVIDER_MAX_BODY_BYTES = MAX_BODY
    return {"alice": gambler("alice", "USD", "100"), "chen": gambler("chen", "CNY", "60")}


class Money:
    """Everything that would show money moving: ledger rows, balances, bets."""

    def __init__(self) -> None:
        self.rows = LedgerEntry.objects.count()
        self.balances = dict(Wallet.objects.values_list("id", "balance"))
        self.bets = Bet.objects.count()

    def unchanged(self) -> bool:
        return (
            LedgerEntry.objects.count() == self.rows
            and dict(Wallet.objects.values_list("id", "balance")) == self.balances
            and Bet.objects.count() == self.bets
        )


def assert_refused_safely(provider: str, send: Callable[[], Answer], kind: str) -> Answer:
    """Send once; the answer is the provider's JSON with a documented code, nothing moved, one
    journal row written by the endpoint with an expected-refusal outcome."""
    money = Money()
    before = JournalEntry.objects.count()
    answer = send()
    assert answer.http_status != 500 and answer.http_status < 600, answer
    assert answer.content_type.startswith("application/json"), answer
    assert isinstance(answer.body, dict), answer
    assert documented(provider, answer), answer
    assert money.unchanged(), answer
    rows = list(JournalEntry.objects.order_by("-id")[: JournalEntry.objects.count() - before])
    assert len(rows) == 1, (answer, len(rows))
    assert rows[0].provider == provider
    assert rows[0].outcome != "error", (rows[0].error, answer)  # no unexpected failure
    return answer


# --- transport fuzz -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _json_bytes(value: Any) -> bytes:
    return dumps(value).encode()


def _valid_request(provider: str, path: str) -> SignedRequest:
    """A real request of an unknown player (crypto and signature right, so it gets far).

    Always the same length: hypothesis draws positions in it and needs the same bounds each time.
    """
    flows = Flows(round_tag="fuzz")
    if provider == "jdb":
        call = flows.open("jdb9", NOBODY, "7001", D("1"), D(0))
    elif provider == "vp":
        call = flows.open("vp", NOBODY, "k1", D("1"), D("2"))
    elif provider == "naga":
        call = flows.open("naga", NOBODY, "k1", D("1"), D(0))
        call = Call("naga", path.split("/")[3], call.payload)
    else:
        call = flows.open("buffalo", NOBODY, "k1", D("1"), D(0))
        call.payload["uuid"] = "fuzz-uuid"
        method = path.rsplit("/", 1)[1]
        call = Call("buffalo", method if method in BUFFALO_METHODS else "debit", call.payload)
    signed = call.signed()
    return SignedRequest(path, signed.body, signed.content_type, signed.headers)


@st.composite
def hostile_bodies(draw: st.DrawFn, provider: str, path: str) -> bytes:
    valid = _valid_request(provider, path).body
    choice = draw(st.integers(0, 8))
    if choice == 0:
        return draw(st.binary(max_size=400))
    if choice == 1:
        return valid[: draw(st.integers(0, max(0, len(valid) - 1)))]  # truncated
    if choice == 2:  # one byte changed
        at = draw(st.integers(0, len(valid) - 1))
        return valid[:at] + bytes([valid[at] ^ draw(st.integers(1, 255))]) + valid[at + 1 :]
    if choice == 3:  # oversized
        return valid + b" " * draw(st.integers(MAX_BODY - len(valid) + 1, 3 * MAX_BODY))
    if choice == 4:  # another encoding of the real text (never one that leaves ASCII as it is:
        # latin-1 did, and sent a valid signed request, which a Naga cancel rightly accepts)
        encoding = draw(st.sampled_from(["utf-16", "utf-32", "utf-8-sig", "cp500"]))
        return valid.decode().encode(encoding, errors="replace")
    if choice == 5:
        return _json_bytes(draw(json_values))
    if choice == 6:  # the provider's envelope holding garbage
        junk = draw(st.text(max_size=80))
        return {
            "jdb": ("x=" + junk).encode(),
            "vp": json.dumps({"cipherText": junk}).encode(),
            "naga": json.dumps({"data": {"betId": junk}, "dataHash": "0" * 64}).encode(),
            "buffalo": json.dumps({"sid": junk, "userId": junk, "uuid": junk}).encode(),
        }[provider]
    if choice == 7:  # deep nesting, long strings
        depth = draw(st.integers(50, 3000))
        return (
            b"[" * depth + b"]" * depth if draw(st.booleans()) else b'{"a":"' + b"x" * 1500 + b'"}'
        )
    return b'{"a":1,"a":2}' if draw(st.booleans()) else b"\xff\xfe\x00{"


header_values = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60
) | st.sampled_from(["", " ", "Bearer ", "Bearer " + "A" * 500, "\t", "null", "%00", "é"])
HEADER_NAMES = (
    "Content-Type",
    "X-Signature",
    "Authorization",
    "x-agentid",
    "x-timestamp",
    "x-nonce",
    "x-signature",
    "X-Forwarded-For",
    "X-Request-ID",
)


@st.composite
def hostile_requests(
    draw: st.DrawFn,
) -> tuple[str, str, str, bytes, dict[str, str], dict[str, str]]:
    provider, path = draw(st.sampled_from(PATHS))
    method = draw(st.sampled_from(["POST"] * 6 + ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]))
    body = draw(hostile_bodies(provider, path))
    valid = _valid_request(provider, path)
    headers = dict(valid.headers) if draw(st.booleans()) else {}
    for name in draw(st.lists(st.sampled_from(HEADER_NAMES), max_size=3, unique=True)):
        headers[name] = draw(header_values)
    meta: dict[str, str] = {}
    if draw(st.integers(0, 9)) == 0:
        meta["CONTENT_LENGTH"] = draw(st.sampled_from(["abc", "-1", str(10**12)]))
    if provider == "buffalo" and draw(st.booleans()):
        path += "?" + draw(st.sampled_from(["authToken=", "authToken=x&authToken=y", "a=%ff"]))
    return provider, method, path, body, headers, meta


@given(request=hostile_requests())
@FUZZ_SETTINGS
def test_transport_garbage_is_refused_in_the_providers_format(
    fuzz_world: dict[str, Gambler], request: tuple[Any, ...]
) -> None:
    provider, method, path, body, headers, meta = request
    content_type = headers.pop("Content-Type", None) or (
        "application/x-www-form-urlencoded" if provider == "jdb" else "application/json"
    )

    def send() -> Answer:
        response = Client().generic(
            method, path, body, content_type=content_type, headers=headers, **meta
        )
        return read_answer(
            provider, response.status_code, response.content, response["Content-Type"]
        )

    assert_refused_safely(provider, send, "transport")


# --- payload fuzz ---------------------------------------------------------------------------------

RAW = "__raw__"
#: JSON tokens that no amount field may accept (written into the JSON text as they are).
BAD_AMOUNTS = (
    '"abc"',
    "true",
    "[]",
    "{}",
    "null",
    "-1",
    "-0.01",
    "1.0000001",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "100000000000000000000",
    '"NaN"',
    '"1e400"',
    '"-5"',
    '" "',
)
#: JSON tokens no identifier or text field may accept.
BAD_TEXTS = (
    "true",
    "[]",
    '["a"]',
    "{}",
    '{"a":1}',
    "null",
    "1.5",
    '""',
    '"   "',
    '"' + "x" * 300 + '"',
    '"\\u0000"',
    '"a\\u0000b"',
    '"\\ud800"',
)

#: Fields that hold a list of ids, and what no such field may accept (``["a"]`` would be valid).
LIST_FIELDS = frozenset({"refTransferIds"})
BAD_LISTS = ("[]", '"a"', "[null]", "[[]]", "[true]", "{}", "[1.5]", '["\\u0000"]', "null")


def _with_raw(payload: dict[str, Any], path: tuple[str, ...], token: str | None) -> str:
    """JSON text of ``payload``, the field at ``path`` replaced by a raw token (None: dropped)."""
    clone = json.loads(dumps(payload), parse_float=Decimal)
    holder = clone
    for part in path[:-1]:
        holder = holder[part]
    if token is None:
        del holder[path[-1]]
    else:
        holder[path[-1]] = RAW
    return dumps(clone).replace(json.dumps(RAW), token or "")


def _jdb_request(text: str) -> SignedRequest:
    key, iv = aes_key_and_iv()
    x = jdb_crypto.encrypt(text.encode("utf-8", errors="surrogatepass"), key, iv)
    body = f"x={x}".encode()
    return SignedRequest("/providers/jdb/", body, "application/x-www-form-urlencoded")


def _vp_request(text: str, agent: str) -> SignedRequest:
    key = vp_key(django_settings.VP_API_KEY)
    cipher_text = vp_encrypt(text.encode("utf-8", errors="surrogatepass"), key)
    return SignedRequest(
        "/providers/vp/",
        json.dumps({"cipherText": cipher_text}).encode(),
        headers=vp_signature.new_headers(agent, cipher_text),
    )


def _naga_request(function: str, text: str, key: Any) -> SignedRequest:
    """The data text hashed and signed like Naga does (so only the content can be wrong)."""
    try:
        data = json.loads(text, parse_float=Decimal)
        digest = data_hash(data)
    except (ValueError, TypeError, RecursionError):  # NaN, deep nesting: hash the text
        digest = hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()
    body = '{"data":' + text + ',"dataHash":"' + digest + '"}'
    return SignedRequest(
        f"/providers/naga/{function}/",
        body.encode("utf-8", errors="surrogatepass"),
        headers={"X-Signature": naga_sign(digest.encode(), key)},
    )


def _buffalo_request(method: str, text: str) -> SignedRequest:
    token = django_settings.BUFFALO_AUTH_TOKEN
    return SignedRequest(
        f"/providers/buffalo/{method}?authToken={token}",
        text.encode("utf-8", errors="surrogatepass"),
        headers={"Authorization": f"Bearer {token}"},
    )


#: (flow, kind, required fields as paths, amount fields) of the calls fuzzed with valid crypto.
TARGETS: tuple[tuple[str, str, tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]], ...] = (
    ("jdb8", "open", (("action",), ("uid",), ("currency",), ("transferId",)), (("bet",), ("win",))),
    ("jdb9", "open", (("action",), ("uid",), ("currency",), ("transferId",)), (("amount",),)),
    ("jdb9", "settle", (("uid",), ("transferId",), ("refTransferIds",)), (("amount",),)),
    ("jdb9", "cancel", (("uid",), ("transferId",), ("refTransferIds",)), (("amount",),)),
    ("jdb8", "cancel", (("uid",), ("currency",), ("transferId",)), ()),
    (
        "vp",
        "open",
        (("action",), ("uid",), ("currency",), ("betId",), ("roundId",), ("gameInfo",)),
        (("actualBetAmt",), ("winAmt",)),
    ),
    ("vp", "cancel", (("action",), ("uid",), ("betId",)), ()),
    (
        "naga",
        "open",
        (
            ("betId",),
            ("currency",),
            ("playerToken",),
            ("groupCode",),
            ("brandCode",),
            ("transactionId",),
        ),
        (("amount",),),
    ),
    (
        "naga",
        "settle",
        (("betId",), ("currency",), ("groupCode",), ("brandCode",), ("transactionId",)),
        (("amount",),),
    ),
    (
        "buffalo",
        "open",
        (
            ("sid",),
            ("userId",),
            ("currency",),
            ("uuid",),
            ("game",),
            ("game", "id"),
            ("transaction",),
            ("transaction", "id"),
            ("transaction", "refId"),
        ),
        (("transaction", "amount"),),
    ),
    (
        "buffalo",
        "settle",
        (("sid",), ("userId",), ("currency",), ("transaction", "refId")),
        (("transaction", "amount"),),
    ),
    (
        "buffalo",
        "cancel",
        (("sid",), ("userId",), ("transaction", "refId")),
        (("transaction", "amount"),),
    ),
)


@st.composite
def broken_calls(draw: st.DrawFn) -> tuple[str, str, tuple[str, ...], str | None]:
    flow, kind, required, amounts = draw(st.sampled_from(TARGETS))
    if amounts and draw(st.booleans()):
        return flow, kind, draw(st.sampled_from(amounts)), draw(st.sampled_from(BAD_AMOUNTS))
    field = draw(st.sampled_from(required))
    bad = BAD_LISTS if field[-1] in LIST_FIELDS else BAD_TEXTS
    token = draw(st.sampled_from((None, *bad)))
    return flow, kind, field, token


def _base_call(flow: str, kind: str, who: Gambler) -> Call:
    flows = Flows()
    if kind == "open":
        return flows.open(flow, who, "9001", D("5"), D("1"))
    if kind == "settle":
        return flows.settle(flow, who, "9001", "9002", D("1"))
    return flows.cancel(flow, who, "9001", "9003", D("5"))


@given(broken=broken_calls(), duplicate=st.booleans())
@FUZZ_SETTINGS
def test_authenticated_requests_with_broken_content_are_refused(
    fuzz_world: dict[str, Gambler], naga_key: Any, broken: tuple[Any, ...], duplicate: bool
) -> None:
    flow, kind, path, token = broken
    call = _base_call(flow, kind, fuzz_world["alice"])
    text = _with_raw(call.payload, path, token)
    if duplicate and path and token is not None and len(path) == 1:
        # The field sent twice: a valid value first, then the broken one (ambiguity refused).
        valid = dumps(call.payload[path[0]])
        text = text.replace(f'"{path[0]}":', f'"{path[0]}":{valid},"{path[0]}":', 1)
    if call.provider == "jdb":
        signed = _jdb_request(text)
    elif call.provider == "vp":
        signed = _vp_request(text, django_settings.VP_AGENT_ID)
    elif call.provider == "naga":
        signed = _naga_request(call.function, text, naga_key)
    else:
        signed = _buffalo_request(call.function, text)
    client = Client()
    answer = assert_refused_safely(
        call.provider, lambda: post_signed(client, call.provider, signed), "payload"
    )
    assert answer.code not in ("0000", "200", "OK"), (flow, kind, path, token, answer.body)


# --- edge numbers and shapes, authenticated, per provider ---------------------------------------

#: Numbers at the edges of the decimal context (28 digits, exponents) and of numeric(20,6)
#: (14 digits before the point, 6 after), written into the JSON text as they are.
EDGE_NUMBERS = (
    "12345678901234567890123.1234567",
    "1e999999",
    "-1e999999",
    "1E-999999",
    "99999999999999.999999",
    "99999999999999.99",
    "100000000000000",
    "1E+14",
    "0.000001",
    "0.0000001",
    "0",
    "-0",
    "0.0",
    "1" + "0" * 40,
    "0." + "0" * 40 + "1",
    "9" * 28,
    "9" * 29,
    "1e28",
    "4.9e-324",
    "1.7976931348623157e308",
    '"99999999999999.999999"',
    '"12345678901234567890123.1234567"',
    '"1e999999"',
)
#: The largest amounts numeric(20,6) holds: 16 and more significant digits. SQLite (tests only)
#: stores a refused bet's stake as a float, and Django reads SQLite decimals back through a
#: 15-digit context, so check_ledger cannot read such a row there; PostgreSQL holds them exactly.
COLUMN_EDGE = ("99999999999999.999999", "99999999999999.99")
if not ON_POSTGRES:
    EDGE_NUMBERS = tuple(n for n in EDGE_NUMBERS if n not in COLUMN_EDGE)
#: Where each flow carries an amount, per kind (the paths ``_with_raw`` replaces).
AMOUNT_PATHS: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {
    ("jdb8", "open"): (("bet",), ("win",)),
    ("jdb9", "open"): (("amount",),),
    ("jdb9", "settle"): (("amount",),),
    ("jdb9", "cancel"): (("amount",),),
    ("vp", "open"): (("actualBetAmt",), ("winAmt",)),
    ("naga", "open"): (("amount",),),
    ("naga", "settle"): (("amount",),),
    ("buffalo", "open"): (("transaction", "amount"),),
    ("buffalo", "settle"): (("transaction", "amount"),),
    ("buffalo", "cancel"): (("transaction", "amount"),),
}
#: Where a field's value is replaced by a hostile shape (a required text field of each flow).
SHAPE_PATHS: dict[str, tuple[str, ...]] = {
    "jdb8": ("uid",),
    "jdb9": ("uid",),
    "vp": ("uid",),
    "naga": ("betId",),
    "buffalo": ("userId",),
}
SUCCESS_CODES = frozenset({"0000", "200", "OK"})
_keys = iter(range(700_000, 10**9))


def _examples(default: int) -> int:
    """FUZZ_EXAMPLES overrides the bounded CI size (e.g. FUZZ_EXAMPLES=5000 for a long run)."""
    return int(os.environ.get("FUZZ_EXAMPLES") or 0) or default


EDGE_SETTINGS = settings(FUZZ_SETTINGS, max_examples=_examples(sized(800, 800)))


@st.composite
def hostile_shapes(draw: st.DrawFn) -> str:
    """JSON text no field may accept: deep nesting, long text, odd encodings of text."""
    choice = draw(st.integers(0, 4))
    if choice == 0:
        depth = draw(st.integers(20, 20_000))
        return "[" * depth + "]" * depth
    if choice == 1:
        depth = draw(st.integers(20, 5_000))
        return '{"a":' * depth + "1" + "}" * depth
    if choice == 2:
        return json.dumps("x" * draw(st.integers(129, 40_000)))
    if choice == 3:
        return json.dumps(draw(st.text(min_size=1, max_size=40)), ensure_ascii=draw(st.booleans()))
    return draw(st.sampled_from(['"\\ud800\\udc00"', '"\\udfff"', '"\\u0000"', "1e999999"]))


@st.composite
def edge_cases(draw: st.DrawFn) -> tuple[str, str, tuple[str, ...], str]:
    """(flow, kind, path, raw JSON token): a number at the edge in an amount, or a shape."""
    if draw(st.integers(0, 3)) == 0:
        flow = draw(st.sampled_from(sorted(SHAPE_PATHS)))
        kinds = [kind for (f, kind) in AMOUNT_PATHS if f == flow]
        return flow, draw(st.sampled_from(kinds)), SHAPE_PATHS[flow], draw(hostile_shapes())
    flow, kind = draw(st.sampled_from(sorted(AMOUNT_PATHS)))
    path = draw(st.sampled_from(AMOUNT_PATHS[flow, kind]))
    return flow, kind, path, draw(st.sampled_from(EDGE_NUMBERS))


def _balances() -> dict[int, Decimal]:
    return dict(Wallet.objects.values_list("id", "balance"))


def _signed(call: Call, text: str, naga_key: Any) -> SignedRequest:
    if call.provider == "jdb":
        return _jdb_request(text)
    if call.provider == "vp":
        return _vp_request(text, django_settings.VP_AGENT_ID)
    if call.provider == "naga":
        return _naga_request(call.function, text, naga_key)
    return _buffalo_request(call.function, text)


def _edge_call(flow: str, kind: str, who: Gambler, client: Client, naga_key: Any) -> Call:
    """The call to break; for a settle or a cancel, its bet is opened first (a real stake)."""
    flows, key = Flows(), str(next(_keys))
    if kind == "open":
        call = flows.open(flow, who, key, D("1"), D("2"))
        if flow == "jdb8":
            call.payload.pop("netWin")  # optional; it would refuse any other bet or win first
        return call
    opened = post_signed(
        client, FLOW_PROVIDER[flow], flows.open(flow, who, key, D("1"), D(0)).signed()
    )
    assert opened.code in SUCCESS_CODES, opened
    if kind == "settle":
        return flows.settle(flow, who, key, str(next(_keys)), D("1"))
    return flows.cancel(flow, who, key, str(next(_keys)), D("1"))


def test_edge_numbers_and_shapes_reach_the_wallet_and_break_nothing(
    fuzz_world: dict[str, Gambler], naga_key: Any, settings: Any
) -> None:
    """Authenticated requests of real players (a bet opened first for settles and cancels)
    with a number at the edge of the decimal context or of numeric(20,6) in an amount, or a
    hostile shape (deep nesting, long or odd text) in a required field. Whatever the answer:
    no 5xx, the provider's own format with a documented code, one journal row, the ledger
    consistent; and when the answer is a refusal, no money moved."""
    settings.PROVIDER_MAX_BODY_BYTES = 64 * 1024  # the default: deep bodies reach the parser
    # A view's exception becomes the 500 it would be in production, reported as a violation.
    client = Client(raise_request_exception=False)
    counts: Counter[str] = Counter()
    violations: set[str] = set()

    @given(case=edge_cases())
    @EDGE_SETTINGS
    def run(case: tuple[str, str, tuple[str, ...], str]) -> None:
        # Each example in a savepoint rolled back after it: a violation is the example's own.
        with transaction.atomic():
            check(*case)
            transaction.set_rollback(True)

    def check(flow: str, kind: str, path: tuple[str, ...], token: str) -> None:
        provider = FLOW_PROVIDER[flow]
        call = _edge_call(flow, kind, fuzz_world["alice"], client, naga_key)
        if flow == "jdb8" and path == ("bet",):
            token = token[1:] if token.startswith("-") else "-" + token  # JDB's bet is negative
        signed = _signed(call, _with_raw(call.payload, path, token), naga_key)
        # A refused bet keeps a row (cancel rule 7 reads it): money is the ledger and balances.
        rows, balances = LedgerEntry.objects.count(), _balances()
        journal_rows = JournalEntry.objects.count()
        answer = post_signed(client, provider, signed)
        counts[provider] += 1
        problems = []
        if answer.http_status >= 500 and answer.code not in RETRY_CODES[provider]:
            problems.append(f"HTTP {answer.http_status}")
        # Bad input is never "try again" (the provider would retry it forever); VP is the
        # exception: 9999 is also its only answer for a request it cannot use (vp.md).
        if provider != "vp" and answer.code in RETRY_CODES[provider]:
            problems.append(f"'try again' {answer.code} for bad input")
        if not isinstance(answer.body, dict) or not documented(provider, answer):
            problems.append(f"answer not in {provider}'s format: {answer.body!r:.120}")
        if JournalEntry.objects.count() - journal_rows != 1:
            problems.append(f"{JournalEntry.objects.count() - journal_rows} journal rows")
        moved = LedgerEntry.objects.count() != rows or _balances() != balances
        if answer.code not in SUCCESS_CODES and moved:
            problems.append("a refusal moved money")
        try:
            report = check_ledger()
        except (ArithmeticError, ValueError) as exc:  # a row no Decimal context can read
            problems.append(f"check_ledger cannot read the ledger: {exc!r}")
        else:
            if not report.ok:
                problems.append(f"check_ledger: {[str(p) for p in report.problems][:3]}")
        if problems:
            shown = token if len(token) <= 40 else f"{token[:20]}...({len(token)} chars)"
            violations.add(f"{flow} {kind} {'.'.join(path)}={shown}: {problems}")

    run()
    print(f"\nedge fuzz: {dict(counts)} requests, {len(violations)} distinct violations")
    for violation in sorted(violations):
        print("  ", violation)
    assert set(counts) == {"jdb", "vp", "naga", "buffalo"}, counts
    assert not violations, sorted(violations)
