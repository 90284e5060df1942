"""The load harness's progress: bars on a terminal's stderr, the printed figures unchanged."""

from __future__ import annotations

import io
import re

import pytest

from bench.loadtest.requests import Prepared
from bench.loadtest.run import Options, _counting_final_answers, execute
from tests.app_server import AppServer
from tests.helpers import ON_POSTGRES


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _prepared() -> Prepared:
    return Prepared("jdb", "cancel", b"", frozenset({"0000"}), frozenset({"9017"}))


def test_only_final_answers_move_the_bar() -> None:
    ticks: list[None] = []
    hook = _counting_final_answers(lambda: ticks.append(None))
    for outcome in ("9017", "no answer: ConnectionResetError", "no answer: HTTP 503", "0000"):
        hook(_prepared(), outcome)
    hook(_prepared(), "9999")  # an error is final too: nothing resends it
    assert len(ticks) == 2


@pytest.mark.skipif(not ON_POSTGRES, reason="the load harness seeds PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_storm_draws_its_progress_on_a_terminal_and_prints_the_same_lines(
    app_server: AppServer,
) -> None:
    options = Options(
        base_url=app_server.url,
        scenario="cancel-storm",
        providers=("jdb", "buffalo"),
        bets=60,
        players=20,
        concurrency=4,
        ceiling=False,
        warmup=0,
        max_seconds=60.0,
    )
    quiet_lines: list[str] = []
    piped = io.StringIO()
    assert execute(options, quiet_lines.append, stream=piped)["ok"], quiet_lines
    assert piped.getvalue() == ""

    lines: list[str] = []
    terminal = Terminal()
    assert execute(options, lines.append, stream=terminal)["ok"], lines
    drawn = terminal.getvalue()
    for desc in ("seeding bets", "building jdb cancels", "building buffalo cancels"):
        assert desc in drawn
    assert re.search(r"cancel-storm: 100%.*\b66/66\b.*req/s", drawn)  # 60 + every tenth twice
    # stdout's lines are the same ones, figures aside, with no bar in them.
    assert [_shape(line) for line in lines] == [_shape(line) for line in quiet_lines]
    assert not any("\r" in line or "\x1b" in line for line in lines)


def _shape(line: str) -> str:
    return re.sub(r"lt[0-9a-f]{8}|[\d.,]+", "#", line)
