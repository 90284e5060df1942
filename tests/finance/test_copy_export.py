"""On PostgreSQL the export is written by COPY; byte for byte it is the Python writer's file."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from tests.finance.conftest import DAY1, DAY2, at, parse_csv, staff_adjustment, utc
from tests.helpers import make_player, requires_postgres
from wallet.models import Bet
from wallet.reconciliation import cells
from wallet.reconciliation.filters import DateBasis, ReconciliationFilter
from wallet.reconciliation.transactions import export_chunks, python_export_chunks
from wallet.services import bet_cancel, bet_open, bet_settle, bet_staff_resolve

pytestmark = [requires_postgres, pytest.mark.django_db]

D = Decimal
HUGE = "99999999999999.999999"
ODD_PLAYER = 'zoë,"the\nquote"'
ODD_GAME = 'スロット,"7"\r\nline'


@pytest.fixture
def awkward() -> None:
    """Every awkward cell: 6-decimal, zero, negative-zero and near-limit amounts; text that
    starts with each formula trigger; quotes, commas, CR/LF and non-ASCII in ids, game codes,
    usernames and staff reasons; empty and missing cells."""
    staff = get_user_model().objects.create_user('@staff,"x"', password="pw", is_staff=True)
    with at(utc(DAY1, "00:00:00")):
        make_player(ODD_PLAYER, "USD", HUGE)
        make_player("-minus", "CNY", "0.000001")
        make_player("plain", "USD", "100")
    with at(utc(DAY1, "01:02:03.000001")):
        bet_open(
            provider="buffalo", bet_key="=SUM(A1)", tx_id='+tx,"1"', account_id=ODD_PLAYER,
            currency="USD", amount=D("0.000001"), round_id="\tround", game_code=ODD_GAME,
        )  # fmt: skip
        bet_open(
            provider="vp", bet_key="@at", tx_id="\rcr", account_id="-minus", currency="CNY",
            amount=D("0.000001"), round_id="\nlf", game_code="'already",
        )  # fmt: skip
        bet_open(
            provider="jdb", bet_key="ok ü", tx_id="-", account_id="plain", currency="USD",
            amount=D("99.999999"), round_id="", game_code="",
        )  # fmt: skip
    with at(utc(DAY1, "23:59:59.999999")):
        bet_settle(provider="buffalo", bet_keys=["=SUM(A1)"], tx_id="=win", amount=D(HUGE[:-7]))
        bet_cancel(provider="vp", bet_keys=["@at"], tx_id="", account_id="-minus")
    with at(utc(DAY2, "12:00:00")):
        bet_staff_resolve(
            bet_id=Bet.objects.get(bet_key="ok ü").pk,
            actor=staff,
            reason='-1+1, "quoted"\r\nnext line ✓',
            win_amount=D("0"),
        )
        staff_adjustment("plain", "-0", staff=staff, reason="=negative zero")
        staff_adjustment("plain", "-0.000001", staff=staff, reason="")
        staff_adjustment(ODD_PLAYER, "-12345678901234.567891", staff=staff, reason="\t,")


FILTERS = [
    ReconciliationFilter(),
    ReconciliationFilter(basis=DateBasis.SETTLED),
    ReconciliationFilter(provider="buffalo", currency="USD"),
    ReconciliationFilter(date_from=utc(DAY2, "00:00:00").date(), basis=DateBasis.SETTLED),
    ReconciliationFilter(currency="EUR"),  # no rows at all
    # COPY takes no bound parameters: psycopg merges these into the statement, quoting them.
    ReconciliationFilter(provider="buffalo' OR ''='", currency="USD"),
    ReconciliationFilter(provider="x'); DROP TABLE wallet_ledgerentry; --\\"),
]


@pytest.mark.usefixtures("awkward")
@pytest.mark.parametrize("selection", FILTERS)
@pytest.mark.parametrize("bom", [True, False])
def test_copy_export_is_the_python_writers_bytes(
    selection: ReconciliationFilter, bom: bool
) -> None:
    written_by_copy = b"".join(export_chunks(selection, bom=bom))
    written_by_python = b"".join(python_export_chunks(selection, bom=bom))
    assert written_by_copy == written_by_python


@pytest.mark.usefixtures("awkward")
def test_hostile_filter_text_selects_nothing_and_drops_nothing() -> None:
    for selection in FILTERS[-2:]:
        assert parse_csv(b"".join(export_chunks(selection))) == []
    assert len(parse_csv(b"".join(export_chunks(ReconciliationFilter())))) == 11


@pytest.mark.usefixtures("awkward")
def test_the_awkward_cells_are_there(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture really holds the awkward cases, in the file COPY writes (chunked per row)."""
    monkeypatch.setattr(cells, "CHUNK_BYTES", 1)
    chunks = list(export_chunks(ReconciliationFilter()))
    rows = parse_csv(b"".join(chunks))
    assert len(chunks) == 1 + len(rows)
    amounts = {r["amount"] for r in rows} | {r["balance_after"] for r in rows}
    assert {HUGE, "0.000001", "-0.000001", "0.000000", "-12345678901234.567891"} <= amounts
    assert not {a for a in amounts if a.startswith("'") or a == "-0.000000"}
    texts = {cell for r in rows for cell in r.values()}
    assert {"'=SUM(A1)", '\'+tx,"1"', "'\tround", "'@at", "'\rcr", "'\nlf", "'-"} <= texts
    assert {ODD_GAME, "'already", "'-minus", ODD_PLAYER} <= texts
    assert {'\'-1+1, "quoted"\r\nnext line ✓', "'=negative zero", "'\t,", '\'@staff,"x"'} <= texts
