"""Manual adjustments: the permission ``wallet.adjust_wallet``, given to the Support role.

Reversing it takes the permission back from Support (the permission row itself is Django's).
"""

from django.db import migrations

from wallet.migration_helpers import ensure_permissions


def forward(apps, schema_editor):
    using = schema_editor.connection.alias
    ensure_permissions(apps, using, ("wallet",))
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(using).get_or_create(name="Support")
    group.permissions.add(
        Permission.objects.using(using).get(
            content_type__app_label="wallet", codename="adjust_wallet"
        )
    )


def backward(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Support"):
        group.permissions.remove(*group.permissions.filter(codename="adjust_wallet"))


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0008_ledger_first_close_index"),
        ("wallet", "0003_staff_roles"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="wallet",
            options={
                "permissions": [
                    (
                        "adjust_wallet",
                        "Can credit or debit a wallet by hand, with a reason (support)",
                    )
                ]
            },
        ),
        migrations.RunPython(forward, backward),
    ]
