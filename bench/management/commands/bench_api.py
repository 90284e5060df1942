"""Benchmark the operator API's bet list on PostgreSQL with a million bets.

The same throwaway database and seed as ``bench_admin`` (bets, ledger and journal rows made by
``generate_series``); the requests go to ``/api/v1/bets/`` with each stuck reason, state and
provider filter, and to a bet's page, with a Read-only API key.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backoffice \\
        .venv/bin/python manage.py bench_api --bets 1000000 --runs 7
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from bench.management.commands import bench_admin


class Command(bench_admin.Command):
    help = "Load a million bets into a throwaway PostgreSQL database and time the API's bet list."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.set_defaults(database_name="bo_bench_api")

    def _client(self, user: Any) -> Client:
        from operator_api.keys import create_api_key
        from operator_api.models import ApiRole

        _, secret = create_api_key(name="bench read-only", role=ApiRole.READ_ONLY)
        return Client(headers={"Authorization": f"Api-Key {secret}"})

    def _pages(self) -> list[tuple[str, str]]:
        from wallet.models import Bet, Player
        from wallet.selectors import StuckReason

        bet = Bet.objects.filter(state="open").order_by("-id").first()
        player = Player.objects.order_by("id").first()
        assert bet is not None and player is not None
        pages = [("bets, no filter", "/api/v1/bets/")]
        for reason in StuckReason:
            pages.append((f"stuck={reason.value}", f"/api/v1/bets/?stuck={reason.value}"))
            for provider in ("jdb", "buffalo"):
                pages.append(
                    (
                        f"stuck={reason.value}&provider={provider}",
                        f"/api/v1/bets/?stuck={reason.value}&provider={provider}",
                    )
                )
        for state in ("open", "settled", "cancelled"):
            pages.append((f"state={state}", f"/api/v1/bets/?state={state}"))
        pages += [
            ("provider=naga", "/api/v1/bets/?provider=naga"),
            ("account_id", f"/api/v1/bets/?account_id={player.account_id}"),
            ("round_id", f"/api/v1/bets/?round_id={bet.round_id}"),
            ("one bet with its history", f"/api/v1/bets/{bet.pk}/"),
            ("journal, newest", "/api/v1/journal/"),
        ]
        return pages
