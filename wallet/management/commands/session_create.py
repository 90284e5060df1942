from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wallet.models import Player, Provider, Wallet
from wallet.services import session_create


class Command(BaseCommand):
    help = "Issue a game-session token (Naga playerToken, Buffalo sid) and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id")
        parser.add_argument("--provider", required=True, choices=Provider.values)
        parser.add_argument("--currency", default=None)
        parser.add_argument("--ttl", type=int, default=None, help="seconds (default from settings)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            session = session_create(
                account_id=options["account_id"],
                provider=options["provider"],
                currency=options["currency"],
                ttl_seconds=options["ttl"],
            )
        except (Player.DoesNotExist, Wallet.DoesNotExist) as exc:
            raise CommandError(str(exc) or "unknown player") from exc
        self.stdout.write(session.token)
