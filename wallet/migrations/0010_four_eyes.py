"""Four-eyes: the Proposal model, and the role "Approver".

- Approver: views every wallet table and the journal (as Read-only does), the approvals queue,
  and may approve or reject another person's staff money action (``wallet.approve_proposal``).
  It cannot propose one: that is Support's.
- Support, Finance and Read-only may view the approvals queue.

Reversing it removes the Approver group (not its users) and the Proposal table.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from wallet.migration_helpers import ensure_permissions


VIEWABLE = (
    ("wallet", "player"),
    ("wallet", "wallet"),
    ("wallet", "ledgerentry"),
    ("wallet", "bet"),
    ("wallet", "playersession"),
    ("wallet", "auditentry"),
    ("wallet", "proposal"),
    ("providers", "journalentry"),
)


def forward(apps, schema_editor):
    using = schema_editor.connection.alias
    ensure_permissions(apps, using, ("wallet", "providers"))
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.using(using)
    view = [
        permissions.get(content_type__app_label=app, codename=f"view_{model}")
        for app, model in VIEWABLE
    ]
    approve = permissions.get(content_type__app_label="wallet", codename="approve_proposal")
    approver, _ = Group.objects.using(using).get_or_create(name="Approver")
    approver.permissions.add(*view, approve)
    view_queue = permissions.get(content_type__app_label="wallet", codename="view_proposal")
    for name in ("Support", "Finance", "Read-only"):
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(view_queue)


def backward(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Approver").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('wallet', '0009_staff_adjustments'),
        ('providers', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Proposal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('staff_adjustment', 'Manual adjustment'), ('cancel_and_refund', 'Cancel and refund'), ('resolve_as_settled', 'Resolve as settled')], max_length=32)),
                ('status', models.CharField(choices=[('pending', 'Waiting for approval'), ('applied', 'Approved and applied'), ('rejected', 'Rejected'), ('failed', 'Refused at approval (nothing moved)'), ('expired', 'Expired (never applied)')], default='pending', max_length=16)),
                ('currency', models.CharField(max_length=10)),
                ('amount', models.DecimalField(decimal_places=6, max_digits=20)),
                ('category', models.CharField(blank=True, choices=[('goodwill', 'Goodwill'), ('correction', 'Correction'), ('chargeback', 'Chargeback'), ('other', 'Other')], default='', max_length=16)),
                ('reason', models.TextField()),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('expires_at', models.DateTimeField()),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('decision_reason', models.TextField(blank=True, default='')),
                ('bet', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='wallet.bet')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('player', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='wallet.player')),
                ('proposed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('wallet', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='wallet.wallet')),
            ],
            options={
                'verbose_name': 'approval',
                'verbose_name_plural': 'approvals',
                'permissions': [('approve_proposal', "Can approve or reject another person's staff money action (approver)")],
                'indexes': [models.Index(fields=['status', 'expires_at'], name='proposal_queue')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'pending'), ('bet__isnull', False)), fields=('bet',), name='proposal_one_pending_per_bet')],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
