"""Resend the cancels of cards left "cancel pending" (VP was unreachable or did not answer).

Meant for cron, e.g. every 5 minutes. A card being sent by someone else right now is skipped
(its claim has not run out). Exits 1 when some cancels are still pending after the run, so that
cron's mail or the scheduler's alerting shows a VP outage that lasts.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from providers.vp.cards.models import CardStatus, OperatorCard
from providers.vp.cards.services import CardAction, cards_retry_cancels


class Command(BaseCommand):
    help = "Resend VP cancels of operator cards that are still 'cancel pending'."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="at most this many cards")

    def handle(self, *args: Any, **options: Any) -> None:
        results = cards_retry_cancels(limit=options["limit"])
        counts: dict[str, int] = {}
        for result in results:
            counts[result.action.value] = counts.get(result.action.value, 0) + 1
            style = self.style.SUCCESS if result.level == "success" else self.style.WARNING
            self.stdout.write(style(result.message))
        still = OperatorCard.objects.filter(status=CardStatus.CANCEL_PENDING).count()
        summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "nothing"
        self.stdout.write(f"retried {len(results)}: {summary}; {still} still cancel pending")
        if still and any(r.action == CardAction.CANCEL_PENDING for r in results):
            raise SystemExit(1)
