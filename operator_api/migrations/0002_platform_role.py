"""The "Platform" role of operator API keys: the cashier and lobby of the operator's platform.

It may create players, deposit and withdraw, issue and revoke game sessions, and read players,
wallets, ledger rows and sessions. It has no staff action and no finance export.
"""

from django.db import migrations

from wallet.migration_helpers import ensure_permissions

PLATFORM = (
    "add_player",
    "view_player",
    "view_wallet",
    "add_ledgerentry",
    "view_ledgerentry",
    "add_playersession",
    "change_playersession",
    "view_playersession",
)


def forward(apps, schema_editor):
    using = schema_editor.connection.alias
    ensure_permissions(apps, using, ("wallet",))
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(using).get_or_create(name="Platform")
    group.permissions.add(
        *Permission.objects.using(using).filter(
            content_type__app_label="wallet", codename__in=PLATFORM
        )
    )


def backward(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Platform").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("operator_api", "0001_initial"),
        ("wallet", "0007_ledger_withdrawal_kind"),
    ]
    operations = [migrations.RunPython(forward, backward)]
