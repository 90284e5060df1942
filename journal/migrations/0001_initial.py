"""The journal model moves here from ``providers``; its table and rows stay where they are.

State only: the table ``providers_journalentry`` was created by ``providers`` 0001 and keeps its
name (``Meta.db_table``), so nothing is copied or locked. ``providers`` 0004 removes the model
from that app's state and moves its content type, with the permissions staff groups hold.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("providers", "0003_drop_redundant_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="JournalEntry",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("direction", models.CharField(choices=[("in", "Provider called us"), ("out", "We called the provider")], default="in", max_length=3)),
                        ("provider", models.CharField(max_length=16)),
                        ("action", models.CharField(blank=True, default="", max_length=64)),
                        ("path", models.CharField(blank=True, default="", max_length=255)),
                        ("request_id", models.CharField(max_length=64, verbose_name="request id")),
                        ("client_ip", models.GenericIPAddressField(blank=True, null=True, verbose_name="client IP")),
                        ("headers", models.JSONField(blank=True, default=dict)),
                        ("payload", models.JSONField(blank=True, help_text="The request as we understood it.", null=True, verbose_name="decrypted payload")),
                        ("body_bytes", models.PositiveIntegerField(default=0)),
                        ("answer", models.JSONField(blank=True, null=True)),
                        ("http_status", models.PositiveSmallIntegerField(default=200)),
                        ("latency_us", models.PositiveIntegerField(default=0, verbose_name="latency (µs)")),
                        ("outcome", models.CharField(blank=True, default="", max_length=32)),
                        ("error", models.TextField(blank=True, default="")),
                        ("bet_key", models.CharField(blank=True, default="", max_length=128, verbose_name="bet key")),
                        ("account_id", models.CharField(blank=True, default="", max_length=64, verbose_name="player")),
                        ("is_cancel", models.BooleanField(default=False)),
                        ("signature_form", models.CharField(blank=True, default="", max_length=32)),
                    ],
                    options={
                        "verbose_name": "journaled request",
                        "verbose_name_plural": "request journal",
                        "db_table": "providers_journalentry",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(fields=["provider", "created_at"], name="journal_provider_time"),
                            models.Index(fields=["created_at"], name="journal_time"),
                            models.Index(fields=["provider", "bet_key"], name="journal_bet"),
                            models.Index(fields=["account_id", "created_at"], name="journal_player"),
                            models.Index(fields=["request_id"], name="journal_request"),
                            models.Index(condition=models.Q(("outcome", "auth_failed")), fields=["provider", "created_at"], name="journal_auth_failures"),
                            models.Index(condition=models.Q(("is_cancel", True), ("outcome__in", ["busy", "error"])), fields=["provider", "bet_key"], name="journal_cancel_retry"),
                        ],
                    },
                ),
            ],
        ),
    ]
