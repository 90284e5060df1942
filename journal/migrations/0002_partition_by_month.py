"""On PostgreSQL the journal becomes a table partitioned by month of ``created_at``.

The conversion (``journal/conversion.py``) copies the rows into the partitioned table while
providers keep writing, and holds an exclusive lock only for the final rename; it creates the
months from the oldest row's to three months ahead, and a DEFAULT partition. SQLite keeps one
table: nothing happens there.

Not atomic: each step commits on its own, so that the copy never holds a lock for long.
Reversing it leaves the table partitioned (the model is the same either way); applying it again
finds the table partitioned and does nothing.
"""

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    from journal.conversion import convert

    convert(schema_editor.connection, timezone.now().date())


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("journal", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
