"""Give the staff roles of wallet.0003 their operator-card permissions.

All three roles may view cards and their history; Support may also issue and cancel them.
"""

from django.db import migrations

from wallet.migration_helpers import ensure_permissions

VIEW = ("view_operatorcard", "view_cardstatuschange")
ROLES = {
    "Read-only": VIEW,
    "Finance": VIEW,
    "Support": (*VIEW, "issue_operatorcard", "cancel_operatorcard"),
}


def forward(apps, schema_editor):
    using = schema_editor.connection.alias
    ensure_permissions(apps, using, ("operator_cards",))
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group = Group.objects.using(using).get(name=name)
        group.permissions.add(
            *Permission.objects.using(using).filter(
                content_type__app_label="operator_cards", codename__in=codenames
            )
        )


def backward(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    cards = Permission.objects.filter(content_type__app_label="operator_cards")
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*cards)


class Migration(migrations.Migration):
    dependencies = [
        ("operator_cards", "0001_initial"),
        ("wallet", "0003_staff_roles"),
    ]
    operations = [migrations.RunPython(forward, backward)]
