"""Tamper evidence (docs/ledger-chain.md): a chained HMAC-SHA256 on every ledger row, computed
by a trigger in the transaction that writes the row, and on every staff audit row, computed by
the app under a lock on the audit chain's head row.

PostgreSQL: pgcrypto (a trusted extension: the database owner may create it) gives ``hmac()``;
the BEFORE INSERT trigger reads the key from the session setting ``backoffice.ledger_chain_key``
(set on each connection from LEDGER_CHAIN_KEY, never stored) and refuses to write a row without
it. It reads the wallet's previous row by the index ``ledger_wallet_order`` (wallet_id, id):
the movement holds the wallet's row lock, so no other row of the wallet can come between. The
same trigger keeps a wallet's ``created_at`` from going backwards: a movement stamped before
it waited for the lock gets its predecessor's time. SQLite (the demo): an AFTER INSERT trigger
calling the Python function each connection registers.

Rows already in the ledger and the audit are chained here, in (wallet, id) and id order. On
PostgreSQL this takes the ledger's table lock (ALTER TABLE) until the migration commits: run it
in a maintenance window on a large ledger (docs/ledger-chain.md, "Upgrading").
"""

from django.db import migrations, models

from wallet.chain import audit_link, chain_key, ledger_link

POSTGRES_FORWARD = """
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE OR REPLACE FUNCTION wallet_chain_netstring(part text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT octet_length(part)::text || ':' || part || ',' $$;

CREATE OR REPLACE FUNCTION wallet_ledger_link(previous bytea, e wallet_ledgerentry, chain_key text)
    RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT hmac(convert_to(
    wallet_chain_netstring('ledger-v1')
    || wallet_chain_netstring(coalesce(encode(previous, 'hex'), ''))
    || wallet_chain_netstring(e.id::text)
    || wallet_chain_netstring(e.wallet_id::text)
    || wallet_chain_netstring(coalesce(e.bet_id::text, ''))
    || wallet_chain_netstring(e.kind)
    || wallet_chain_netstring(round(e.amount, 6)::text)
    || wallet_chain_netstring(round(e.balance_after, 6)::text)
    || wallet_chain_netstring(e.provider)
    || wallet_chain_netstring(e.provider_tx_id)
    || wallet_chain_netstring(coalesce(e.staff_user_id::text, ''))
    || wallet_chain_netstring(e.reason)
    || wallet_chain_netstring((extract(epoch FROM e.created_at) * 1000000)::bigint::text),
    'UTF8'), convert_to(chain_key, 'UTF8'), 'sha256')
$$;

-- Sequential scans off: the lookup of a row's predecessor is planned once per session from the
-- ledger's statistics, and on a ledger analyzed while empty that plan would read the whole
-- table for every row inserted. The (wallet_id, id) index is then its only plan.
CREATE OR REPLACE FUNCTION wallet_ledger_chain() RETURNS trigger LANGUAGE plpgsql
    SET enable_seqscan = off AS $$
DECLARE
    chain_key text := current_setting('backoffice.ledger_chain_key', true);
    previous_hash bytea;
    previous_at timestamptz;
BEGIN
    IF coalesce(chain_key, '') = '' THEN
        RAISE EXCEPTION 'ledger rows are chained and this session has no key '
            '(backoffice.ledger_chain_key, docs/ledger-chain.md)'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT l.chain_hash, l.created_at INTO previous_hash, previous_at
    FROM wallet_ledgerentry l
    WHERE l.wallet_id = NEW.wallet_id AND l.id < NEW.id
    ORDER BY l.id DESC LIMIT 1;
    IF previous_at > NEW.created_at THEN
        NEW.created_at := previous_at;
    END IF;
    NEW.chain_hash := wallet_ledger_link(previous_hash, NEW, chain_key);
    RETURN NEW;
END;
$$;

CREATE TRIGGER wallet_ledger_chain
    BEFORE INSERT ON wallet_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_chain();
"""

POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS wallet_ledger_chain ON wallet_ledgerentry;
DROP FUNCTION IF EXISTS wallet_ledger_chain();
DROP FUNCTION IF EXISTS wallet_ledger_link(bytea, wallet_ledgerentry, text);
DROP FUNCTION IF EXISTS wallet_chain_netstring(text);
"""

SQLITE_FORWARD = """
CREATE TRIGGER wallet_ledger_chain AFTER INSERT ON wallet_ledgerentry FOR EACH ROW
BEGIN
    UPDATE wallet_ledgerentry SET chain_hash = wallet_ledger_chain(
        (SELECT p.chain_hash FROM wallet_ledgerentry p
         WHERE p.wallet_id = NEW.wallet_id AND p.id < NEW.id ORDER BY p.id DESC LIMIT 1),
        NEW.id, NEW.wallet_id, NEW.bet_id, NEW.kind, NEW.amount, NEW.balance_after,
        NEW.provider, NEW.provider_tx_id, NEW.staff_user_id, NEW.reason, NEW.created_at)
    WHERE id = NEW.id;
END
"""

SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS wallet_ledger_chain"

#: PostgreSQL: every existing row linked in the database, in one pass in (wallet, id) order,
#: with the trigger's own function (no round trip per row on a ledger of millions).
POSTGRES_CHAIN_EXISTING = """
DO $$
DECLARE
    chain_key text := current_setting('backoffice.ledger_chain_key', true);
    entry wallet_ledgerentry;
    previous bytea;
    current_wallet bigint;
BEGIN
    FOR entry IN SELECT * FROM wallet_ledgerentry ORDER BY wallet_id, id LOOP
        IF entry.wallet_id IS DISTINCT FROM current_wallet THEN
            previous := NULL;
            current_wallet := entry.wallet_id;
        END IF;
        previous := wallet_ledger_link(previous, entry, chain_key);
        UPDATE wallet_ledgerentry SET chain_hash = previous WHERE id = entry.id;
    END LOOP;
END;
$$;
"""

SQLITE_SELECT_LEDGER = (
    "SELECT id, wallet_id, bet_id, kind, amount, balance_after, provider, provider_tx_id, "
    "staff_user_id, reason, created_at FROM wallet_ledgerentry ORDER BY wallet_id, id"
)
APPEND_ONLY = "ALTER TABLE wallet_ledgerentry {} TRIGGER wallet_ledger_append_only"


def chain_existing_ledger(schema_editor) -> None:
    """Link the rows written before this migration, wallet by wallet in id order."""
    connection = schema_editor.connection
    key = chain_key()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT EXISTS (SELECT FROM wallet_ledgerentry)")
            if cursor.fetchone()[0]:
                cursor.execute(APPEND_ONLY.format("DISABLE"))
                cursor.execute(POSTGRES_CHAIN_EXISTING)
                cursor.execute(APPEND_ONLY.format("ENABLE"))
            return
        cursor.execute(SQLITE_SELECT_LEDGER)
        previous, wallet = None, None
        for row in cursor.fetchall():
            if row[1] != wallet:
                previous, wallet = None, row[1]
            previous = ledger_link(key, previous, row)
            cursor.execute(
                "UPDATE wallet_ledgerentry SET chain_hash = %s WHERE id = %s", [previous, row[0]]
            )


def chain_existing_audit(apps) -> None:
    AuditEntry = apps.get_model("wallet", "AuditEntry")
    AuditChainHead = apps.get_model("wallet", "AuditChainHead")
    key = chain_key()
    previous, last_id = None, None
    fields = ("id", "actor_id", "action", "bet_id", "player_id", "reason", "before", "after",
              "created_at")  # fmt: skip
    for row in AuditEntry.objects.order_by("id").values_list(*fields).iterator():
        previous, last_id = audit_link(key, previous, row), row[0]
        AuditEntry.objects.filter(pk=last_id).update(chain_hash=previous)
    AuditChainHead.objects.create(pk=1, last_entry_id=last_id, last_hash=previous)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)
    else:
        schema_editor.execute(SQLITE_FORWARD)
    chain_existing_ledger(schema_editor)
    chain_existing_audit(apps)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)
    else:
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0011_ledger_balance_as_of_index")]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="chain_hash",
            field=models.BinaryField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="chain_hash",
            field=models.BinaryField(editable=False, null=True),
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.SmallIntegerField(primary_key=True, serialize=False)),
                ("last_entry_id", models.BigIntegerField(null=True)),
                ("last_hash", models.BinaryField(null=True)),
            ],
            options={"verbose_name": "audit chain head"},
        ),
        migrations.RunPython(forward, backward),
    ]
