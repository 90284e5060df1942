"""The VP client against the fake VP: encryption, signature, shared token, codes, journal."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from journal.models import JournalEntry
from providers.vp.api_client import (
    CardRequest,
    VpClient,
    VpCode,
    VpOutcome,
    outcome_of_code,
)
from providers.vp.cards.models import VpAccessToken
from providers.vp.crypto import decrypt, vp_key
from tests.conftest import TEST_PROVIDER_SETTINGS
from tests.providers.vp_cards.conftest import SLOW
from tests.providers.vp_cards.fake_vp import Behaviour, FakeVp, closed_port_url

pytestmark = pytest.mark.django_db

KEY = vp_key(str(TEST_PROVIDER_SETTINGS["VP_API_KEY"]))
CANCEL = "/v2/items/cancel"


def cancel(client: VpClient | None = None, spin_id: str = "S1"):
    return (client or VpClient()).items_cancel(username="alice", spin_id=spin_id)


def test_requests_are_encrypted_signed_and_carry_the_bearer(fake_vp: FakeVp) -> None:
    fake_vp.add_member("alice")
    reply = cancel()
    assert reply.outcome is VpOutcome.NOT_FOUND_OR_FINISHED  # VP checked all and answered 4
    [auth] = fake_vp.calls("/v2/auth")
    [call] = fake_vp.calls(CANCEL)
    assert call.payload == {"username": "alice", "spinId": "S1"}
    assert auth.payload == {"agentId": "integratorTest01", "secret": "test-vp-secret"}
    assert "authorization" not in auth.headers
    assert call.headers["authorization"].startswith("Bearer tok-")
    h = call.headers
    assert h["x-agentid"] == "integratorTest01"
    assert abs(int(h["x-timestamp"]) - time.time() * 1000) < 60_000
    assert len(h["x-nonce"]) == 32 and h["x-nonce"] != auth.headers["x-nonce"]


def test_the_wire_body_is_only_the_cipher_text_and_the_signature_covers_it(
    fake_vp: FakeVp,
) -> None:
    """Recompute what VP computes, from what VP received."""
    sent: list[bytes] = []
    client = VpClient()
    original = client._session.post

    def spy(url: str, data: bytes, **kwargs: object):  # type: ignore[no-untyped-def]
        sent.append(data)
        return original(url, data=data, **kwargs)

    client._session.post = spy  # type: ignore[method-assign]
    cancel(client)
    body = json.loads(sent[-1])
    assert list(body) == ["cipherText"]
    assert json.loads(decrypt(body["cipherText"], KEY)) == {"username": "alice", "spinId": "S1"}
    h = fake_vp.calls(CANCEL)[0].headers
    text = f"{h['x-agentid']}|{h['x-timestamp']}|{h['x-nonce']}|{body['cipherText']}"
    assert h["x-signature"] == hashlib.sha256(text.encode()).hexdigest()


def test_amounts_travel_exactly(fake_vp: FakeVp) -> None:
    fake_vp.add_member("alice")
    card = CardRequest(
        username="alice",
        spin_id="S2",
        game_code="VP_SLOT_1",
        card_type=1,
        rounds=10,
        expires_at=timezone.now() + timedelta(days=1),
        item_bet=Decimal("0.20"),
        max_win_amount=Decimal("1234567.123456"),
    )
    reply = VpClient().items_use(card)
    assert reply.ok and reply.data["itemId"].endswith("_S2")
    payload = fake_vp.calls("/v2/items/use")[0].payload
    assert payload["maxWinAmount"] == Decimal("1234567.123456")
    assert payload["itemBetInfo"] == {"itemBet": Decimal("0.20")}
    assert payload["expiredTime"].endswith("Z") and payload["cardType"] == 1


# --- the shared token -----------------------------------------------------------------------


def test_one_login_serves_every_worker_and_the_token_is_stored_encrypted(
    fake_vp: FakeVp,
) -> None:
    for _ in range(3):
        cancel(VpClient())  # a new client each time, like separate workers
    assert len(fake_vp.calls("/v2/auth")) == 1
    assert len(fake_vp.calls(CANCEL)) == 3
    row = VpAccessToken.objects.get()
    token = fake_vp.calls(CANCEL)[0].headers["authorization"].removeprefix("Bearer ")
    assert token not in row.token_cipher
    assert decrypt(row.token_cipher, KEY).decode() == token
    lifetime = (row.expires_at - row.fetched_at).total_seconds()
    assert lifetime == 3600
    assert (row.expires_at - row.refresh_after).total_seconds() == 300


def test_token_is_refreshed_before_it_runs_out(fake_vp: FakeVp) -> None:
    cancel()
    first = fake_vp.calls(CANCEL)[0].headers["authorization"]
    # Inside the refresh margin (the token is still valid at VP for a little while).
    VpAccessToken.objects.update(refresh_after=timezone.now() - timedelta(seconds=1))
    cancel()
    assert len(fake_vp.calls("/v2/auth")) == 2
    assert fake_vp.calls(CANCEL)[1].headers["authorization"] != first
    assert VpAccessToken.objects.count() == 1


def test_a_token_vp_let_expire_is_never_sent(fake_vp: FakeVp) -> None:
    """Real time: VP's token lives 1 s; the next call after that logs in first, no 83."""
    fake_vp.state.token_lifetime = 1
    cancel()
    time.sleep(1.1)
    cancel()
    assert [c.code for c in fake_vp.calls(CANCEL)] == [8, 8]  # alice is no member here
    assert len(fake_vp.calls("/v2/auth")) == 2


def test_short_tokens_get_a_proportional_margin(fake_vp: FakeVp) -> None:
    fake_vp.state.token_lifetime = 100
    cancel()
    row = VpAccessToken.objects.get()
    assert (row.expires_at - row.refresh_after).total_seconds() == 10


def test_an_83_discards_the_token_logs_in_again_and_retries_once(fake_vp: FakeVp) -> None:
    fake_vp.add_member("alice")
    cancel()
    fake_vp.revoke_tokens()
    reply = cancel()
    assert reply.outcome is VpOutcome.NOT_FOUND_OR_FINISHED
    assert [c.code for c in fake_vp.calls(CANCEL)] == [4, 83, 4]
    assert len(fake_vp.calls("/v2/auth")) == 2


def test_a_second_83_is_reported_without_looping(fake_vp: FakeVp) -> None:
    fake_vp.then(CANCEL, code=83)
    fake_vp.then(CANCEL, code=83)
    reply = cancel()
    assert reply.outcome is VpOutcome.AUTH_FAILED and reply.code == 83
    assert reply.maybe_delivered  # VP got it (and refused it)
    assert len(fake_vp.calls(CANCEL)) == 2
    assert len(fake_vp.calls("/v2/auth")) == 2


def test_a_refused_login_sends_nothing_else(fake_vp: FakeVp, settings) -> None:
    settings.VP_SECRET_KEY = "wrong-secret"
    reply = cancel()
    assert reply.outcome is VpOutcome.AUTH_FAILED
    assert not reply.maybe_delivered
    assert "could not log in" in reply.message
    assert fake_vp.calls(CANCEL) == []
    assert not VpAccessToken.objects.exists()


def test_a_token_stored_under_another_key_is_replaced(fake_vp: FakeVp, settings) -> None:
    cancel()
    settings.VP_API_KEY = "ff" * 32  # VP would then refuse our bodies with 84 ...
    fake_vp.state.key = bytes.fromhex("ff" * 32)  # ... unless it rotated too: it did
    reply = cancel()
    assert reply.code is not None and reply.code != 84
    assert len(fake_vp.calls("/v2/auth")) == 2


# --- codes and failures -----------------------------------------------------------------------


@pytest.mark.parametrize("code", [c.value for c in VpCode if c not in (VpCode.OK, 83)])
def test_every_vp_code_becomes_its_typed_outcome(fake_vp: FakeVp, code: int) -> None:
    fake_vp.then(CANCEL, code=code)
    reply = cancel()
    assert reply.code == code
    assert reply.outcome is outcome_of_code(code)
    assert reply.outcome not in (VpOutcome.UNKNOWN_CODE, VpOutcome.OK)
    assert reply.log_uuid and reply.http_status == 200


def test_an_unknown_code_is_not_success(fake_vp: FakeVp) -> None:
    fake_vp.then(CANCEL, code=999)
    reply = cancel()
    assert reply.outcome is VpOutcome.UNKNOWN_CODE and not reply.ok


def test_a_slow_vp_times_out_within_the_read_timeout(fake_vp: FakeVp) -> None:
    cancel()  # log in first, so that only the cancel is timed
    fake_vp.then(CANCEL, delay=SLOW)
    started = time.monotonic()
    reply = cancel()
    assert reply.outcome is VpOutcome.TIMEOUT and reply.maybe_delivered
    assert time.monotonic() - started < SLOW


def test_a_dropped_connection_may_have_been_delivered(fake_vp: FakeVp) -> None:
    fake_vp.then(CANCEL, drop=True)
    reply = cancel()
    assert reply.outcome is VpOutcome.CONNECTION_LOST
    assert reply.maybe_delivered


def test_an_unreachable_vp_received_nothing(fake_vp: FakeVp, settings) -> None:
    settings.VP_BASE_URL = closed_port_url()
    reply = cancel()
    assert reply.outcome is VpOutcome.UNREACHABLE
    assert not reply.maybe_delivered


def test_a_proxy_error_page_is_a_bad_answer(fake_vp: FakeVp) -> None:
    fake_vp.then(CANCEL, Behaviour(raw=b"<html>502 Bad Gateway</html>", http_status=502))
    reply = cancel()
    assert reply.outcome is VpOutcome.BAD_ANSWER and reply.http_status == 502


def test_missing_configuration_sends_nothing(settings) -> None:
    settings.VP_BASE_URL = ""
    reply = cancel()
    assert reply.outcome is VpOutcome.NOT_CONFIGURED and "VP_BASE_URL" in reply.message
    assert not reply.maybe_delivered
    assert not JournalEntry.objects.exists()


# --- the journal ------------------------------------------------------------------------------


def test_every_call_is_journaled_outbound_with_secrets_redacted(fake_vp: FakeVp) -> None:
    fake_vp.add_member("alice")
    reply = cancel(spin_id="S9")
    auth, call = JournalEntry.objects.order_by("id")
    assert {auth.direction, call.direction} == {"out"}
    assert (auth.action, call.action) == ("auth", "items/cancel")
    assert auth.path == "/v2/auth" and call.path == "/v2/items/cancel"
    assert auth.payload == {"agentId": "integratorTest01", "secret": "[redacted]"}
    assert auth.answer["data"]["accessToken"].endswith("[redacted]")
    token = fake_vp.calls(CANCEL)[0].headers["authorization"].removeprefix("Bearer ")
    assert token not in json.dumps(auth.answer)  # only a 4-character hint is kept
    assert call.headers["authorization"] == "[redacted]"
    assert call.headers["x-agentid"] == "integratorTest01"
    assert call.payload == {"username": "alice", "spinId": "S9"}
    assert call.answer["code"] == 4 and call.http_status == 200
    assert call.outcome == "not_found_or_finished" and call.error.startswith("The transaction")
    assert call.request_id == reply.log_uuid == call.answer["logUUID"]
    assert call.bet_key == "S9" and call.account_id == "alice"
    assert call.latency_us > 0 and call.body_bytes > 0


def test_a_call_without_an_answer_is_journaled_too(fake_vp: FakeVp) -> None:
    cancel()
    fake_vp.then(CANCEL, drop=True)
    cancel()
    row = JournalEntry.objects.order_by("-id").first()
    assert row is not None and row.outcome == "connection_lost"
    assert row.http_status == 0 and row.answer is None and len(row.request_id) == 32
