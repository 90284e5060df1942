"""Two foreign-key indexes that a composite index already covers (same leading column): every
bet cancel and every ledger INSERT paid for them. Dropping an index is instant."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0005_support_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="bet",
            name="player",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="bets",
                to="wallet.player",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="wallet",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="wallet.wallet",
            ),
        ),
    ]
