import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wallet.models import Wallet
from wallet.money import InvalidAmount, parse_amount
from wallet.services import player_create


class Command(BaseCommand):
    help = "Create a player with a wallet (the opening balance is a deposit ledger row)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id")
        parser.add_argument("--currency", required=True)
        parser.add_argument("--balance", default="0", help="opening balance, e.g. 1000.00")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            balance = parse_amount(options["balance"], field="--balance", allow_text=True)
        except InvalidAmount as exc:
            raise CommandError(str(exc)) from exc
        player = player_create(
            account_id=options["account_id"],
            currency=options["currency"],
            opening_balance=balance,
        )
        wallets = Wallet.objects.filter(player=player).order_by("currency")
        self.stdout.write(
            json.dumps(
                {
                    "account_id": player.account_id,
                    "status": player.status,
                    "wallets": [
                        {"currency": w.currency, "balance": str(w.balance)} for w in wallets
                    ],
                }
            )
        )
