"""Bring operator cards' use, wins and status (in use, completed, expired) up to date from
VP's bets. Safe to run as often as wanted (cron, e.g. every 10 minutes)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from providers.vp.cards.services import card_refresh_usage


class Command(BaseCommand):
    help = "Refresh operator cards' use and wins from VP's bets; mark expired cards."

    def handle(self, *args: Any, **options: Any) -> None:
        changed = card_refresh_usage()
        self.stdout.write(f"{changed} card(s) changed status")
