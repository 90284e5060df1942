"""The journal's request id keeps one index instead of two.

``db_index=True`` on a CharField gives PostgreSQL a second, ``varchar_pattern_ops`` index for
LIKE queries; support searches a request id exactly, so it only cost every journal INSERT. On
PostgreSQL the existing index is renamed and the LIKE one dropped, both instant: rebuilding the
index (what ``AlterField`` then ``AddIndex`` would do) would block provider requests on a large
journal while it ran.
"""

from django.db import migrations, models

# The name Django gave the index of request_id's db_index=True (0001_initial): a hash of the
# table and column, the same on every database these migrations built.
OLD_INDEX = "providers_journalentry_request_id_cac5d051"


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    journal = apps.get_model("providers", "JournalEntry")
    if schema_editor.connection.vendor == "postgresql":
        # No IF EXISTS: a database without the index must stop here, not end up without one.
        schema_editor.execute(f"ALTER INDEX {OLD_INDEX} RENAME TO journal_request")
        schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}_like")
        return
    old = journal._meta.get_field("request_id")
    new = models.CharField("request id", max_length=64)
    new.set_attributes_from_name("request_id")
    schema_editor.alter_field(journal, old, new)
    schema_editor.add_index(journal, models.Index(fields=["request_id"], name="journal_request"))


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    journal = apps.get_model("providers", "JournalEntry")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX journal_request RENAME TO {OLD_INDEX}")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {OLD_INDEX}_like ON providers_journalentry "
            "(request_id varchar_pattern_ops)"
        )
        return
    schema_editor.remove_index(journal, models.Index(fields=["request_id"], name="journal_request"))
    old = journal._meta.get_field("request_id")
    new = models.CharField("request id", max_length=64, db_index=True)
    new.set_attributes_from_name("request_id")
    schema_editor.alter_field(journal, old, new)


class Migration(migrations.Migration):
    dependencies = [("providers", "0002_vp_nonce")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AlterField(
                    model_name="journalentry",
                    name="request_id",
                    field=models.CharField(max_length=64, verbose_name="request id"),
                ),
                migrations.AddIndex(
                    model_name="journalentry",
                    index=models.Index(fields=["request_id"], name="journal_request"),
                ),
            ],
        )
    ]
