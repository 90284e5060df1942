"""Round trips of a provider request on PostgreSQL, read from libpq's protocol trace.

Each round trip costs the app and PostgreSQL more than the statements in it, so their number is
part of the hot path's contract (wallet/db/held_commit.py): a JDB cancel of an open bet is two
(the refund, then the journal row with the Sync that commits both), a bet three, a settle four.
These tests fail if any of them grows, if a ``BEGIN`` or ``COMMIT`` statement appears, or if the
transaction ends (a Sync) before the journal row; and check that every statement runs as a
prepared statement on a warm connection (with prepared statements on) and with its parameters
bound by the server.

Real transactions (``transaction=True``): the endpoint holds the wallet's commit only there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from journal.models import JournalEntry
from tests.helpers import balance, bet, ledger_kinds, make_player, requires_postgres
from tests.wallet.test_request_transaction import (
    cancel,
    open_bet,  # noqa: F401 (a fixture)
    post,
)
from wallet.models import BetState

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
# libpq's trace writes names and statements in double quotes, without escaping the statement's
# own: a statement is what lies between the quote after the name and the one before the counts.
_PARSE = re.compile(r'^ "([^"]*)" "(.*)" \d+(?: \d+)*$', re.DOTALL)
_BIND = re.compile(r'^ "([^"]*)" "([^"]*)"')
_QUERY = re.compile(r'^ "(.*)"$', re.DOTALL)
#: A message of the trace starts a line with its timestamp; a statement's own newlines do not.
_MESSAGE = re.compile(r"\n(?=\d{4}-\d\d-\d\d \d)")


@pytest.fixture(params=["prepared", "unprepared"])
def prepared(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Both settings of DATABASE_PREPARED_STATEMENTS (the connection's prepare_threshold)."""
    options = connection.settings_dict["OPTIONS"]
    before = options.get("prepare_threshold", 0)
    connection.close()
    options["prepare_threshold"] = 0 if request.param == "prepared" else None
    try:
        yield request.param == "prepared"
    finally:
        connection.close()
        options["prepare_threshold"] = before


def jdb_money(action: int, transfer: str, amount: str, **more: Any) -> dict[str, Any]:
    common = {"ts": 1_700_000_000_000, "uid": "alice", "currency": "USD", "gType": 0}
    return {
        "action": action,
        "transferId": transfer,
        "amount": D(amount),
        "mType": 7001,
        **common,
        **more,
    }


def _traced(payload: dict[str, Any], tmp_path: Path) -> tuple[dict[str, Any], list[list[str]]]:
    """Post on a warm connection with libpq's protocol trace on: the answer, and what the client
    sent in each round trip (a run of its messages, then the server's answers): the statements,
    by their text."""
    pgconn = connection.connection.pgconn
    with open(tmp_path / "trace", "w") as trace:
        pgconn.trace(trace.fileno())
        try:
            answer = post(payload)
        finally:
            pgconn.untrace()
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        prepared = dict(cursor.fetchall())
    return answer, _round_trips((tmp_path / "trace").read_text(), prepared)


def _round_trips(trace: str, prepared: dict[str, str]) -> list[list[str]]:
    round_trips: list[list[str]] = []
    parsed: dict[str, str] = {}  # statements parsed in this trace, by name ("" unnamed)
    last = ""
    for line in _MESSAGE.split(trace.strip()):
        fields = line.split("\t")
        if len(fields) < 4:
            continue
        direction, message, rest = fields[1], fields[3], "\t".join(fields[4:])
        if direction == "F":
            if last != "F":
                round_trips.append([])
            if message == "Query" and (query := _QUERY.match(rest)):
                round_trips[-1].append(query[1])
            elif message == "Parse" and (parse := _PARSE.match(rest)):
                parsed[parse[1]] = parse[2]
                round_trips[-1].append(f"Parse {parse[1] or 'unnamed'}")
            elif message == "Bind" and (bind := _BIND.match(rest)):
                round_trips[-1].append(parsed.get(bind[2]) or prepared.get(bind[2], bind[2]))
            elif message == "Sync":
                round_trips[-1].append("Sync")
            elif message in ("Query", "Parse", "Bind"):
                raise AssertionError(f"unread trace line: {line}")
        last = direction
    return round_trips


def _check_statements(
    round_trips: list[list[str]], prepared: bool, *, before_transaction: int = 0
) -> list[list[str]]:
    """On a warm connection with prepared statements nothing is parsed; without, every statement
    is, unnamed. After the first ``before_transaction`` round trips (each a statement of its
    own), one transaction: no BEGIN or COMMIT statement, one Sync, at the very end. The round
    trips' statements, without the Parse and Sync entries."""
    parses = [entry for trip in round_trips for entry in trip if entry.startswith("Parse ")]
    syncs = [(n, entry) for n, trip in enumerate(round_trips) for entry in trip if entry == "Sync"]
    statements = [
        [e for e in trip if not e.startswith("Parse ") and e != "Sync"] for trip in round_trips
    ]
    if prepared:
        assert parses == [], round_trips
    else:
        assert parses == ["Parse unnamed"] * sum(map(len, statements)), round_trips
    ends = [*range(before_transaction), len(round_trips) - 1]
    assert syncs == [(n, "Sync") for n in ends] and round_trips[-1][-1] == "Sync"
    assert not {"BEGIN", "COMMIT"} & {e.split()[0] for trip in statements for e in trip if e}
    return statements


@pytest.mark.usefixtures("open_bet")
def test_a_cancel_is_two_round_trips_on_a_warm_connection(tmp_path: Path, prepared: bool) -> None:
    """The refund (its row lock held), then the journal row and the Sync that commits both."""
    post(cancel(transfer="warm-up", ref="nothing"))  # prepares the statements on this connection
    answer, round_trips = _traced(cancel(), tmp_path)
    assert answer["status"] == "0000" and balance("alice") == D("100")
    assert len(round_trips) == 2, round_trips
    first, last = _check_statements(round_trips, prepared)
    assert "FOR UPDATE OF b" in first[0] and len(first) == 1
    assert first[0].count("$") == 11  # every value a parameter: the bet, the request, the times
    assert last[0].startswith("INSERT INTO") and "providers_journalentry" in last[0]
    assert len(last) == 1
    assert JournalEntry.objects.latest("id").outcome == "cancelled"


def test_a_bet_is_three_round_trips_and_its_settle_four(tmp_path: Path, prepared: bool) -> None:
    """A bet: its wallet, the bet's INSERT and the debit with its funds check (one statement),
    the journal row and the Sync. A settle: the bet's lock (which reads its owner's account id:
    no player lookup), the settle id's earlier win, the credit with the bet's UPDATE, the journal
    row and the Sync."""
    make_player("alice", "USD", "100")
    post(jdb_money(9, "warm", "1", gameRoundSeqNo=1))  # prepares the statements
    post(jdb_money(10, "warm-s", "0", refTransferIds=["warm"], roundClosed=True))

    answer, round_trips = _traced(jdb_money(9, "b2", "10", gameRoundSeqNo=2), tmp_path)
    assert answer["status"] == "0000" and balance("alice") == D("89")
    assert len(round_trips) == 3, round_trips
    wallet, opened, journal = _check_statements(round_trips, prepared, before_transaction=1)
    assert len(wallet) == 1 and "wallet_wallet" in wallet[0]
    assert "WITH opened AS (INSERT INTO" in opened[0] and len(opened) == 1
    assert len(journal) == 1 and "INSERT INTO" in journal[0]

    answer, round_trips = _traced(
        jdb_money(10, "b2-s", "25", refTransferIds=["b2"], roundClosed=True), tmp_path
    )
    assert answer["status"] == "0000" and balance("alice") == D("114")
    assert len(round_trips) == 4, round_trips
    locked, earlier_win, credit, journal = _check_statements(round_trips, prepared)
    assert "FOR UPDATE OF b" in locked[0]
    assert "kind = 'win'" in earlier_win[0] and "balance = balance +" in credit[0]
    assert len(journal) == 1 and "INSERT INTO" in journal[0]
    assert ledger_kinds("b2", "jdb") == [("stake", D("-10")), ("win", D("25"))]
    assert bet("b2", "jdb").state == BetState.SETTLED
