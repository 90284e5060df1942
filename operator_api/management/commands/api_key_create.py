"""``manage.py api_key_create NAME --role ROLE [--expires-days N]``: print a new API key once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from operator_api.keys import KeyRequestError, create_api_key
from operator_api.models import ApiRole


class Command(BaseCommand):
    help = (
        "Create an operator API key for a client (its platform, a BI tool...). The key is "
        "printed alone on the last line, once: only its hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who the key is for, for example 'cashier'.")
        parser.add_argument(
            "--role",
            required=True,
            choices=[role.value for role in ApiRole],
            help="platform: players, money, sessions; support, finance, read-only: the "
            "admin's roles.",
        )
        parser.add_argument("--expires-days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            key, secret = create_api_key(
                name=options["name"],
                role=ApiRole(options["role"]),
                expires_days=options["expires_days"],
            )
        except KeyRequestError as exc:
            raise CommandError(str(exc)) from exc
        expiry = f"{key.expiry_date:%Y-%m-%d %H:%M:%S %Z}" if key.expiry_date else "never"
        self.stdout.write(
            f"API key {key.prefix} for {key.name!r}, role {key.role}, acting as "
            f"{key.owner.get_username()}, expires {expiry}. Shown once; store it now:"
        )
        self.stdout.write(secret)
