"""Hostile input at the provider edge (issue 21 items 1, 3, 6, 7), for every provider.

Each request goes through the whole request path (Django's test client, or the WSGI
application the app server calls) and each test checks the answer in the provider's own
format, the journal row, and that the balance did not move. ``test_hostile_edge_server.py``
sends the same classes to the real app server.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client, RequestFactory

from backoffice.wsgi import application
from journal.models import JournalEntry
from providers import journal
from providers.client_base import SignedRequest
from providers.jdb import crypto as jdb_crypto
from providers.jdb.config import aes_key_and_iv
from providers.models import VpNonce
from providers.vp import signature
from providers.vp.client import envelope
from providers.vp.crypto import encrypt as vp_encrypt
from providers.vp.crypto import vp_key
from providers.wire import MAX_DEPTH, TooDeep, check_depth, loads_object
from tests.helpers import balance, requires_postgres
from tests.reliability.conftest import gambler, post_signed
from tests.reliability.flows import Answer, Flows, Gambler, read_answer
from wallet.models import Bet

D = Decimal
PROVIDERS = ("jdb", "vp", "naga", "buffalo")
DEEP = 600  # the Naga body: deep enough to recurse past Python's limit once walked

#: Each provider's "try again" as ``Answer.code`` reads it.
TRY_AGAIN = {"jdb": "9017", "vp": "9999", "naga": "503 Temporarily unavailable"}
TRY_AGAIN["buffalo"] = "TEMPORARY_ERROR"


@pytest.fixture
def alice(db: None) -> Gambler:
    return gambler("alice", "USD", "100")


def deep_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def rows() -> int:
    return JournalEntry.objects.count()


def last_row() -> JournalEntry:
    row = JournalEntry.objects.order_by("-id").first()
    assert row is not None
    return row


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


# --- item 1: work before authentication; depth ------------------------------------------------


def test_the_reader_refuses_nesting_past_the_limit_and_reads_the_rest() -> None:
    assert loads_object('{"a":' + deep_array(MAX_DEPTH - 1) + "}")["a"] is not None
    with pytest.raises(TooDeep):
        loads_object('{"a":' + deep_array(MAX_DEPTH) + "}")
    # Brackets inside strings do not count, an escaped quote does not end a string, and a
    # string left open does not make the scan fail.
    check_depth('{"a":"' + "[" * 500 + '\\"' + "{" * 100 + '"}')
    check_depth('{"a":"\\"' + "[" * 100)
    with pytest.raises(TooDeep):
        check_depth('["[",' * 40)


def deep_request(provider: str, who: Gambler, *, authentic: bool) -> SignedRequest:
    """A request whose body nests ``DEEP`` levels, built as each provider would (or a forger)."""
    if provider == "jdb":
        text = f'{{"action":4,"ts":1,"uid":"{who.account_id}","x":{deep_array(DEEP)}}}'
        key, iv = aes_key_and_iv()
        x = jdb_crypto.encrypt(text.encode(), key, iv) if authentic else "A" * 44
        body = urlencode({"x": x}).encode()
        return SignedRequest("/providers/jdb/", body, "application/x-www-form-urlencoded")
    if provider == "vp":
        if not authentic:  # the envelope itself, before any decryption
            return SignedRequest("/providers/vp/", f'{{"cipherText":{deep_array(DEEP)}}}'.encode())
        text = f'{{"action":"balance","uid":"{who.account_id}","x":{deep_array(DEEP)}}}'
        cipher_text = vp_encrypt(text.encode(), vp_key(settings.VP_API_KEY))
        headers = signature.new_headers(settings.VP_AGENT_ID, cipher_text)
        return SignedRequest("/providers/vp/", envelope(cipher_text), headers=headers)
    if provider == "naga":  # never authentic: the request, a garbage X-Signature
        body = f'{{"data":{{"betId":"b","x":{deep_array(DEEP)}}},"dataHash":"{"ab" * 32}"}}'
        garbage = base64.b64encode(b"\x01" * 256).decode()
        return SignedRequest(
            "/providers/naga/cancel-bet/", body.encode(), headers={"X-Signature": garbage}
        )
    token = settings.BUFFALO_AUTH_TOKEN if authentic else "wrong-token"
    body = f'{{"userId":"{who.account_id}","uuid":"u1","x":{deep_array(DEEP)}}}'
    return SignedRequest(
        "/providers/buffalo/balance", body.encode(), headers={"Authorization": f"Bearer {token}"}
    )


@pytest.mark.parametrize(
    ("provider", "authentic", "code", "outcome"),
    [
        ("jdb", True, "8000", "bad_input"),
        ("jdb", False, "9001", "auth_failed"),
        ("vp", True, "9999", "bad_input"),
        ("vp", False, "9999", "bad_input"),
        (
            "naga",
            False,
            "400 Invalid parameters: body: body nests deeper than 32 levels",
            "bad_input",
        ),
        ("buffalo", True, "INVALID_PARAMETER", "bad_input"),
        ("buffalo", False, "INVALID_TOKEN_ID", "auth_failed"),
    ],
)
def test_a_body_nested_600_deep_is_refused_journaled_and_moves_nothing(
    client: Client,
    alice: Gambler,
    caplog: pytest.LogCaptureFixture,
    provider: str,
    authentic: bool,
    code: str,
    outcome: str,
) -> None:
    request = deep_request(provider, alice, authentic=authentic)
    before = rows()

    answer = post_signed(client, provider, request)

    assert answer.code == code, answer.body
    assert answer.http_status < 500 and answer.content_type == "application/json"
    assert rows() == before + 1
    row = last_row()
    assert (row.provider, row.outcome, row.body_bytes) == (provider, outcome, len(request.body))
    assert balance() == D("100")
    no_errors_logged(caplog)


def test_naga_verifies_the_signature_before_it_serialises_the_data(
    client: Client, alice: Gambler, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forged request costs no serialisation: the data is rebuilt only once signed."""
    monkeypatch.setattr(
        "providers.naga.crypto.js_stringify",
        lambda value: pytest.fail("the data was serialised before the signature was checked"),
    )
    data = Flows().cancel("naga", alice, "nb-1", "", D(0)).payload
    body = json.dumps({"data": {**data, "x": json.loads(deep_array(20))}, "dataHash": "cd" * 32})
    forged = base64.b64encode(b"\x02" * 256).decode()
    request = SignedRequest(
        "/providers/naga/cancel-bet/", body.encode(), headers={"X-Signature": forged}
    )

    answer = post_signed(client, "naga", request)

    assert answer.code == "401 Invalid signature"
    row = last_row()
    assert (row.outcome, row.bet_key) == ("auth_failed", "nb-1")
    assert "does not verify" in row.error
    assert balance() == D("100")


def test_the_journal_cuts_what_it_cannot_redact_and_writes_the_row(db: None) -> None:
    """A payload read some other way than the JSON reader, nested past any limit."""
    deep: Any = "end"
    for _ in range(5000):  # built without recursion; far past Python's recursion limit
        deep = [deep]
    payload = {"playerToken": "secret-token-1234", "x": deep}
    cut = journal.redact_payload(payload, frozenset({"playerToken"}))
    assert cut["playerToken"] == "secr…[redacted]"
    level = cut["x"]
    for _ in range(journal.MAX_PAYLOAD_DEPTH - 2):
        level = level[0]
    assert level == [journal.TRUNCATED]

    from providers.base import InboundCall, ProviderAnswer
    from providers.registry import adapter

    call = InboundCall(RequestFactory().post("/providers/naga/payout/"), b"", "payout", "", "r1")
    call.journal.payload = payload
    journal.insert_inbound(adapter("naga"), call, ProviderAnswer({"data": None}), 1)
    row = last_row()
    assert row.payload["playerToken"] == "secr…[redacted]" and "secret" not in str(row.payload)


# --- item 7: Host, odd paths, X-Forwarded-Proto ------------------------------------------------


class WsgiAnswer:
    def __init__(self, environ: dict[str, Any]) -> None:
        self.status = ""
        self.headers: dict[str, str] = {}
        chunks = application(environ, self._start)
        self.body = b"".join(chunks)

    def _start(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}

    def read(self, provider: str) -> Answer:
        return read_answer(provider, int(self.status[:3]), self.body, self.headers["content-type"])


def environ_for(request: SignedRequest, *, path: str = "", **extra: Any) -> dict[str, Any]:
    """The WSGI environ of ``request`` as the app server builds it (no test client)."""
    built = RequestFactory().generic(
        "POST",
        request.path,
        request.body,
        content_type=request.content_type,
        headers=request.headers,
        REMOTE_ADDR="127.0.0.1",
        **extra,
    )
    environ = dict(built.environ)
    if path:
        environ["PATH_INFO"] = path
    return environ


def money_request(provider: str, who: Gambler) -> SignedRequest:
    flow = "jdb9" if provider == "jdb" else provider
    return Flows().open(flow, who, "7001", D("10"), D("4")).signed()


UNKNOWN_PATH = {
    "jdb": "9001",  # a parameter error is 8000; JDB's unknown action/path answer
    "vp": "9999",
    "naga": "404 Unknown function",
    "buffalo": "UNKNOWN_ERROR",
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("prefix", ["//providers/", "/providers//", "///providers/"])
def test_a_doubled_slash_path_gets_the_providers_refusal_never_html(
    provider: str, prefix: str
) -> None:
    who = gambler("alice", "USD", "100")
    request = money_request(provider, who)
    path = request.path.split("?")[0].replace("/providers/", prefix, 1)

    sent = WsgiAnswer(environ_for(request, path=path))

    assert sent.headers["content-type"] == "application/json", sent.body[:200]
    answer = sent.read(provider)
    assert answer.code in (UNKNOWN_PATH[provider], "8000"), answer.body
    row = last_row()
    assert (row.provider, row.path, row.outcome) == (provider, path, "unknown_action")
    assert balance() == D("100")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_host_outside_allowed_hosts_gets_the_providers_try_again(provider: str) -> None:
    who = gambler("alice", "USD", "100")
    request = money_request(provider, who)

    sent = WsgiAnswer(environ_for(request, HTTP_HOST="evil.example"))

    assert sent.headers["content-type"] == "application/json"
    answer = sent.read(provider)
    assert answer.code == TRY_AGAIN[provider], answer.body
    row = last_row()
    assert (row.provider, row.outcome) == (provider, "bad_host")
    assert "evil.example" in row.error and row.headers["host"] == "evil.example"
    assert balance() == D("100")
    # The same request with a Host we serve goes through.
    assert WsgiAnswer(environ_for(request)).read(provider).code in ("0000", "200", "OK")


@pytest.mark.parametrize(
    ("peer", "secure"), [("203.0.113.9", False), ("10.0.0.10", True), ("10.0.0.11", False)]
)
def test_x_forwarded_proto_is_believed_only_from_a_trusted_proxy(
    client: Client, settings: Any, db: None, peer: str, secure: bool
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.10"]
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/admin/login/", headers={"X-Forwarded-Proto": "https"}, REMOTE_ADDR=peer)

    if secure:
        assert response.status_code == 200
    else:  # plain HTTP whatever the client claims: sent to HTTPS
        assert response.status_code == 301
        assert response["Location"].startswith("https://")


def test_only_the_nearest_proxys_value_counts(client: Client, settings: Any, db: None) -> None:
    """A proxy that appends keeps the client's own value in front: that one is not believed."""
    settings.TRUSTED_PROXIES = ["10.0.0.10"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(
        "/admin/login/", headers={"X-Forwarded-Proto": "https, http"}, REMOTE_ADDR="10.0.0.10"
    )
    assert response.status_code == 301


# --- item 6: chunked bodies through the WSGI application ---------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("terminated", [True, False])
def test_a_chunked_body_is_read_or_answered_try_again(provider: str, terminated: bool) -> None:
    """No Content-Length, Transfer-Encoding: chunked: the stream is read when the server says
    it ends with the body; otherwise the provider's "try again", never a final refusal."""
    who = gambler("alice", "USD", "100")
    request = money_request(provider, who)
    environ = environ_for(request, HTTP_TRANSFER_ENCODING="chunked")
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input"] = io.BytesIO(request.body)  # de-chunked, as the server hands it over
    environ["wsgi.input_terminated"] = terminated

    answer = WsgiAnswer(environ).read(provider)

    if terminated:
        assert answer.code in ("0000", "200", "OK"), answer.body
        assert balance() == (D("94") if provider == "vp" else D("90"))
        assert last_row().body_bytes == len(request.body)
    else:
        assert answer.code == TRY_AGAIN[provider], answer.body
        assert balance() == D("100")
        assert last_row().outcome == "error"


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_over_the_limit_is_refused_too_large(settings: Any) -> None:
    who = gambler("alice", "USD", "100")
    settings.PROVIDER_MAX_BODY_BYTES = 100
    request = money_request("buffalo", who)
    environ = environ_for(request, HTTP_TRANSFER_ENCODING="chunked")
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input"] = io.BytesIO(request.body + b" " * 200)
    environ["wsgi.input_terminated"] = True

    answer = WsgiAnswer(environ).read("buffalo")

    assert answer.code == "INVALID_PARAMETER"
    assert (last_row().outcome, balance()) == ("too_large", D("100"))


# --- item 3: a "try again" can be resent; no database text in answers ----------------------------


CANCEL_FLOW = {"jdb": "jdb9", "vp": "vp", "naga": "naga", "buffalo": "buffalo"}
SUCCESS = {"jdb": "0000", "vp": "0000", "naga": "200", "buffalo": "OK"}
#: A busy wallet's answer to a cancel (JDB Action 11 retries on 9999; 9017 is Action 4's).
BUSY = {**TRY_AGAIN, "jdb": "9999"}


@contextmanager
def bet_row_locked(provider: str, key: str) -> Iterator[None]:
    """Another connection holds the bet's row lock for as long as the block runs."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Bet.objects.select_for_update().get(provider=provider, bet_key=key)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()  # this thread's connection

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        yield
    finally:
        release.set()
        holder.join()


@requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_cancel_answered_try_again_on_a_lock_wait_succeeds_resent_byte_for_byte(
    settings: Any, provider: str
) -> None:
    settings.VP_ROLLBACK_SETTLED = "reverse"  # so that VP's rollback of its round refunds
    who = gambler("alice", "USD", "100")
    flows, flow, client = Flows(), CANCEL_FLOW[provider], Client()
    opened = post_signed(client, provider, flows.open(flow, who, "8001", D("10"), D("4")).signed())
    assert opened.code == SUCCESS[provider], opened.body
    after_bet = balance()
    cancel = flows.cancel(flow, who, "8001", "8002", D("10")).signed()  # signed once, sent thrice
    with connection.cursor() as cursor:  # the test client's requests run on this connection
        cursor.execute("SET lock_timeout = '200ms'")

    with bet_row_locked(provider, "8001"):
        busy = post_signed(client, provider, cancel)

    assert busy.code == BUSY[provider], busy.body
    # PostgreSQL's own words ("canceling statement due to lock timeout") stay in the journal.
    shown = json.dumps(busy.body, default=str).lower()
    assert "lock" not in shown and "statement" not in shown, shown
    row = last_row()
    assert row.outcome == "busy" and "lock timeout" in row.error, (row.outcome, row.error)
    assert balance() == after_bet
    nonce = VpNonce.objects.filter(nonce=cancel.headers.get(signature.NONCE_HEADER, "-"))
    assert not nonce.exists()  # VP's nonce is not spent by a "try again"

    resent = post_signed(client, provider, cancel)

    assert resent.code == SUCCESS[provider], resent.body
    assert balance() == D("100")
    if provider == "vp":  # now the nonce stands with the refund: a copy is a replay
        assert nonce.exists()
        copy = post_signed(client, provider, cancel)
        assert copy.code == "9999" and "already used" in copy.body["errText"]
        assert last_row().outcome == "auth_failed"
        assert balance() == D("100")
