"""PostgreSQL refuses UPDATE and DELETE on ledger rows, whoever asks (code, admin, psql).

TRUNCATE (used by test teardown and by nobody else) fires no row trigger. SQLite, the demo
database, relies on the model's own refusal.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION wallet_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only (%% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER wallet_ledger_append_only
    BEFORE UPDATE OR DELETE ON wallet_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS wallet_ledger_append_only ON wallet_ledgerentry;
DROP FUNCTION IF EXISTS wallet_ledger_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
