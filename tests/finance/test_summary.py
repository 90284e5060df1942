"""The daily summary: its figures, its sign convention, open bets, and agreement to the cent
with the transaction export for the same filters."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests.finance.conftest import DAY1, DAY2, DAY3, Book, parse_csv
from wallet.reconciliation.filters import DateBasis, ReconciliationFilter
from wallet.reconciliation.summary import SUMMARY_HEADER, summary_chunks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

SUMMARY = reverse("admin:finance_summary")
EXPORT = reverse("admin:finance_export")
D = Decimal


def summary(**filters: object) -> list[dict[str, str]]:
    return parse_csv(b"".join(summary_chunks(ReconciliationFilter(**filters))))  # type: ignore[arg-type]


def key(row: dict[str, str]) -> tuple[str, str, str]:
    return row["day"], row["provider"], row["currency"]


def test_columns(book: Book) -> None:
    raw = b"".join(summary_chunks(ReconciliationFilter()))
    assert raw[3:].split(b"\r\n")[0].decode().split(",") == list(SUMMARY_HEADER)
    assert SUMMARY_HEADER == (
        "day", "provider", "currency", "movements", "bets", "stakes", "wins", "refunds",
        "reversals", "staff_adjustments", "net", "deposits", "withdrawals",
        "open_bets_at_day_end", "date_basis", "opening_balance", "closing_balance",
        "chain_digest",
    )  # fmt: skip


def test_figures_per_day_provider_and_currency(book: Book) -> None:
    rows = {key(r): r for r in summary()}
    assert list(rows) == [
        (DAY1, "", "CNY"), (DAY1, "", "USD"), (DAY1, "buffalo", "USD"), (DAY1, "jdb", "USD"),
        (DAY1, "naga", "USD"), (DAY2, "", "USD"), (DAY2, "buffalo", "USD"), (DAY2, "naga", "USD"),
        (DAY2, "vp", "CNY"), (DAY3, "buffalo", "USD"),
    ]  # fmt: skip
    buffalo1 = rows[DAY1, "buffalo", "USD"]
    assert {k: buffalo1[k] for k in ("movements", "bets", "stakes", "wins", "refunds", "net")} == {
        "movements": "3", "bets": "2", "stakes": "17.500000", "wins": "25.000000",
        "refunds": "0.000000", "net": "-7.500000",
    }  # fmt: skip
    buffalo2 = rows[DAY2, "buffalo", "USD"]
    # The refund of b2 and a bet resolved by staff with a win of 1.
    assert (buffalo2["stakes"], buffalo2["wins"], buffalo2["refunds"], buffalo2["net"]) == (
        "2.000000", "1.000000", "7.500000", "-6.500000",
    )  # fmt: skip
    vp = rows[DAY2, "vp", "CNY"]
    # A reversed round nets to zero: stake 8 in, win 20 out, reversal 12 back.
    assert (vp["stakes"], vp["wins"], vp["reversals"], vp["net"]) == (
        "8.000000", "20.000000", "-12.000000", "0.000000",
    )  # fmt: skip
    cashier = rows[DAY1, "", "USD"]
    assert (cashier["deposits"], cashier["net"], cashier["bets"]) == ("160.500000", "0.000000", "0")
    adjustment = rows[DAY2, "", "USD"]
    # Bob was adjusted by -1.25: money to the operator, so net +1.25.
    assert (adjustment["staff_adjustments"], adjustment["net"]) == ("-1.250000", "1.250000")
    assert rows[DAY2, "naga", "USD"]["stakes"] == "3.333333"
    assert {r["date_basis"] for r in rows.values()} == {"created"}


def test_open_bets_at_day_end(book: Book) -> None:
    rows = {key(r): int(r["open_bets_at_day_end"]) for r in summary()}
    assert rows[DAY1, "buffalo", "USD"] == 1  # b2, staked at 23:59:59.999999
    assert rows[DAY2, "buffalo", "USD"] == 0  # b2 cancelled, the staff-resolved bet closed
    assert rows[DAY1, "jdb", "USD"] == 0  # bet-and-settle opens and closes at once
    assert rows[DAY1, "naga", "USD"] == 1
    assert rows[DAY2, "naga", "USD"] == 2  # n0 from day 1 is still open
    assert rows[DAY3, "buffalo", "USD"] == 0
    assert rows[DAY1, "", "USD"] == 0


def test_open_bets_count_bets_staked_before_the_range(book: Book) -> None:
    rows = {key(r): r for r in summary(date_from=date.fromisoformat(DAY2), provider="naga")}
    assert list(rows) == [(DAY2, "naga", "USD")]
    assert rows[DAY2, "naga", "USD"]["open_bets_at_day_end"] == "2"
    assert rows[DAY2, "naga", "USD"]["bets"] == "1"


def test_settled_basis_groups_by_the_day_the_bet_closed(book: Book) -> None:
    rows = {key(r): r for r in summary(basis=DateBasis.SETTLED)}
    # b2 staked on day 1, cancelled on day 2: stake and refund both count on day 2.
    buffalo2 = rows[DAY2, "buffalo", "USD"]
    assert (buffalo2["stakes"], buffalo2["refunds"], buffalo2["bets"]) == (
        "9.500000", "7.500000", "2",
    )  # fmt: skip
    assert (DAY1, "naga", "USD") not in rows  # open bets are not settled
    assert not [k for k in rows if k[1] == ""]  # deposits and adjustments have no bet
    assert {r["date_basis"] for r in rows.values()} == {"settled"}


# --- totals agree with the transaction export ----------------------------------------------


def totals_from_export(rows: list[dict[str, str]], basis: str) -> dict[tuple, dict[str, str]]:
    """What the summary must say, worked out from the export's rows alone."""
    sums: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    counts: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        day = (row["time_utc"] if basis == "created" else row["bet_settled_utc"])[:10]
        group = (day, row["provider"], row["currency"])
        sums[group][row["kind"]] += D(row["amount"])
        counts[group]["movements"] += 1
        counts[group]["bets"] += row["kind"] == "stake"
    expected = {}
    for group, by_kind in sums.items():
        game = sum((v for k, v in by_kind.items() if k not in ("deposit", "withdrawal")), D(0))
        expected[group] = {
            "movements": str(counts[group]["movements"]),
            "bets": str(counts[group]["bets"]),
            "stakes": f"{-by_kind['stake']:.6f}",
            "wins": f"{by_kind['win']:.6f}",
            "refunds": f"{by_kind['refund']:.6f}",
            "reversals": f"{by_kind['reversal']:.6f}",
            "staff_adjustments": f"{by_kind['staff_adjustment']:.6f}",
            "deposits": f"{by_kind['deposit']:.6f}",
            "withdrawals": f"{-by_kind['withdrawal']:.6f}",
            "net": f"{-game:.6f}",
        }
    return expected


FILTERS = [
    {},
    {"provider": "buffalo"},
    {"currency": "CNY"},
    {"date_from": DAY2, "date_to": DAY2},
    {"date_from": DAY1, "date_to": DAY2, "provider": "buffalo", "currency": "USD"},
    {"basis": "settled"},
    {"basis": "settled", "date_from": DAY2, "date_to": DAY3},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "-".join(map(str, f.values())) or "all")
def test_summary_agrees_with_the_export_to_the_cent(
    book: Book, filters: dict[str, str], get_csv: Callable[..., list[dict[str, str]]]
) -> None:
    exported = get_csv(EXPORT, **filters)
    summarised = get_csv(SUMMARY, **filters)
    assert exported and summarised
    expected = totals_from_export(exported, filters.get("basis", "created"))
    got = {key(r): {k: r[k] for k in next(iter(expected.values()))} for r in summarised}
    assert got == expected
    # And net is stakes - wins - refunds - reversals - staff adjustments on every row.
    for row in summarised:
        parts = [D(row[k]) for k in ("stakes", "wins", "refunds", "reversals", "staff_adjustments")]
        assert D(row["net"]) == parts[0] - sum(parts[1:], D(0))


# --- the admin page ------------------------------------------------------------------------------


def test_summary_page_shows_days_and_totals(book: Book, finance_client: Client) -> None:
    response = finance_client.get(SUMMARY, {"provider": "buffalo", "currency": "usd"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<td>2026-03-0") == 3
    rows = response.context["rows"]
    [total] = response.context["totals"]
    assert (total.movements, total.bets, total.stakes, total.wins, total.refunds, total.net) == (
        8, 4, D("23.5"), D("26"), D("7.5"), D("-10"),
    )  # fmt: skip
    assert total.open_bets_at_day_end == rows[-1].open_bets_at_day_end == 0
    assert "-10.000000" in html


def test_summary_page_without_filters_shows_only_the_form(finance_client: Client) -> None:
    response = finance_client.get(SUMMARY)
    assert response.status_code == 200 and "rows" not in response.context


def test_summary_download_is_named_after_its_filters(book: Book, finance_client: Client) -> None:
    response = finance_client.get(SUMMARY, {"download": "1", "date_from": DAY1, "date_to": DAY1})
    assert response["Content-Disposition"] == (
        'attachment; filename="daily-summary_created_2026-03-01_2026-03-01_all-providers_'
        'all-currencies.csv"'
    )
    assert len(parse_csv(response.content)) == 5
