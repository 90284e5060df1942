"""Staff roles as groups: "Support", "Finance" and "Read-only".

- Read-only: view every wallet table and the request journal.
- Support: the same, plus cancel and refund, resolve as settled, mark reviewed.
- Finance: the same views, plus the reconciliation exports.

Permissions are created by Django after all migrations (post_migrate); on a fresh database they
do not exist yet here, so this migration creates the ones it needs first. Reversing it removes
the three groups (not the users in them).
"""

from django.db import migrations

from wallet.migration_helpers import ensure_permissions

VIEWABLE_MODELS = (
    ("wallet", "player"),
    ("wallet", "wallet"),
    ("wallet", "ledgerentry"),
    ("wallet", "bet"),
    ("wallet", "playersession"),
    ("wallet", "auditentry"),
    ("providers", "journalentry"),
)

ROLES = {
    "Read-only": (),
    "Support": ("cancel_bet", "resolve_bet", "review_bet"),
    "Finance": ("export_reconciliation",),
}


def forward(apps, schema_editor):
    using = schema_editor.connection.alias
    ensure_permissions(apps, using, ("wallet", "providers"))
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = [
        Permission.objects.using(using).get(content_type__app_label=app, codename=f"view_{model}")
        for app, model in VIEWABLE_MODELS
    ]
    for name, extra_codenames in ROLES.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        extra = [
            Permission.objects.using(using).get(content_type__app_label="wallet", codename=codename)
            for codename in extra_codenames
        ]
        group.permissions.add(*view, *extra)


def backward(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0002_ledger_append_only"),
        ("providers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forward, backward)]
