"""The journal model now belongs to the ``journal`` app: removed from this app's state only.

The table and its rows stay (``journal`` 0001 took the model over with the same table). Its
content type is renamed from ``providers.journalentry`` to ``journal.journalentry`` rather than
recreated, so the permissions that point at it, and the staff groups and users that hold them
(``wallet`` 0003 and 0010), keep working. It runs after those two because on a fresh database
they create the content type under its old label.
"""

from django.db import migrations


def _move(apps, schema_editor, source: str, target: str):  # type: ignore[no-untyped-def]
    using = schema_editor.connection.alias
    content_types = apps.get_model("contenttypes", "ContentType").objects.db_manager(using)
    old = content_types.filter(app_label=source, model="journalentry").first()
    if old is None:
        return
    existing = content_types.filter(app_label=target, model="journalentry").first()
    if existing is not None:
        # Made by a post_migrate run in between: nobody holds its permissions yet, while groups
        # hold the old ones, so the old content type wins.
        apps.get_model("auth", "Permission").objects.using(using).filter(
            content_type=existing
        ).delete()
        existing.delete()
    old.app_label = target
    old.save(update_fields=["app_label"])
    content_types.clear_cache()


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    _move(apps, schema_editor, "providers", "journal")


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    _move(apps, schema_editor, "journal", "providers")


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0003_drop_redundant_indexes"),
        ("journal", "0001_initial"),
        ("wallet", "0003_staff_roles"),
        ("wallet", "0010_four_eyes"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="JournalEntry")],
        ),
        migrations.RunPython(forwards, backwards),
    ]
