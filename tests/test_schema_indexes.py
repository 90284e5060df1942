"""Every index on the tables that each provider request writes earns its keep.

A cancel writes a journal row, a ledger row and a bet (an UPDATE that changes indexed columns,
so PostgreSQL adds an entry to every index of the bet table): each index costs every request
CPU and WAL. Two kinds of index do nothing for that cost: one whose columns lead another index
(lookups by those columns use the longer one), and the LIKE-pattern twin PostgreSQL gets for a
``CharField(db_index=True)`` when nothing searches that column by prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection

from journal.models import JournalEntry
from tests.helpers import requires_postgres
from wallet.models import Bet, LedgerEntry

pytestmark = [requires_postgres, pytest.mark.django_db]

WRITTEN_ON_EVERY_REQUEST = [JournalEntry, Bet, LedgerEntry]

# Each index: its name, its columns in order, unique?, partial?, LIKE-pattern operator class?
_INDEXES_SQL = """
SELECT i.relname,
       array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
             ORDER BY k.n),
       x.indisunique,
       x.indpred IS NOT NULL,
       EXISTS (SELECT 1 FROM unnest(x.indclass) c(oid) JOIN pg_opclass o ON o.oid = c.oid
               WHERE o.opcname LIKE '%%pattern_ops')
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = %s::regclass
"""


@dataclass(frozen=True)
class _Index:
    name: str
    columns: list[str]
    unique: bool
    partial: bool
    pattern: bool

    def covers(self, other: _Index) -> bool:
        """Serves every lookup ``other`` serves (and so makes it redundant if it is plain)."""
        return (
            self.name != other.name
            and not self.partial
            and not self.pattern
            and self.columns[: len(other.columns)] == other.columns
        )


def _indexes(table: str) -> list[_Index]:
    with connection.cursor() as cursor:
        cursor.execute(_INDEXES_SQL, [table])
        return [_Index(name, list(columns), *flags) for name, columns, *flags in cursor]


@pytest.mark.parametrize("model", WRITTEN_ON_EVERY_REQUEST, ids=lambda m: m.__name__)
def test_no_index_is_the_leading_part_of_another(model: type) -> None:
    indexes = _indexes(model._meta.db_table)
    redundant = [
        f"{index.name} {index.columns} is served by {other.name} {other.columns}"
        for index in indexes
        if not (index.unique or index.partial or index.pattern)
        for other in indexes
        if other.covers(index)
    ]
    assert redundant == []


@pytest.mark.parametrize("model", WRITTEN_ON_EVERY_REQUEST, ids=lambda m: m.__name__)
def test_no_like_pattern_index(model: type) -> None:
    pattern_indexes = [index.name for index in _indexes(model._meta.db_table) if index.pattern]
    assert pattern_indexes == []


def test_the_request_id_is_still_indexed_for_support_searches() -> None:
    indexed = [index.columns for index in _indexes(JournalEntry._meta.db_table)]
    assert ["request_id"] in indexed
