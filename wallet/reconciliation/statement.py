"""Reading a provider's statement: a CSV file as providers and spreadsheets really write it.

Tolerated: a UTF-8 byte-order mark, UTF-16 (Excel's "Unicode text"), Windows-1252 when the file
is not UTF-8; comma, semicolon, tab or pipe delimiters (recognised, or chosen); Excel's
``sep=;`` first line; title lines above the header; blank lines; quoted cells; thousands
separators (``1,234.50``, ``1.234,50``, ``1 234,50``, ``1'234.50``) once the decimal separator
is known; accounting negatives ``(12.50)`` and trailing minus ``12.50-``; a leading apostrophe
(what our own exports add to formula-like text).

Refused, with a message that says why: workbooks (.xlsx, .xls), PDFs, HTML and other binary
files; a file without the mapped columns. A line whose amount or id cannot be read is kept
as a problem for the report, never guessed: also a line csv cannot split (a cell longer than
``MAX_CELL_CHARS``), an id longer than any of ours, an amount longer than ``MAX_AMOUNT_CHARS``
or larger than the ledger's column holds.

The rows are read one at a time from the text (no list of every row, no second copy of the
file split into lines), and the usual amount (``-1234.50``) is read by one compiled pattern.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from wallet.models import MONEY_DIGITS, MONEY_PLACES

DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
HEADER_SEARCH_ROWS = 20
#: csv's own field limit (``csv.field_size_limit()``'s default), named: a longer cell makes
#: its line unreadable instead of failing the whole file.
MAX_CELL_CHARS = 131_072
#: Our ``provider_tx_id`` column: a longer id cannot be one of ours.
MAX_ID_CHARS = 128
#: Longer than any amount written with separators and 6 decimals; longer is not an amount.
MAX_AMOUNT_CHARS = 64
#: Digits before the point that ``numeric(20,6)`` holds.
MAX_WHOLE_DIGITS = MONEY_DIGITS - MONEY_PLACES
#: Text searched for the ``sep=`` line and the delimiter: the first lines are in it.
_HEAD_CHARS = 256 * 1024

#: Column names tried, in order, when the form leaves a mapping blank (compared without case,
#: spaces or punctuation).
GUESSES: dict[str, tuple[str, ...]] = {
    "tx_id": (
        "providertxid",
        "providertransactionid",
        "transactionid",
        "txid",
        "txnid",
        "transid",
        "transferid",
        "referenceid",
        "refid",
        "reference",
        "id",
    ),
    "amount": ("amount", "amt", "netamount", "value", "net", "total"),
    "status": ("status", "state", "transactionstatus", "betstatus", "txstatus", "result"),
}
FIELD_LABELS = {"tx_id": "transaction id", "amount": "amount", "status": "status"}

_SCIENTIFIC_ID = re.compile(r"^\d+(?:[.,]\d+)?[eE]\+?\d+$")
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009")


#: A file line, its cells (None when csv could not read them) and why not.
_Row = tuple[int, list[str] | None, str]


class StatementError(ValueError):
    """The file as a whole cannot be used; the message is for finance staff."""


@dataclass(frozen=True)
class ColumnMapping:
    """Which statement column holds what: a header name, a 1-based number, or blank (guess)."""

    tx_id: str = ""
    amount: str = ""
    status: str = ""


@dataclass(frozen=True)
class StatementLine:
    line: int
    tx_id: str
    amount: Decimal
    status: str


@dataclass(frozen=True)
class LineProblem:
    line: int
    message: str
    tx_id: str = ""


@dataclass
class Statement:
    encoding: str
    delimiter: str
    columns: list[str]
    used_columns: dict[str, str]
    lines: list[StatementLine] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)


# --- bytes to text ---------------------------------------------------------------------------


def decode_statement(data: bytes) -> tuple[str, str]:
    """The file's text and the name of the encoding it was read with."""
    if not data.strip():
        raise StatementError("The file is empty.")
    for magic, what in (
        (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip file"),
        (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
        (b"%PDF", "a PDF document"),
    ):
        if data.startswith(magic):
            raise StatementError(
                f"This is {what}, not a CSV file. Open it and save it as CSV (comma- or "
                "semicolon-separated values), then upload that file."
            )
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = data[len(codecs.BOM_UTF8) :].decode("utf-8", "replace"), "UTF-8 (BOM)"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = data.decode("utf-16", "replace"), "UTF-16"
    elif b"\x00" in data[:8192]:
        raise StatementError("This is a binary file, not a CSV file.")
    else:
        try:
            text, encoding = data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            # Excel's "CSV" on Western Windows. Only ids and statuses could be affected;
            # amounts are ASCII either way.
            text, encoding = data.decode("cp1252", "replace"), "Windows-1252"
    start = text.lstrip()[:200].lower()
    if start.startswith(("<!doctype", "<html", "<?xml", "<table")):
        raise StatementError("This is an HTML or XML page, not a CSV file.")
    return text, encoding


# --- text to rows ----------------------------------------------------------------------------


def _split(text: str, delimiter: str) -> list[list[str]]:
    """The rows of a sample; rows csv cannot read are left out (the full read reports them)."""
    return [row for _, row, _ in _rows(text, delimiter, 1) if row is not None]


def _rows(text: str, delimiter: str, first_line: int) -> Iterator[_Row]:
    """Non-blank rows with the file line each starts on (a quoted cell may span lines), one at a
    time; a row csv cannot read comes as (line, None, why) and the reading goes on after it."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next_line = first_line
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield next_line, None, _csv_problem(exc)
        else:
            if "".join(row).strip():
                yield next_line, row, ""
        next_line = first_line + reader.line_num


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a cell on this line is longer than {MAX_CELL_CHARS:,} characters"
    return f"the line cannot be read as CSV ({exc})"


def _guess_delimiter(lines: list[str]) -> str:
    """The candidate giving the most columns, the same number on the first rows."""
    sample = "\n".join(lines[: HEADER_SEARCH_ROWS + 10])
    best, best_width = ",", 1
    for delimiter in DELIMITERS.values():
        widths = [len(row) for row in _split(sample, delimiter) if any(c.strip() for c in row)]
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        if common > best_width and widths.count(common) * 2 >= len(widths):
            best, best_width = delimiter, common
    return best


def _key(name: str) -> str:
    return re.sub(r"[\W_]+", "", name).casefold()


def _resolve(header: list[str], mapping: ColumnMapping) -> dict[str, int] | None:
    """Column index of each field in this header row, or None when one is missing."""
    keys = [_key(cell) for cell in header]
    found: dict[str, int] = {}
    for name in ("tx_id", "amount", "status"):
        asked = getattr(mapping, name).strip()
        if asked.isdigit():
            index = int(asked) - 1
            if not 0 <= index < len(header):
                return None
            found[name] = index
            continue
        candidates = (_key(asked),) if asked else GUESSES[name]
        by_name = next((keys.index(c) for c in candidates if c and c in keys), None)
        if by_name is None:
            return None
        found[name] = by_name
    if len(set(found.values())) < len(found):
        return None  # one column cannot be two things
    return found


def read_statement(
    data: bytes, mapping: ColumnMapping, *, delimiter: str = "", decimal_separator: str = "."
) -> Statement:
    """Parse a statement file; raises ``StatementError`` when it cannot be used at all."""
    text, encoding = decode_statement(data)
    head = text[:_HEAD_CHARS].splitlines(keepends=True)
    first_line = 1
    first = head[0].strip() if head else ""
    if re.fullmatch(r'"?sep=(.)"?', first):
        delimiter = delimiter or first.split("=", 1)[1].strip('"')[:1]
        text = text[len(head[0]) :]
        head, first_line = head[1:], 2
    delimiter = delimiter or _guess_delimiter(
        [line.rstrip("\r\n") for line in head[: HEADER_SEARCH_ROWS + 10]]
    )
    rows = _rows(text, delimiter, first_line)
    head_rows: list[_Row] = []  # the first rows, where the header is, and lines csv refused
    numbered: list[tuple[int, list[str]]] = []
    for line_no, row, why in rows:
        head_rows.append((line_no, row, why))
        if row is not None:
            numbered.append((line_no, row))
            if len(numbered) == HEADER_SEARCH_ROWS:
                break
    if not numbered or max(len(row) for _, row in numbered) < 3:
        raise StatementError(
            "No table with at least 3 columns was found: this is not a CSV statement, or its "
            "delimiter is not comma, semicolon, tab or pipe."
        )
    header_at, columns = _find_header(numbered, mapping)
    used = {name: numbered[header_at][1][index] for name, index in columns.items()}
    statement = Statement(encoding, delimiter, numbered[header_at][1], used)
    width = len(statement.columns)
    header_line = numbered[header_at][0]
    after_header = (entry for entry in head_rows if entry[0] > header_line)
    for line_no, maybe_row, why in _chain(after_header, rows):
        if maybe_row is None:
            statement.problems.append(LineProblem(line_no, why))
            continue
        row = maybe_row
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            statement.problems.append(
                LineProblem(
                    line_no,
                    f"{len(row)} cells on this line but {width} in the header: a value "
                    f"probably contains the delimiter {delimiter!r} without quotes",
                )
            )
            continue
        _read_line(statement, line_no, row, columns, decimal_separator)
    return statement


def _chain(*parts: Iterator[_Row]) -> Iterator[_Row]:
    for part in parts:
        yield from part


def _find_header(
    numbered: list[tuple[int, list[str]]], mapping: ColumnMapping
) -> tuple[int, dict[str, int]]:
    by_number = all(v.strip().isdigit() for v in (mapping.tx_id, mapping.amount, mapping.status))
    for position, (_, row) in enumerate(numbered[:HEADER_SEARCH_ROWS]):
        if len(row) < 3:
            continue  # a title line above the table
        columns = _resolve(row, mapping)
        if columns is not None:
            return position, columns
        if by_number:
            break  # numbers fit any wide row: the first wide row is the header
    header = next(row for _, row in numbered if len(row) >= 3)
    wanted = ", ".join(
        f"{FIELD_LABELS[name]} = {getattr(mapping, name).strip() or '(guess)'}"
        for name in ("tx_id", "amount", "status")
    )
    shown = ", ".join(repr(cell.strip()) for cell in header[:30])
    raise StatementError(
        f"The columns asked for ({wanted}) are not all in the file, or two of them are the "
        f"same column. The file's columns are: {shown}. Enter the column names (or numbers, "
        "1 = first) in the mapping fields."
    )


def _read_line(
    statement: Statement,
    line_no: int,
    row: list[str],
    columns: dict[str, int],
    decimal_separator: str,
) -> None:
    if max(columns.values()) >= len(row):
        statement.problems.append(LineProblem(line_no, f"only {len(row)} cells on this line"))
        return
    tx_id = _clean_text(row[columns["tx_id"]])
    if not tx_id:
        statement.problems.append(LineProblem(line_no, "no transaction id"))
        return
    if len(tx_id) > MAX_ID_CHARS:
        statement.problems.append(
            LineProblem(
                line_no,
                f"the id {_shown(tx_id)} is {len(tx_id):,} characters long; none of ours is "
                f"longer than {MAX_ID_CHARS}",
            )
        )
        return
    if _SCIENTIFIC_ID.match(tx_id):
        statement.problems.append(
            LineProblem(
                line_no,
                f"the id {tx_id!r} looks like a number a spreadsheet rounded; export the "
                "statement again with the id column as text",
                tx_id,
            )
        )
        return
    raw_amount = row[columns["amount"]]
    try:
        amount = parse_statement_amount(raw_amount, decimal_separator)
    except ValueError as exc:
        statement.problems.append(LineProblem(line_no, str(exc), tx_id))
        return
    status = _clean_text(row[columns["status"]])
    statement.lines.append(StatementLine(line_no, tx_id, amount, status))


def _clean_text(cell: str) -> str:
    text = cell.strip()
    # Our exports (and careful providers) prefix formula-like text with an apostrophe.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text


def _shown(raw: str) -> str:
    """A cell as quoted in a message: a cell can be 131,072 characters long, a message not."""
    text = raw.strip()
    return repr(text) if len(text) <= 40 else repr(text[:40]) + f"… ({len(text):,} characters)"


@functools.cache
def _amount_patterns(decimal_separator: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The plain form (``-1234.50``, read at once) and the full one (groups, signs, brackets)."""
    point = re.escape(decimal_separator)
    thousands = re.escape("," if decimal_separator == "." else ".")
    plain = re.compile(rf"-?\d{{1,{MAX_WHOLE_DIGITS}}}(?:{point}\d{{0,{MONEY_PLACES}}})?")
    grouped = rf"\d{{1,3}}(?:[{thousands}']\d{{3}})+"
    full = re.compile(rf"(?:{grouped}|\d+)(?:{point}\d*)?|{point}\d+")
    return plain, full


def parse_statement_amount(raw: str, decimal_separator: str = ".") -> Decimal:
    """An exact amount from a statement cell; ``ValueError`` with a reason when unreadable."""
    if decimal_separator not in (".", ","):
        raise ValueError("the decimal separator must be '.' or ','")
    plain, full = _amount_patterns(decimal_separator)
    if plain.fullmatch(raw):  # most lines: no spaces, groups or brackets, within the column
        return Decimal(raw.replace(",", ".") if decimal_separator == "," else raw)
    if len(raw) > MAX_AMOUNT_CHARS:
        raise ValueError(f"the amount {_shown(raw)} is too long to be an amount")
    text = raw.translate(_SPACES).lstrip("'")
    if not text:
        raise ValueError("the amount is empty")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.endswith("-"):
        negative, text = not negative, text[:-1]
    if text[:1] in "+-":
        negative, text = negative != (text[0] == "-"), text[1:]
    thousands = "," if decimal_separator == "." else "."
    if not full.fullmatch(text):
        hint = ""
        if re.fullmatch(r"\d+[.,]\d+", text):
            hint = f" (is the decimal separator {thousands!r}? choose it in the form)"
        raise ValueError(f"the amount {_shown(raw)} is not a number{hint}")
    digits = text.replace(thousands, "").replace("'", "").replace(decimal_separator, ".")
    if len(digits.partition(".")[0].lstrip("0")) > MAX_WHOLE_DIGITS:
        # Past numeric(20,6): no movement of ours has it, and the decimal context (28 digits)
        # would fail on it further on.
        raise ValueError(
            f"the amount {_shown(raw)} has more than {MAX_WHOLE_DIGITS} digits before the "
            "point: larger than any amount the ledger holds"
        )
    try:
        amount = Decimal(digits)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise ValueError(f"the amount {_shown(raw)} is not a number") from exc
    exponent = amount.as_tuple().exponent
    if (
        isinstance(exponent, int)
        and exponent < -MONEY_PLACES
        and amount != round(amount, MONEY_PLACES)
    ):
        raise ValueError(f"the amount {_shown(raw)} has more than {MONEY_PLACES} decimals")
    return -amount if negative else amount
