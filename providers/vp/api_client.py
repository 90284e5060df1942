"""The VP client: the only code that calls VertexPlay (operator cards, vp.md second half).

Every call is a POST of ``{"cipherText": ...}`` (the plain JSON body sealed with AES-256-GCM
under ``VP_API_KEY``), signed with ``x-agentid``/``x-timestamp``/``x-nonce``/``x-signature``
and, except ``/v2/auth``, ``Authorization: Bearer <token>``. VP answers plain JSON
``{"code", "message", "data", "logUUID"}``; each answer (or its absence) becomes a typed
``VpReply`` whose ``outcome`` callers act on, never a raw code.

The bearer token lives in the database (``operator_cards.VpAccessToken``), not in process
memory or Django's default per-process cache, so every app server behind the load balancer
shares one token instead of each logging in on its own. It is refreshed ahead of ``expiresIn``
and once more when VP answers 83 (authentication failed).

Every HTTP exchange, ``/v2/auth`` included, is written to the request journal as an outbound
row (secrets redacted), with VP's ``logUUID`` as its request id.

Settings are read at call time through ``providers.vp.config``: ``VP_BASE_URL``,
``VP_AGENT_ID``, ``VP_API_KEY``, ``VP_SECRET_KEY``, ``VP_CONNECT_TIMEOUT``, ``VP_READ_TIMEOUT``.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any
from urllib.parse import urlsplit

import requests
from django.db import IntegrityError, transaction
from django.utils import timezone
from urllib3.exceptions import MaxRetryError, NewConnectionError

from journal.models import Direction, JournalEntry
from providers.journal import REDACTED, mask, redact_headers
from providers.vp import config, signature
from providers.vp.config import ApiSettings, NotConfigured
from providers.vp.crypto import VpCryptoError, decrypt, encrypt
from providers.wire import WireError, dumps, loads_object, to_jsonable

log = logging.getLogger(__name__)

#: Fields that never reach the journal: the login secret entirely, tokens but for a hint
#: (4 characters, so staff can tell two tokens apart).
SECRET_FIELDS = frozenset({"secret"})
TOKEN_FIELDS = frozenset({"accessToken"})
#: A token whose lifetime VP did not state is trusted this long (seconds).
DEFAULT_TOKEN_LIFETIME = 300
#: Refresh this long before the token runs out, at most (and at most a tenth of its life).
MAX_REFRESH_MARGIN = 300


class VpCode(IntEnum):
    """The codes VP answers on the operator-card calls (vp.md)."""

    OK = 0
    NOT_FOUND_OR_FINISHED = 4  # no such card, or already cancelled or completed
    GAME_NOT_FOUND = 5
    INTERNAL_ERROR = 7
    MEMBER_NOT_FOUND = 8
    AGENT_NOT_FOUND_OR_BLOCKED = 10
    PARAMETER_ERROR = 11
    WALLET_LOCKED = 20
    TOO_MANY_REQUESTS = 77
    SPIN_ID_ALREADY_USED = 78
    AUTHENTICATION_FAILED = 83
    DECRYPTION_FAILED = 84
    KEY_CONFIGURATION_ERROR = 85
    GAME_RESTRICTED = 86


class VpOutcome(StrEnum):
    """What a call came to: one per VP code, plus what can go wrong before VP answers."""

    OK = "ok"
    NOT_FOUND_OR_FINISHED = "not_found_or_finished"
    GAME_NOT_FOUND = "game_not_found"
    VP_INTERNAL_ERROR = "vp_internal_error"
    MEMBER_NOT_FOUND = "member_not_found"
    AGENT_BLOCKED = "agent_blocked"
    PARAMETER_ERROR = "parameter_error"
    WALLET_LOCKED = "wallet_locked"
    RATE_LIMITED = "rate_limited"
    SPIN_ID_USED = "spin_id_used"
    AUTH_FAILED = "auth_failed"
    DECRYPTION_FAILED = "decryption_failed"
    KEY_CONFIG_ERROR = "key_config_error"
    GAME_RESTRICTED = "game_restricted"
    UNKNOWN_CODE = "unknown_code"  # VP answered a code this client does not know
    # No VP answer:
    TIMEOUT = "timeout"  # sent, but no answer within VP_READ_TIMEOUT: VP may have acted
    CONNECTION_LOST = "connection_lost"  # the connection broke after sending: VP may have acted
    UNREACHABLE = "unreachable"  # could not connect: nothing was sent
    BAD_ANSWER = "bad_answer"  # an answer that is not VP's JSON (proxy page, HTTP error)
    NOT_CONFIGURED = "not_configured"  # VP_BASE_URL or credentials missing: nothing was sent


_OUTCOME_OF_CODE: dict[int, VpOutcome] = {
    VpCode.OK: VpOutcome.OK,
    VpCode.NOT_FOUND_OR_FINISHED: VpOutcome.NOT_FOUND_OR_FINISHED,
    VpCode.GAME_NOT_FOUND: VpOutcome.GAME_NOT_FOUND,
    VpCode.INTERNAL_ERROR: VpOutcome.VP_INTERNAL_ERROR,
    VpCode.MEMBER_NOT_FOUND: VpOutcome.MEMBER_NOT_FOUND,
    VpCode.AGENT_NOT_FOUND_OR_BLOCKED: VpOutcome.AGENT_BLOCKED,
    VpCode.PARAMETER_ERROR: VpOutcome.PARAMETER_ERROR,
    VpCode.WALLET_LOCKED: VpOutcome.WALLET_LOCKED,
    VpCode.TOO_MANY_REQUESTS: VpOutcome.RATE_LIMITED,
    VpCode.SPIN_ID_ALREADY_USED: VpOutcome.SPIN_ID_USED,
    VpCode.AUTHENTICATION_FAILED: VpOutcome.AUTH_FAILED,
    VpCode.DECRYPTION_FAILED: VpOutcome.DECRYPTION_FAILED,
    VpCode.KEY_CONFIGURATION_ERROR: VpOutcome.KEY_CONFIG_ERROR,
    VpCode.GAME_RESTRICTED: VpOutcome.GAME_RESTRICTED,
}


def outcome_of_code(code: int) -> VpOutcome:
    return _OUTCOME_OF_CODE.get(code, VpOutcome.UNKNOWN_CODE)


@dataclass(frozen=True)
class VpReply:
    """VP's answer to one call, or why there is none.

    ``maybe_delivered`` is False only when VP certainly never received the request (no
    connection, no token, not configured): then nothing can have happened at VP. ``code`` is
    VP's code (None when VP did not answer with one).
    """

    outcome: VpOutcome
    code: int | None = None
    message: str = ""
    data: Any = None
    log_uuid: str = ""
    http_status: int | None = None
    maybe_delivered: bool = True

    @property
    def ok(self) -> bool:
        return self.outcome is VpOutcome.OK


@dataclass(frozen=True)
class CardRequest:
    """What we ask VP to put on a player's account (``/v2/items/use`` or the simple call)."""

    username: str
    spin_id: str
    game_code: str
    card_type: int
    rounds: int
    expires_at: datetime
    item_bet: Decimal | None = None
    free_spin_multiple: int | None = None
    lower_multiple: int | None = None
    upper_multiple: int | None = None
    max_win_amount: Decimal | None = None

    def use_payload(self) -> dict[str, Any]:
        # Multipliers staff left empty are left out rather than guessed: VP's own defaults
        # apply, and a combination VP dislikes comes back as code 11 with its message.
        bet_info = {
            "itemBet": self.item_bet,
            "freeSpinMultiple": self.free_spin_multiple,
            "lowerMultiple": self.lower_multiple,
            "upperMultiple": self.upper_multiple,
        }
        return {
            "username": self.username,
            "spinId": self.spin_id,
            "gameCode": self.game_code,
            "expiredTime": iso_utc(self.expires_at),
            "round": self.rounds,
            "maxWinAmount": self.max_win_amount,
            "itemBetInfo": {k: v for k, v in bet_info.items() if v is not None},
            "cardType": self.card_type,
        }

    def simple_free_spin_payload(self) -> dict[str, Any]:
        optional = {
            "maxWinAmount": self.max_win_amount,
            "itemBet": self.item_bet,
            "multiple": self.free_spin_multiple,
            "expiredTime": iso_utc(self.expires_at),
        }
        return {
            "username": self.username,
            "spinId": self.spin_id,
            "gameCode": self.game_code,
            "round": self.rounds,
            **{k: v for k, v in optional.items() if v is not None},
        }


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds, e.g. ``2025-01-31T23:59:59.000Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


# --- the shared token ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    value: str
    cipher: str  # the stored row's cipher text: identifies which token a worker used


class SharedTokenStore:
    """The bearer token in the database, shared by every worker of every app server.

    Two workers that find no valid token at the same moment may both log in; the last one
    stored wins and the other's token stays valid until it expires (VP issues JWT-style
    tokens). An 83 answer discards only the token that failed, so a worker never throws away
    a fresher token another one just stored.
    """

    def current(self, cfg: ApiSettings) -> _Token | None:
        from providers.vp.cards.models import VpAccessToken

        row = (
            VpAccessToken.objects.filter(agent_id=cfg.agent_id, base_url=cfg.base_url)
            .values_list("token_cipher", "refresh_after")
            .first()
        )
        if row is None or row[1] <= timezone.now():
            return None
        try:
            return _Token(decrypt(row[0], cfg.api_key).decode(), row[0])
        except (VpCryptoError, UnicodeDecodeError):
            return None  # stored under an older key: log in again

    def save(self, cfg: ApiSettings, token: str, lifetime_seconds: int) -> _Token:
        from providers.vp.cards.models import VpAccessToken

        now = timezone.now()
        margin = min(MAX_REFRESH_MARGIN, lifetime_seconds // 10)
        cipher = encrypt(token.encode(), cfg.api_key)
        fields = {
            "token_cipher": cipher,
            "fetched_at": now,
            "refresh_after": now + timedelta(seconds=lifetime_seconds - margin),
            "expires_at": now + timedelta(seconds=lifetime_seconds),
        }
        rows = VpAccessToken.objects.filter(agent_id=cfg.agent_id, base_url=cfg.base_url)
        if not rows.update(**fields):
            try:
                with transaction.atomic():
                    VpAccessToken.objects.create(
                        agent_id=cfg.agent_id, base_url=cfg.base_url, **fields
                    )
            except IntegrityError:  # another worker inserted it first: ours is as good
                rows.update(**fields)
        return _Token(token, cipher)

    def discard(self, cfg: ApiSettings, token: _Token) -> None:
        from providers.vp.cards.models import VpAccessToken

        VpAccessToken.objects.filter(
            agent_id=cfg.agent_id, base_url=cfg.base_url, token_cipher=token.cipher
        ).delete()


# --- the client ---------------------------------------------------------------------------------


class VpClient:
    """Calls VP's operator-card API. Cheap to create; make one per operation or thread."""

    def __init__(self, *, session: requests.Session | None = None) -> None:
        self._session = session or requests.Session()
        self._tokens = SharedTokenStore()

    # Public calls, one per VP endpoint.

    def items_info(self) -> VpReply:
        """``/v2/items/info``: the card templates VP offers, per game (``data`` is a list)."""
        return self._authorised_call("items/info", {})

    def items_use(self, card: CardRequest) -> VpReply:
        """``/v2/items/use``: send a card; ``data.itemId`` on success."""
        return self._authorised_call("items/use", card.use_payload())

    def items_use_simple_free_spin(self, card: CardRequest) -> VpReply:
        """``/v2/items/usesimplefreespin``: send plain free spins (card type 1 or 2)."""
        return self._authorised_call("items/usesimplefreespin", card.simple_free_spin_payload())

    def items_cancel(self, *, username: str, spin_id: str) -> VpReply:
        """``/v2/items/cancel``: idempotent on ``spinId`` (a repeat gets the same result)."""
        return self._authorised_call("items/cancel", {"username": username, "spinId": spin_id})

    def authenticate(self) -> VpReply:
        """``/v2/auth``: log in and store the token for every worker (normally automatic)."""
        try:
            cfg = config.api_settings()
        except NotConfigured as exc:
            return _not_configured(str(exc))
        reply, _ = self._log_in(cfg)
        return reply

    # Internals.

    def _authorised_call(self, action: str, payload: dict[str, Any]) -> VpReply:
        try:
            cfg = config.api_settings()
        except NotConfigured as exc:
            return _not_configured(str(exc))
        token = self._tokens.current(cfg)
        if token is None:
            failure, token = self._log_in(cfg)
            if token is None:
                return _not_sent(failure)
        reply = self._exchange(cfg, action, payload, token.value)
        if reply.outcome is not VpOutcome.AUTH_FAILED:
            return reply
        # 83: the token was revoked or expired early. Drop that token (only that one), take a
        # fresher one another worker may have stored or log in again, and try exactly once more.
        # Resending is safe: VP refused the first request before doing anything.
        self._tokens.discard(cfg, token)
        token = self._tokens.current(cfg)
        if token is None:
            failure, token = self._log_in(cfg)
            if token is None:
                return _not_sent(failure)
        return self._exchange(cfg, action, payload, token.value)

    def _log_in(self, cfg: ApiSettings) -> tuple[VpReply, _Token | None]:
        reply = self._exchange(cfg, "auth", {"agentId": cfg.agent_id, "secret": cfg.secret}, None)
        if not reply.ok:
            return reply, None
        data = reply.data if isinstance(reply.data, dict) else {}
        access_token = data.get("accessToken")
        if not isinstance(access_token, str) or not access_token:
            bad = VpReply(
                VpOutcome.BAD_ANSWER,
                reply.code,
                "VP's /v2/auth answer has no accessToken",
                log_uuid=reply.log_uuid,
                http_status=reply.http_status,
            )
            return bad, None
        lifetime = data.get("expiresIn")
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime <= 0:
            lifetime = DEFAULT_TOKEN_LIFETIME
        return reply, self._tokens.save(cfg, access_token, lifetime)

    def _exchange(
        self, cfg: ApiSettings, action: str, payload: dict[str, Any], bearer: str | None
    ) -> VpReply:
        """Encrypt, sign, POST, classify, journal: one HTTP exchange with VP."""
        cipher_text = encrypt(dumps(payload).encode(), cfg.api_key)
        body = dumps({"cipherText": cipher_text}).encode()
        timestamp = str(int(time.time() * 1000))
        nonce = secrets.token_hex(16)
        headers = {
            "Content-Type": "application/json",
            "x-agentid": cfg.agent_id,
            "x-timestamp": timestamp,
            "x-nonce": nonce,
            "x-signature": signature.sign(cfg.agent_id, timestamp, nonce, cipher_text),
        }
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        url = f"{cfg.base_url}/v2/{action}"
        started = time.perf_counter_ns()
        answer_body: Any = None
        try:
            response = self._session.post(url, data=body, headers=headers, timeout=cfg.timeouts)
        except requests.RequestException as exc:
            reply = _transport_failure(exc)
        else:
            reply, answer_body = _classify(response)
        latency_us = (time.perf_counter_ns() - started) // 1000
        if not reply.ok:
            log.warning("VP %s: %s %s", action, reply.outcome.value, reply.message[:200])
        _journal(action, url, headers, payload, body, reply, answer_body, latency_us)
        return reply


def _transport_failure(exc: requests.RequestException) -> VpReply:
    if isinstance(exc, requests.exceptions.ConnectTimeout) or _never_connected(exc):
        return VpReply(VpOutcome.UNREACHABLE, message=_short(exc), maybe_delivered=False)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return VpReply(VpOutcome.TIMEOUT, message=f"no answer in time ({_short(exc)})")
    return VpReply(VpOutcome.CONNECTION_LOST, message=_short(exc))


def _never_connected(exc: requests.RequestException) -> bool:
    """True when the TCP connection was never made, so the request cannot have reached VP."""
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError)


def _classify(response: requests.Response) -> tuple[VpReply, Any]:
    status = response.status_code
    try:
        answer = loads_object(response.content)
    except WireError as exc:
        text = response.content[:300].decode("utf-8", "replace")
        outcome = VpOutcome.AUTH_FAILED if status in (401, 403) else VpOutcome.BAD_ANSWER
        reply = VpReply(outcome, message=f"HTTP {status}, not VP's JSON: {exc}", http_status=status)
        return reply, {"unparsed": text}
    code = answer.get("code")
    log_uuid = str(answer.get("logUUID") or "")[:64]
    message = str(answer.get("message") or "")[:500]
    if isinstance(code, bool) or not isinstance(code, int):
        reply = VpReply(
            VpOutcome.BAD_ANSWER,
            message=f"HTTP {status}, answer without a numeric code",
            log_uuid=log_uuid,
            http_status=status,
        )
        return reply, answer
    reply = VpReply(
        outcome_of_code(code),
        code,
        message,
        data=answer.get("data"),
        log_uuid=log_uuid,
        http_status=status,
    )
    return reply, answer


def _not_configured(message: str) -> VpReply:
    return VpReply(VpOutcome.NOT_CONFIGURED, message=message, maybe_delivered=False)


def _not_sent(auth_failure: VpReply) -> VpReply:
    """The outcome of a call that never left because no token could be had."""
    return VpReply(
        auth_failure.outcome,
        auth_failure.code,
        f"could not log in to VP: {auth_failure.message}",
        log_uuid=auth_failure.log_uuid,
        http_status=auth_failure.http_status,
        maybe_delivered=False,
    )


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def _redacted(value: Any) -> Any:
    """A copy fit for the journal: secrets replaced, tokens reduced to a hint, at any depth."""
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    if not isinstance(value, dict):
        return value
    copy: dict[str, Any] = {}
    for key, item in value.items():
        if key in SECRET_FIELDS:
            copy[key] = REDACTED
        elif key in TOKEN_FIELDS:
            copy[key] = mask(item)
        else:
            copy[key] = _redacted(item)
    return copy


def _journal(
    action: str,
    url: str,
    headers: dict[str, str],
    payload: dict[str, Any],
    body: bytes,
    reply: VpReply,
    answer: Any,
    latency_us: int,
) -> None:
    """One outbound journal row; a failure to write it never changes what the caller sees."""
    try:
        JournalEntry.objects.create(
            direction=Direction.OUTBOUND,
            provider="vp",
            action=action,
            path=urlsplit(url).path[:255],
            request_id=reply.log_uuid or uuid.uuid4().hex,
            headers=redact_headers(headers),
            payload=to_jsonable(_redacted(payload)),
            body_bytes=len(body),
            answer=to_jsonable(_redacted(answer)),
            http_status=reply.http_status or 0,
            latency_us=min(latency_us, 2**31 - 1),
            outcome=reply.outcome.value,
            error="" if reply.ok else reply.message[:2000],
            bet_key=str(payload.get("spinId", ""))[:128],
            account_id=str(payload.get("username", ""))[:64],
        )
    except Exception:
        log.exception("journal write failed for outbound VP %s", action)
