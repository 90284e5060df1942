"""Indexes for the support admin: exact search by bet key alone, and recent cancels.

On PostgreSQL they are built with CREATE INDEX CONCURRENTLY, so that building them on a table
of millions of bets does not block provider requests (which write bets) while it runs.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexOnline(AddIndexConcurrently):
    """CONCURRENTLY on PostgreSQL; a plain CREATE INDEX elsewhere (SQLite, the demo)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("wallet", "0004_staff_login_failures"),
    ]

    operations = [
        AddIndexOnline(
            model_name="bet",
            index=models.Index(fields=["bet_key"], name="bet_key_search"),
        ),
        AddIndexOnline(
            model_name="bet",
            index=models.Index(
                condition=models.Q(("cancelled_at__isnull", False)),
                fields=["cancelled_at", "provider"],
                name="bet_cancelled_recent",
            ),
        ),
    ]
