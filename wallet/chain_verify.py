"""Recompute the ledger's and the staff audit's chains (``manage.py verify_ledger``), and the
daily digest of every wallet's chain head (docs/ledger-chain.md).

Each row's link is recomputed from its fields and the link stored on the row before it, with
the key from the environment and this module's own encoding (``wallet.chain``), never the
database's functions. So an edited row shows as a broken link on that row; a deleted row, or
one slipped in, on the row after it. The rows are read in pages of ``PAGE`` by their key order
((wallet, id) for the ledger, id for the audit): memory stays flat at any ledger size, and no
cursor outlives a statement (fine behind a transaction pooler).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Subquery

from wallet.chain import AUDIT_FIELDS, LEDGER_FIELDS, audit_link, ledger_link
from wallet.models import AuditChainHead, AuditEntry, LedgerEntry, Wallet

PAGE = 20_000
#: Told the rows checked so far (ledger and audit together) after each page.
OnRows = Callable[[int], None]


@dataclass(frozen=True)
class BrokenLink:
    """The first row of a chain whose stored link is not the one recomputed."""

    chain: str  # "wallet 12" or "audit"
    entry_id: int | None  # None: the chain's head row names a row that is not there
    previous_id: int | None
    detail: str

    def __str__(self) -> str:
        where = f"row {self.entry_id}" if self.entry_id is not None else "head"
        after = f" (after row {self.previous_id})" if self.previous_id is not None else ""
        return f"{self.chain}: {where}{after}: {self.detail}"


@dataclass
class ChainReport:
    ledger_rows: int = 0
    wallets: int = 0
    audit_rows: int = 0
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


def _detail(stored: Any) -> str:
    if stored is None:
        return "no link: the row was written past the chain trigger"
    return (
        "the link does not match: this row was changed, or the row before it is not the one "
        "it was chained to (a row deleted, or one inserted)"
    )


def _ledger_pages() -> Iterator[list[tuple[Any, ...]]]:
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in (*LEDGER_FIELDS, "chain_hash"))
    first = f"SELECT {columns} FROM {table} ORDER BY wallet_id, id LIMIT %s"  # noqa: S608
    after = (
        f"SELECT {columns} FROM {table} "  # noqa: S608
        "WHERE wallet_id > %s OR (wallet_id = %s AND id > %s) ORDER BY wallet_id, id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(first, [PAGE])
        while rows := cursor.fetchall():
            yield rows
            if len(rows) < PAGE:
                return
            last_id, last_wallet = rows[-1][0], rows[-1][1]
            cursor.execute(after, [last_wallet, last_wallet, last_id, PAGE])


def verify_ledger_chains(key: bytes, report: ChainReport, on_rows: OnRows | None = None) -> None:
    """Every wallet's chain, in (wallet, id) order; the first broken link of each wallet."""
    wallet, previous, previous_id, broken = None, None, None, False
    for rows in _ledger_pages():
        for row in rows:
            stored = row[-1]
            if row[1] != wallet:
                wallet, previous, previous_id, broken = row[1], None, None, False
                report.wallets += 1
            report.ledger_rows += 1
            stored = bytes(stored) if stored is not None else None
            if not broken and stored != ledger_link(key, previous, row[:-1]):
                report.broken.append(
                    BrokenLink(f"wallet {wallet}", row[0], previous_id, _detail(stored))
                )
                broken = True
            previous, previous_id = stored, row[0]
        if on_rows is not None:
            on_rows(report.ledger_rows + report.audit_rows)


def verify_audit_chain(key: bytes, report: ChainReport, on_rows: OnRows | None = None) -> None:
    """The audit chain in id order, its first broken link, and its head row."""
    previous: bytes | None = None
    previous_id = None
    rows = AuditEntry.objects.order_by("id").values_list(*AUDIT_FIELDS, "chain_hash")
    last_id = 0
    while True:
        page = list(rows.filter(id__gt=last_id)[:PAGE])
        for row in page:
            report.audit_rows += 1
            stored = bytes(row[-1]) if row[-1] is not None else None
            if stored != audit_link(key, previous, row[:-1]):
                report.broken.append(BrokenLink("audit", row[0], previous_id, _detail(stored)))
                return
            previous, previous_id = stored, row[0]
        if on_rows is not None:
            on_rows(report.ledger_rows + report.audit_rows)
        if len(page) < PAGE:
            break
        last_id = page[-1][0]
    head = AuditChainHead.objects.filter(pk=1).first()
    head_hash = bytes(head.last_hash) if head and head.last_hash is not None else None
    head_id = head.last_entry_id if head else None
    if head_id != previous_id or head_hash != previous:
        report.broken.append(
            BrokenLink(
                "audit",
                None,
                previous_id,
                f"the chain's head names row {head_id}, the last row is {previous_id}: "
                "rows at the end were deleted (or the head was changed)",
            )
        )


def verify_chains(key: bytes, on_rows: OnRows | None = None) -> ChainReport:
    report = ChainReport()
    verify_ledger_chains(key, report, on_rows)
    verify_audit_chain(key, report, on_rows)
    return report


def day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def chain_digest(before: datetime) -> str:
    """SHA-256 (hex) of every wallet's chain head just before ``before``: the link of its last
    ledger row with ``created_at < before`` (by time, then id), one line ``<wallet id>:<link in
    hex>\\n`` per wallet that has one, in wallet id order. A day's digest is this at the day's
    end (the next day's start, UTC)."""
    last = (
        LedgerEntry.objects.filter(wallet=OuterRef("pk"), created_at__lt=before)
        .order_by("-created_at", "-id")
        .values("chain_hash")[:1]
    )
    heads = (
        Wallet.objects.annotate(head=Subquery(last))
        .filter(head__isnull=False)
        .order_by("pk")
        .values_list("pk", "head")
    )
    digest = hashlib.sha256()
    for wallet_id, head in heads.iterator(chunk_size=PAGE):
        digest.update(f"{wallet_id}:{bytes(head).hex()}\n".encode())
    return digest.hexdigest()


def day_digest(day: date) -> str:
    return chain_digest(day_end(day))
