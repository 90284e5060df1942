"""The ledger by wallet and time, carrying each row's balance after: a wallet's balance at any
instant is then one index-only lookup (``wallet.balances``), the last row at or before it.

On PostgreSQL: ``(wallet_id, created_at, id) INCLUDE (balance_after)``, built with CREATE INDEX
CONCURRENTLY so that building it on a ledger of millions of rows does not block provider
requests (which write ledger rows); ``id`` breaks ties between rows of the same microsecond in
the order they were written. On SQLite (the demo) a plain index on the same key. Not declared
on the model: Django would build it inside a transaction, and SQLite has no INCLUDE.
"""

from django.db import migrations

NAME = "ledger_wallet_time"


def forward(apps, schema_editor):
    table = schema_editor.quote_name(apps.get_model("wallet", "LedgerEntry")._meta.db_table)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON {table} "
            "(wallet_id, created_at, id) INCLUDE (balance_after)"
        )
    else:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON {table} (wallet_id, created_at, id)"
        )


def backward(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("wallet", "0010_four_eyes"),
    ]

    operations = [migrations.RunPython(forward, backward)]
