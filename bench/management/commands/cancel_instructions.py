"""Count the CPU instructions of one provider cancel (or bet, or settle) in the app, repeatably
(valgrind's callgrind).

On a shared virtual machine the wall-clock figures of ``loadtest`` drift by 20 to 30 % from one
minute to the next, which hides any single change worth less than that. Instructions do not
drift: the same code, data and statements give the same count to within 0.1 %. So each step of
an optimisation is measured here first: the WSGI application (what the app server calls) is driven
in-process, one thread, with real encrypted or signed cancels of seeded bets (``--request bet``:
bets of seeded players; ``settle``: the settles of bets placed first, uncounted), and callgrind
counts the instructions of the requests only (instrumentation is switched on around them).
PostgreSQL's work and the kernel's are not counted; ``loadtest`` measures those.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from bench.loadtest.scenarios import DEBIT_PROVIDERS
from journal.models import JournalEntry

_INSIDE = "CANCEL_INSTRUCTIONS_INSIDE_CALLGRIND"
_WARMUP = 50
_HOST = "127.0.0.1"
#: The journal outcomes of the requests measured: bets taken, settles paid, cancels refunded.
_MEASURED_OUTCOMES = frozenset({"ok", "cancelled"})
REQUESTS = ("cancel", "bet", "settle")


class Command(BaseCommand):
    help = (
        "Instructions per provider cancel in the app (callgrind, PostgreSQL only): seeds open "
        "bets, cancels them through the WSGI application in-process, prints the count "
        "(--request bet or settle: bets, or settles of bets placed first). Needs valgrind "
        "(apt-get install valgrind); --cpu-only prints CPU microseconds instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cancels", type=int, default=300)
        parser.add_argument("--provider", choices=DEBIT_PROVIDERS, default="jdb")
        parser.add_argument("--request", choices=REQUESTS, default="cancel")
        parser.add_argument(
            "--cpu-only", action="store_true", help="no valgrind: CPU µs per cancel (noisy)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, provider, request = options["cancels"], options["provider"], options["request"]
        if count < 1:
            raise CommandError("--cancels must be at least 1")
        if connection.vendor != "postgresql":  # before valgrind: its output would hide this
            raise CommandError("it seeds and measures PostgreSQL only (set DATABASE_URL)")
        if options["cpu_only"] or os.environ.get(_INSIDE):
            self._measure(count, provider, request, callgrind=bool(os.environ.get(_INSIDE)))
            return
        total = _under_callgrind(count, provider, request)
        self.stdout.write(
            f"{provider} {request}: {total // count:,} instructions per request "
            f"({count} {request}s, app process only, callgrind)"
        )

    def _measure(self, count: int, provider: str, request: str, *, callgrind: bool) -> None:
        # The requests name this Host, as the load harness's do; a deployment lists its own.
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, _HOST]
        before, requests = _prepared_requests(count + _WARMUP, provider, request)
        first_row = JournalEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        _serve(before)
        _serve(requests[:_WARMUP])
        started = time.process_time()
        if callgrind:
            _instrumentation("on")
        statuses = _serve(requests[_WARMUP:])
        if callgrind:
            _instrumentation("off")
        cpu_us = (time.process_time() - started) / count * 1e6
        if statuses != {"200 OK"}:
            raise CommandError(f"unexpected answers: {sorted(statuses)}")
        # Most providers answer a refusal with HTTP 200 too: what each request got is journaled.
        outcomes = set(
            JournalEntry.objects.filter(id__gt=first_row).values_list("outcome", flat=True)
        )
        if not outcomes <= _MEASURED_OUTCOMES:
            raise CommandError(f"unexpected outcomes: {sorted(outcomes - _MEASURED_OUTCOMES)}")
        if not callgrind:
            self.stdout.write(f"{provider} {request}: {cpu_us:,.0f} µs of CPU per request (noisy)")


def _under_callgrind(count: int, provider: str, request: str) -> int:
    """Run this command again under callgrind and add up the instructions it counted."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out.%p"
        valgrind = shutil.which("valgrind")
        if valgrind is None:
            raise CommandError("valgrind is not installed (apt-get install valgrind)")
        command = [
            valgrind,
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            *sys.argv[:1],
            "cancel_instructions",
            f"--cancels={count}",
            f"--provider={provider}",
            f"--request={request}",
        ]
        # A fixed argument list, no shell: this command run again, under valgrind.
        run = subprocess.run(  # noqa: S603
            command, env={**os.environ, _INSIDE: "1"}, capture_output=True, text=True
        )
        if run.returncode != 0:
            raise CommandError(f"the measured run failed:\n{run.stderr[-2000:]}")
        total = 0
        for path in Path(folder).glob("callgrind.out.*"):  # one per process (and part)
            for line in path.read_text().splitlines():
                if line.startswith("totals:"):
                    total += int(line.split()[1])
        return total


def _instrumentation(state: str) -> None:
    """Switch callgrind's counting on or off for this process (it runs under valgrind)."""
    control = shutil.which("callgrind_control") or "callgrind_control"
    subprocess.run(  # noqa: S603 (a fixed argument list, no shell)
        [control, "-i", state, str(os.getpid())], check=True, capture_output=True
    )


def _prepared_requests(count: int, provider: str, request: str) -> tuple[list[bytes], list[bytes]]:
    """The requests to serve first, uncounted (a settle's bets), and the ``count`` to measure."""
    from bench.loadtest.requests import RequestFactory
    from bench.loadtest.seed import seed_bets, seed_players

    tag = f"ci{uuid.uuid4().hex[:6]}"
    players = seed_players(tag, 1000)
    factory = RequestFactory(players, f"{_HOST}:8000")
    if request == "cancel":
        bets = seed_bets(players, provider, f"{tag}c", count)
        cancels = [
            factory.cancel(provider, bets.key(n), n, players.slot_of(n)).raw
            for n in range(1, count + 1)
        ]
        return [], cancels
    # A bet and its settle, as the provider sends them (the bet-settle scenario's flows).
    flows = [
        factory.bet_and_settle(provider, f"{tag}b{n}", n, players.slot_of(n))
        for n in range(1, count + 1)
    ]
    bets_sent = [flow[0].raw for flow in flows]
    if request == "bet":
        return [], bets_sent
    return bets_sent, [flow[1].raw for flow in flows]


def _serve(requests: list[bytes]) -> set[str]:
    """Call the WSGI application with each raw HTTP request; the statuses it answered."""
    from backoffice.wsgi import application

    statuses: set[str] = set()

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.add(status)

    for raw in requests:
        answer = application(_environ(raw), start_response)
        b"".join(answer)
        if hasattr(answer, "close"):  # as a WSGI server does (provider answers are lists)
            answer.close()
    return statuses


def _environ(raw: bytes) -> dict[str, Any]:
    """The WSGI environ an app server would build for a raw HTTP/1.1 request."""
    head, body = raw.split(b"\r\n\r\n", 1)
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, protocol = request_line.split(" ")
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": protocol,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
    }
    for line in header_lines:
        name, _, value = line.partition(": ")
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return environ
