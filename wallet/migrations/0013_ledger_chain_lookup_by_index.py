"""The chain trigger finds a row's predecessor by the ledger's (wallet_id, id) index, always.

Its lookup (``WHERE wallet_id = ... AND id < ... ORDER BY id DESC LIMIT 1``) is planned once
per session, from the table's statistics: on a ledger last analyzed while empty (a new
deployment, a restored copy before autovacuum's first pass) the plan is a sequential scan and
a sort, and every insert then reads the whole ledger: a bulk load of n rows becomes n² row
reads. With sequential scans off inside the trigger function, the index is the only plan.
"""

from django.db import migrations

FORWARD = "ALTER FUNCTION wallet_ledger_chain() SET enable_seqscan = off"
BACKWARD = "ALTER FUNCTION wallet_ledger_chain() RESET enable_seqscan"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0012_ledger_chain")]

    operations = [migrations.RunPython(forward, backward)]
