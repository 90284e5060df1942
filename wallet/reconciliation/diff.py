"""Comparing a provider's statement with our ledger, transaction id by transaction id.

Both sides are summed per provider transaction id: ours over the ledger rows of the chosen
provider and period (the same selection as the transaction export), theirs over the statement's
lines. Each id then falls in exactly one category:

- ``matched``: on both sides, amounts equal (within the tolerance) and statuses agree;
- ``amount_differs``: on both sides, amounts differ (whatever the statuses say: money first);
- ``status_differs``: on both sides, amounts equal, statuses disagree;
- ``only_in_ours``: we moved money under this id, the statement does not list it;
- ``only_in_theirs``: the statement lists it, we have no movement with it in the period
  (the note says when we have it outside the period);

plus ``unreadable`` for statement lines that could not be read (they are listed, not guessed).

Our status is the state of the bet the movements belong to (open, settled, cancelled); theirs
is translated through a table of common words (``DEFAULT_STATUS_WORDS``) that finance can extend.
Movements without a provider transaction id (staff actions, deposits) are not compared:
providers do not know them; the report counts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from django.db.models import Count, Max, Min

from wallet.exact_sums import money_sum, money_value
from wallet.models import BetState, LedgerEntry
from wallet.reconciliation.cells import Cell, amount_cell, csv_chunks, text_cell, time_cell
from wallet.reconciliation.filters import ReconciliationFilter, filtered_movements
from wallet.reconciliation.statement import Statement
from wallet.reconciliation.transactions import Column

ZERO = Decimal(0)
#: Ids looked up per query for the "outside the period" note. Each query may read the whole
#: ledger (no index serves refund ids), so a 19 MB statement of unknown ids makes 62 of them,
#: not 616; SQLite takes up to 32,766 parameters.
LOOKUP_BATCH = 5000


class Category(StrEnum):
    MATCHED = "matched"
    ONLY_OURS = "only_in_ours"
    ONLY_THEIRS = "only_in_theirs"
    AMOUNT_DIFFERS = "amount_differs"
    STATUS_DIFFERS = "status_differs"
    UNREADABLE = "unreadable"


class SignConvention(StrEnum):
    """How the statement signs its amounts."""

    PLAYER = "player"  # like our export: debits negative, credits to the player positive
    OPERATOR = "operator"  # the opposite: stakes positive, wins negative
    UNSIGNED = "unsigned"  # all positive: absolute amounts are compared


DEFAULT_STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(
        "settled complete completed success successful ok done closed paid win won lose lost "
        "loss finished processed approved".split(),
        BetState.SETTLED.value,
    ),
    **dict.fromkeys(
        "cancelled canceled cancel void voided refund refunded rollback rolledback "
        "reversed reversal".split(),
        BetState.CANCELLED.value,
    ),
    **dict.fromkeys(
        "open pending running unsettled active accepted inprogress".split(),
        BetState.OPEN.value,
    ),
    "rolled back": BetState.CANCELLED.value,
    "in progress": BetState.OPEN.value,
}


def status_word(raw: str) -> str:
    """A status as compared: lower case, single spaces for any run of spaces, _ or -."""
    return " ".join(raw.replace("_", " ").replace("-", " ").split()).casefold()


@dataclass(frozen=True)
class DiffOptions:
    sign: SignConvention = SignConvention.PLAYER
    tolerance: Decimal = ZERO
    extra_status_words: dict[str, str] = field(default_factory=dict)

    def our_state_for(self, their_status: str) -> str:
        word = status_word(their_status)
        return self.extra_status_words.get(word) or DEFAULT_STATUS_WORDS.get(word) or word


@dataclass
class TheirSide:
    amount: Decimal
    status: str
    lines: list[int]


@dataclass(frozen=True)
class OurSide:
    amount: Decimal
    gross: Decimal  # sum of absolute amounts, for unsigned statements
    status: str
    bet_key: str
    player: str
    currency: str


@dataclass(frozen=True)
class DiffLine:
    category: Category
    tx_id: str
    ours: OurSide | None = None
    theirs: TheirSide | None = None
    their_status_as_ours: str = ""
    note: str = ""

    @property
    def our_amount(self) -> Decimal | None:
        return self.ours.amount if self.ours else None

    @property
    def their_amount(self) -> Decimal | None:
        return self.theirs.amount if self.theirs else None


def parse_status_words(text: str) -> dict[str, str]:
    """Finance's extra translations, one ``their word = open|settled|cancelled`` per line."""
    allowed = {BetState.OPEN.value, BetState.SETTLED.value, BetState.CANCELLED.value}
    words: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        their, sep, ours = line.partition("=")
        ours = ours.strip().casefold()
        if not sep or not their.strip() or ours not in allowed:
            raise ValueError(
                f"line {number}: write 'their status = open', '= settled' or '= cancelled'"
            )
        words[status_word(their)] = ours
    return words


def _their_totals(statement: Statement) -> dict[str, TheirSide]:
    """The statement summed per id (several lines per id: amounts add up, the last status
    stands), in the order ids first appear."""
    totals: dict[str, TheirSide] = {}
    for line in statement.lines:
        side = totals.get(line.tx_id)
        if side is None:
            totals[line.tx_id] = TheirSide(line.amount, line.status, [line.line])
        else:
            side.amount += line.amount
            side.status = line.status
            side.lines.append(line.line)
    return totals


def _our_totals(selection: ReconciliationFilter) -> Iterator[tuple[str, OurSide]]:
    grouped = (
        filtered_movements(selection)
        .exclude(provider_tx_id="")
        .values("provider_tx_id")
        .annotate(
            # Not named "amount": a later F("amount") would then mean this sum.
            net_total=money_sum("amount"),
            gross_total=money_sum("amount", absolute=True),
            first_state=Min("bet__state"),
            last_state=Max("bet__state"),
            bets=Count("bet", distinct=True),
            bet_key=Min("bet__bet_key"),
            player=Min("wallet__player__account_id"),
            currency=Min("wallet__currency"),
        )
        .order_by("provider_tx_id")
    )
    for row in grouped.iterator(chunk_size=5000):
        status = row["first_state"] or ""
        if row["last_state"] != row["first_state"]:
            status = f"mixed ({row['first_state']}/{row['last_state']})"
        bet_key = row["bet_key"] or ""
        if row["bets"] > 1:
            bet_key = f"{bet_key} (+{row['bets'] - 1} more)"
        yield (
            row["provider_tx_id"],
            OurSide(
                money_value(row["net_total"]),
                money_value(row["gross_total"]),
                status,
                bet_key,
                row["player"],
                row["currency"],
            ),
        )


def _comparable(amount: Decimal, gross: Decimal, sign: SignConvention) -> Decimal:
    return gross if sign is SignConvention.UNSIGNED else amount


def _their_comparable(side: TheirSide, sign: SignConvention) -> Decimal:
    if sign is SignConvention.OPERATOR:
        return -side.amount
    if sign is SignConvention.UNSIGNED:
        return abs(side.amount)
    return side.amount


def compare(
    statement: Statement, selection: ReconciliationFilter, options: DiffOptions
) -> Iterator[DiffLine]:
    """Every id of either side once, ours in id order, then the statement's own, then the
    statement's unreadable lines."""
    if not selection.provider:
        raise ValueError("a statement is compared with one provider's movements")
    theirs = _their_totals(statement)
    for tx_id, ours in _our_totals(selection):
        their = theirs.pop(tx_id, None)
        if their is None:
            yield DiffLine(Category.ONLY_OURS, tx_id, ours)
            continue
        as_ours = options.our_state_for(their.status)
        ours_amount = _comparable(ours.amount, ours.gross, options.sign)
        if abs(ours_amount - _their_comparable(their, options.sign)) > options.tolerance:
            category = Category.AMOUNT_DIFFERS
        elif as_ours != ours.status:
            category = Category.STATUS_DIFFERS
        else:
            category = Category.MATCHED
        yield DiffLine(category, tx_id, ours, their, as_ours)
    elsewhere = _found_elsewhere(selection.provider, theirs)
    for tx_id, their in theirs.items():
        yield DiffLine(
            Category.ONLY_THEIRS,
            tx_id,
            None,
            their,
            options.our_state_for(their.status),
            note=elsewhere.get(tx_id, ""),
        )
    for problem in statement.problems:
        yield DiffLine(
            Category.UNREADABLE,
            problem.tx_id,
            None,
            TheirSide(ZERO, "", [problem.line]),
            note=problem.message,
        )


def _found_elsewhere(provider: str, missing: dict[str, TheirSide]) -> dict[str, str]:
    """For ids missing in the period: when we moved money with them outside it, say so."""
    notes: dict[str, str] = {}
    ids = list(missing)
    for start in range(0, len(ids), LOOKUP_BATCH):
        found = (
            LedgerEntry.objects.filter(
                provider=provider, provider_tx_id__in=ids[start : start + LOOKUP_BATCH]
            )
            .values("provider_tx_id")
            .annotate(first=Min("created_at"), last=Max("created_at"))
        )
        for row in found:
            when = time_cell(row["first"])
            if row["last"] != row["first"]:
                when += f" .. {time_cell(row['last'])}"
            notes[row["provider_tx_id"]] = f"outside the chosen period: we have it at {when}"
    return notes


# --- the report ------------------------------------------------------------------------------

REPORT_COLUMNS: tuple[Column, ...] = (
    Column(
        "category",
        "matched, amount_differs, status_differs, only_in_ours, only_in_theirs "
        "or unreadable (a statement line that could not be read).",
    ),
    Column("provider_tx_id", "The provider transaction id compared."),
    Column("our_amount", "Sum of our movements with this id, signed as in the export."),
    Column("their_amount", "Sum of the statement's amounts for this id, as written in the file."),
    Column(
        "difference",
        "our_amount minus their amount, after applying the statement's sign convention.",
    ),
    Column("our_status", "The bet's state on our side: open, settled or cancelled."),
    Column("their_status", "The status as written in the statement."),
    Column("their_status_as_ours", "Their status translated to ours (what was compared)."),
    Column("their_lines", "Line numbers of the statement (1 = first line of the file)."),
    Column("bet_key", "Our bet key for this id."),
    Column("player", "Our player account id."),
    Column("currency", "Our wallet currency."),
    Column("note", "Why a line could not be read, or where we have an id outside the period."),
)
REPORT_HEADER = tuple(column.name for column in REPORT_COLUMNS)


def report_cells(line: DiffLine, sign: SignConvention) -> list[Cell]:
    ours, theirs = line.ours, line.theirs
    difference = ""
    if ours is not None and theirs is not None:
        difference = amount_cell(
            _comparable(ours.amount, ours.gross, sign) - _their_comparable(theirs, sign)
        )
    readable = line.category is not Category.UNREADABLE
    return [
        line.category.value,
        text_cell(line.tx_id),
        amount_cell(ours.amount if ours else None),
        amount_cell(theirs.amount if theirs and readable else None),
        difference,
        text_cell(ours.status if ours else ""),
        text_cell(theirs.status if theirs else ""),
        text_cell(line.their_status_as_ours),
        ";".join(str(n) for n in theirs.lines) if theirs else "",
        text_cell(ours.bet_key if ours else ""),
        text_cell(ours.player if ours else ""),
        text_cell(ours.currency if ours else ""),
        text_cell(line.note),
    ]


def report_chunks(lines: Iterable[DiffLine], sign: SignConvention) -> Iterator[bytes]:
    return csv_chunks(REPORT_HEADER, (report_cells(line, sign) for line in lines))


@dataclass
class DiffSummary:
    """What the page shows: counts per category and the first lines of each."""

    counts: dict[Category, int]
    samples: dict[Category, list[DiffLine]]
    not_compared: int

    @classmethod
    def collect(
        cls, lines: Iterable[DiffLine], *, not_compared: int, sample_size: int
    ) -> DiffSummary:
        counts = dict.fromkeys(Category, 0)
        samples: dict[Category, list[DiffLine]] = {category: [] for category in Category}
        for line in lines:
            counts[line.category] += 1
            if len(samples[line.category]) < sample_size:
                samples[line.category].append(line)
        return cls(counts, samples, not_compared)


def movements_without_tx_id(selection: ReconciliationFilter) -> int:
    """Movements of the selection that no statement can list (staff actions, deposits)."""
    return filtered_movements(selection).filter(provider_tx_id="").count()
