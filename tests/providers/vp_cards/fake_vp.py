"""A fake VP operator-card API: a real HTTP server on 127.0.0.1, in a thread.

It does what VP does, as far as vp.md and the cancel seed say: checks the signature headers
and the bearer token, decrypts AES-256-GCM bodies with the real algorithm, issues tokens on
``/v2/auth``, keeps cards in memory (issue, use, cancel idempotent on ``spinId``). Tests can
script the next answers of a path: any VP code, a slow answer (the client times out), or a
dropped connection, each optionally after doing the work (VP acted but the answer was lost).
"""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from providers.vp.crypto import VpCryptoError, decrypt

MESSAGES = {
    0: "No error.",
    4: "The transaction doesn`t exist.",
    5: "Game not found.",
    7: "Internal error.",
    8: "The member does not exist.",
    10: "Agent not found or blocked.",
    11: "Parameters error.",
    20: "Wallet locked.",
    77: "Too many requests.",
    78: "spinId already used.",
    83: "Authentication Failed.",
    84: "Decryption Failed.",
    85: "Key configuration error.",
    86: "Game restricted.",
}

DEFAULT_TEMPLATES: list[dict[str, Any]] = [
    {
        "gameCode": "VP_SLOT_1",
        "status": 1,
        "cardType": 1,
        "round": 10,
        "itemMultiple": 1,
        "betList": [Decimal("0.2"), Decimal("0.5"), Decimal("1")],
        "rtp": "96.5",
    },
    {
        "gameCode": "VP_SLOT_1",
        "status": 1,
        "cardType": 2,
        "round": 5,
        "itemMultiple": 2,
        "betList": [Decimal("0.5"), Decimal("1")],
        "rtp": "96.5",
    },
    {
        "gameCode": "VP_SLOT_2",
        "status": 1,
        "cardType": 11,
        "round": 1,
        "itemMultiple": 1,
        "betList": [Decimal("1"), Decimal("2")],
        "rtp": "97.0",
    },
    {
        "gameCode": "VP_OLD",
        "status": 0,
        "cardType": 1,
        "round": 10,
        "itemMultiple": 1,
        "betList": [Decimal("1")],
        "rtp": "95",
    },
]


@dataclass
class Behaviour:
    """How to answer the next request of one path.

    ``code``: answer this VP code (without doing the work, unless ``apply``). ``delay``:
    seconds to wait before answering (longer than the client's read timeout: a timeout).
    ``drop``: close the connection without an answer. ``apply``: whether VP does the work
    (default: yes, unless a ``code`` is scripted); with ``delay`` or ``drop`` and ``apply``,
    VP acted but its answer was lost. ``raw``: answer these bytes with ``http_status``.
    """

    code: int | None = None
    delay: float = 0.0
    drop: bool = False
    apply: bool | None = None
    raw: bytes | None = None
    http_status: int = 200


@dataclass
class FakeCard:
    username: str
    spin_id: str
    item_id: str
    payload: dict[str, Any]
    state: str = "issued"  # issued, used, completed, cancelled


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    payload: dict[str, Any] | None
    code: int | None = None


@dataclass
class FakeVpState:
    agent_id: str
    key: bytes
    secret: str
    token_lifetime: int = 3600
    templates: list[dict[str, Any]] = field(default_factory=lambda: list(DEFAULT_TEMPLATES))
    members: set[str] = field(default_factory=set)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (time.time())
    cards: dict[str, FakeCard] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    scripted: dict[str, deque[Behaviour]] = field(default_factory=lambda: defaultdict(deque))
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeVp:
    """Start with ``start()``; ``url`` is its base URL; ``stop()`` when done."""

    def __init__(self, *, agent_id: str, api_key_hex: str, secret: str, port: int = 0) -> None:
        self.state = FakeVpState(agent_id, bytes.fromhex(api_key_hex), secret)
        state = self.state

        class Handler(_Handler):
            vp = state

        self._server = _QuietServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False  # slow handlers must not hold up the test's end
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeVp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- scripting and inspection ----------------------------------------------------------------

    def then(self, path: str, behaviour: Behaviour | None = None, **kwargs: Any) -> None:
        """Script the next answer of ``path`` (e.g. "/v2/items/cancel")."""
        with self.state.lock:
            self.state.scripted[path].append(behaviour or Behaviour(**kwargs))

    def calls(self, path: str) -> list[Received]:
        with self.state.lock:
            return [r for r in self.state.received if r.path == path]

    def revoke_tokens(self) -> None:
        """VP forgets every token (as after a key change on its side): the next call gets 83."""
        with self.state.lock:
            self.state.tokens.clear()

    def add_member(self, username: str) -> None:
        with self.state.lock:
            self.state.members.add(username)

    def player_starts(self, spin_id: str) -> None:
        """The player entered the game and triggered the card: VP no longer cancels it."""
        with self.state.lock:
            self.state.cards[spin_id].state = "used"

    def card(self, spin_id: str) -> FakeCard | None:
        with self.state.lock:
            return self.state.cards.get(spin_id)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out has closed its end before a slow answer: expected here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def closed_port_url() -> str:
    """A base URL nothing listens on (connection refused: VP unreachable)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _dumps(value: Any) -> bytes:
    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return float(obj)  # only the fake's own template list: plain JSON numbers
        raise TypeError(type(obj))

    return json.dumps(value, default=default).encode()


class _Handler(BaseHTTPRequestHandler):
    vp: FakeVpState
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle and the client's delayed ACK
    # add 40 ms to every answer on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        received = Received(self.path, headers, None)
        with self.vp.lock:
            self.vp.received.append(received)
            scripted = self.vp.scripted[self.path]
            behaviour = scripted.popleft() if scripted else Behaviour()
        code, data = self._process(body, headers, received, behaviour)
        received.code = code
        if behaviour.delay:
            time.sleep(behaviour.delay)
        if behaviour.drop:
            self.close_connection = True
            return
        if behaviour.raw is not None:
            self._send(behaviour.http_status, behaviour.raw, "text/html")
            return
        answer: dict[str, Any] = {"code": code, "message": MESSAGES.get(code, "?")}
        if data is not None:
            answer["data"] = data
        answer["logUUID"] = str(uuid.uuid4())
        self._send(200, _dumps(answer), "application/json")

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    # --- VP's checks and work --------------------------------------------------------------------

    def _process(
        self, body: bytes, headers: dict[str, str], received: Received, behaviour: Behaviour
    ) -> tuple[int, Any]:
        try:
            cipher_text = json.loads(body)["cipherText"]
        except (ValueError, KeyError, TypeError):
            return 11, None
        if not self._signed(headers, cipher_text):
            return 83, None
        try:
            payload = json.loads(decrypt(cipher_text, self.vp.key), parse_float=Decimal)
        except (VpCryptoError, ValueError):
            return 84, None
        received.payload = payload
        if self.path == "/v2/auth":
            return self._auth(payload)
        if not self._bearer_ok(headers.get("authorization", "")):
            return 83, None
        apply = behaviour.apply if behaviour.apply is not None else behaviour.code is None
        if not apply:
            return (behaviour.code if behaviour.code is not None else 7), None
        with self.vp.lock:
            code, data = self._work(payload)
        if behaviour.code is not None:  # apply, then answer the scripted code anyway
            return behaviour.code, None
        return code, data

    def _signed(self, headers: dict[str, str], cipher_text: str) -> bool:
        agent = headers.get("x-agentid", "")
        timestamp = headers.get("x-timestamp", "")
        nonce = headers.get("x-nonce", "")
        signature = headers.get("x-signature", "")
        if agent != self.vp.agent_id or not timestamp.isdigit():
            return False
        if abs(time.time() * 1000 - int(timestamp)) > 5 * 60 * 1000:
            return False
        if len(nonce) != 32 or any(c not in "0123456789abcdef" for c in nonce):
            return False
        expected = hashlib.sha256(f"{agent}|{timestamp}|{nonce}|{cipher_text}".encode())
        return signature == expected.hexdigest()

    def _bearer_ok(self, authorization: str) -> bool:
        if not authorization.startswith("Bearer "):
            return False
        token = authorization.removeprefix("Bearer ")
        with self.vp.lock:
            expiry = self.vp.tokens.get(token)
        return expiry is not None and expiry > time.time()

    def _auth(self, payload: dict[str, Any]) -> tuple[int, Any]:
        if payload.get("agentId") != self.vp.agent_id or payload.get("secret") != self.vp.secret:
            return 83, None
        token = "tok-" + uuid.uuid4().hex
        with self.vp.lock:
            self.vp.tokens[token] = time.time() + self.vp.token_lifetime
            lifetime = self.vp.token_lifetime
        return 0, {"accessToken": token, "expiresIn": lifetime, "tokenType": "Bearer"}

    def _work(self, payload: dict[str, Any]) -> tuple[int, Any]:
        if self.path == "/v2/items/info":
            return 0, self.vp.templates
        if self.path in ("/v2/items/use", "/v2/items/usesimplefreespin"):
            return self._use(payload)
        if self.path == "/v2/items/cancel":
            return self._cancel(payload)
        return 11, None

    def _use(self, payload: dict[str, Any]) -> tuple[int, Any]:
        required = ["username", "spinId", "gameCode", "round"]
        if self.path == "/v2/items/use":
            required += ["expiredTime", "maxWinAmount", "itemBetInfo", "cardType"]
        if any(payload.get(name) in (None, "") for name in required):
            return 11, None
        if self.path == "/v2/items/usesimplefreespin" and payload["round"] > 100:
            return 11, None
        if payload["username"] not in self.vp.members:
            return 8, None
        if payload["gameCode"] not in {t["gameCode"] for t in self.vp.templates}:
            return 5, None
        spin_id = payload["spinId"]
        if spin_id in self.vp.cards:
            return 78, None
        item_id = f"{uuid.uuid4().hex}_{spin_id}"
        self.vp.cards[spin_id] = FakeCard(payload["username"], spin_id, item_id, payload)
        return 0, {"itemId": item_id}

    def _cancel(self, payload: dict[str, Any]) -> tuple[int, Any]:
        username, spin_id = payload.get("username"), payload.get("spinId")
        if not username or not spin_id:
            return 11, None
        if username not in self.vp.members:
            return 8, None
        card = self.vp.cards.get(spin_id)
        if card is None or card.username != username:
            return 4, None
        if card.state == "cancelled":
            return 0, None  # idempotent: a repeated cancel gets the first result
        if card.state != "issued":
            return 4, None
        card.state = "cancelled"
        return 0, None


def main() -> None:
    """Run the fake VP on its own, with the demo keys, for trying the admin against the demo:
    ``python -m tests.providers.vp_cards.fake_vp --port 8099``."""
    import argparse

    from providers import demo_keys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--agent-id", default=demo_keys.VP_AGENT_ID)
    parser.add_argument("--api-key", default=demo_keys.VP_API_KEY)
    parser.add_argument("--secret", default=demo_keys.VP_SECRET_KEY)
    parser.add_argument(
        "--members", default="demo_alice,demo_bob,demo_chen,demo_dana", help="known usernames"
    )
    parser.add_argument(
        "--drop-cancels",
        type=int,
        default=0,
        help="drop the connection of the first N cancels without acting (VP unreachable)",
    )
    options = parser.parse_args()
    server = FakeVp(
        agent_id=options.agent_id,
        api_key_hex=options.api_key,
        secret=options.secret,
        port=options.port,
    )
    for member in options.members.split(","):
        server.add_member(member.strip())
    for _ in range(options.drop_cancels):
        server.then("/v2/items/cancel", drop=True, apply=False)
    print(f"fake VP listening on {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
