"""PostgreSQL: the ledger's closing rows (win, refund, reversal) by bet, with their time, so the
daily summary reads every bet's first close from this index alone, in bet order.

The summary's open-bet count needs each bet's first close: without this index that is a hash
of every closing row by bet and a hash join to the bets (1.3-1.5 s of the database's CPU for
half a million bets); with it, an index-only scan grouped as it goes and a merge join on the
bets' primary key (0.54-0.57 s). Partial: stakes and deposits never enter it; each settle,
refund or reversal adds one entry, about 10,000 PostgreSQL instructions (+0.8 % of a cancel's,
docs/performance.md).

Built with CREATE INDEX CONCURRENTLY, so that building it on a ledger of millions of rows does
not block provider requests (which write ledger rows). PostgreSQL only, like 0002, and not
declared on the model: SQLite (the demo) would build it without its INCLUDE, for nothing (its
summary takes another path). Its kinds are ``wallet.reconciliation.summary.CLOSING_KINDS``
(tests/finance/test_summary_independent.py checks they agree).
"""

from django.db import migrations

NAME = "ledger_bet_first_close"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("wallet", "LedgerEntry")._meta.db_table)
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY {NAME} ON {table} (bet_id) INCLUDE (created_at) "
        "WHERE kind IN ('win', 'refund', 'reversal')"
    )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("wallet", "0007_ledger_withdrawal_kind"),
    ]

    operations = [migrations.RunPython(forward, backward)]
