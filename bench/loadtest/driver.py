"""A lightweight load generator: asyncio, raw HTTP/1.1, one kept-alive connection per client.

The requests are bytes built beforehand, so sending one costs a socket write, reading the
status line and headers, and a ``json.loads`` of the answer to read its code: tens of
microseconds of CPU, measured and reported (``client_cpu_s``) so that a reader can see the
generator did not eat the machine it measures.

Requests answered with the provider's "try again" code, or not answered at all (a dropped
connection, a load balancer's own error page), are sent again in later rounds (as the provider
would), until every one has a final answer or the bound on rounds or time is reached.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.loadtest.requests import Flow, Prepared, answer_code

#: Pause between retry rounds, like a provider's retry delay (short: we measure the drain).
RETRY_PAUSE_S = 0.2
MAX_ERROR_EXAMPLES = 10
#: A load balancer's own answer when no app server answered (HAProxy's, nginx's error pages).
BALANCER_STATUSES = frozenset({502, 503, 504})

#: Told of every request's outcome: its answer code, or why it has none ("no answer: ...").
AnswerHook = Callable[[Prepared, str], None]


class TransportError(Exception):
    """The connection failed or the answer was not HTTP we can read."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class RunResult:
    """What the clients saw: every latency, every answer code, errors and retries."""

    latencies_ns: list[int] = field(default_factory=list)
    codes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    try_again: int = 0
    transport_errors: int = 0
    unsent: int = 0  # later steps of a flow whose earlier step failed
    undrained: int = 0  # still "try again" when the bounds were reached
    elapsed_s: float = 0.0  # first send to last answer, retry rounds included
    first_pass_s: float = 0.0  # first send to the end of the first pass
    client_cpu_s: float = 0.0
    rounds: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies_ns)

    def note_error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_examples) < MAX_ERROR_EXAMPLES:
            self.error_examples.append(text)


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request and read its answer; reconnects when the server closed."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.reader, self.writer
        assert reader is not None
        try:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lowered = head.lower()
            start = lowered.find(b"\r\ncontent-length:")
            if start >= 0:
                end = lowered.index(b"\r\n", start + 2)
                body = await reader.readexactly(int(head[start + 17 : end]))
            elif b"\r\ntransfer-encoding: chunked" in lowered:
                body = await _read_chunked(reader)
            else:
                body = await reader.read()
                self.close()
            if b"\r\nconnection: close" in lowered:
                self.close()
            return status, body
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            self.close()
            raise TransportError(f"{type(exc).__name__}: {exc}", type(exc).__name__) from exc

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class Driver:
    """Sends flows over ``concurrency`` kept-alive connections, as fast as answers come."""

    def __init__(
        self,
        host: str,
        port: int,
        concurrency: int,
        *,
        max_rounds: int = 50,
        max_s: float = 900,
        on_answer: AnswerHook | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.concurrency = concurrency
        self.max_rounds = max_rounds
        self.max_s = max_s
        self.on_answer = on_answer

    def run(self, flows: list[Flow]) -> RunResult:
        return asyncio.run(self._run(flows))

    async def _run(self, flows: list[Flow]) -> RunResult:
        result = RunResult()
        connections = [_Connection(self.host, self.port) for _ in range(self.concurrency)]
        pending: deque[Flow] = deque(flows)
        cpu0, t0 = time.process_time(), time.perf_counter()
        deadline = t0 + self.max_s
        try:
            while pending and result.rounds < self.max_rounds:
                if result.rounds:
                    await asyncio.sleep(RETRY_PAUSE_S)
                    pending = deque(_rebuilt(flow) for flow in pending)
                again: deque[Flow] = deque()
                await asyncio.gather(
                    *(self._client(c, pending, again, result, deadline) for c in connections)
                )
                if not result.rounds:
                    result.first_pass_s = time.perf_counter() - t0
                result.rounds += 1
                pending = again
                if time.perf_counter() > deadline:
                    break
        finally:
            for connection in connections:
                connection.close()
        result.elapsed_s = time.perf_counter() - t0
        result.client_cpu_s = time.process_time() - cpu0
        result.undrained = sum(len(flow) for flow in pending)
        return result

    async def _client(
        self,
        connection: _Connection,
        pending: deque[Flow],
        again: deque[Flow],
        result: RunResult,
        deadline: float,
    ) -> None:
        clock = time.perf_counter_ns
        tell = self.on_answer or _ignore
        while pending:
            if time.perf_counter() > deadline:
                return
            flow = pending.popleft()
            for step, request in enumerate(flow):
                started = clock()
                try:
                    status, body = await connection.exchange(request.raw)
                except TransportError as exc:
                    result.latencies_ns.append(clock() - started)
                    result.transport_errors += 1
                    result.note_error(f"{request.provider} {request.action}: {exc}")
                    again.append(flow[step:])  # a provider resends what timed out
                    tell(request, f"no answer: {exc.kind}")
                    break
                result.latencies_ns.append(clock() - started)
                if status in BALANCER_STATUSES and not body.startswith(b"{"):
                    # The balancer's page, not the provider's answer: no app server answered.
                    result.transport_errors += 1
                    result.note_error(f"{request.provider} {request.action}: HTTP {status}")
                    again.append(flow[step:])
                    tell(request, f"no answer: HTTP {status} from the balancer")
                    break
                code = answer_code(request.provider, status, body)
                tell(request, code)
                result.codes[(request.provider, request.action, code)] += 1
                if code in request.accept:
                    continue
                if code in request.retry:
                    result.try_again += 1
                    again.append(flow[step:])
                else:
                    result.note_error(
                        f"{request.provider} {request.action}: HTTP {status} {body[:200]!r}"
                    )
                    result.unsent += len(flow) - step - 1
                break


def _rebuilt(flow: Flow) -> Flow:
    """A resend is signed anew where the provider would (VP's nonce and timestamp)."""
    return [
        Prepared(r.provider, r.action, r.rebuild(), r.accept, r.retry, r.rebuild, r.key)
        if r.rebuild is not None
        else r
        for r in flow
    ]


def _ignore(request: Prepared, outcome: str) -> None:
    return None
