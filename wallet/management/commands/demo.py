"""Load demo data: staff logins, players with balances and sessions, bets in every state."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from journal.models import JournalEntry
from wallet.models import Bet, BetState, Player, PlayerSession, Provider
from wallet.selectors import stuck_after_minutes
from wallet.services import (
    SettledRoundPolicy,
    bet_cancel,
    bet_open,
    bet_place_and_settle,
    bet_settle,
    player_create,
    session_create,
)

DEMO_ADMIN = ("admin", "admin-demo-password")
# Staff logins for each role (groups created by wallet migrations 0003 and 0010): username,
# password, group. The approver approves what support proposes above FOUR_EYES_THRESHOLD.
DEMO_STAFF = [
    ("support", "support-demo-password", "Support"),
    ("approver", "approver-demo-password", "Approver"),
    ("finance", "finance-demo-password", "Finance"),
    ("readonly", "readonly-demo-password", "Read-only"),
]
DEMO_PLAYERS = [
    ("demo_alice", "USD", Decimal("1000.00")),
    ("demo_bob", "USD", Decimal("250.50")),
    ("demo_chen", "CNY", Decimal("8888.00")),
    ("demo_dana", "MYR", Decimal("40.00")),
]


class Command(BaseCommand):
    help = "Migrate, then load demo players, sessions and bets (for the README's run command)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG or settings.DEMO_KEYS):
            raise CommandError("demo data is for DEBUG or DEMO_KEYS mode only, never production")
        if not options["no_migrate"]:
            call_command("migrate", verbosity=0)
        self._staff()
        for account_id, currency, balance in DEMO_PLAYERS:
            if not Player.objects.filter(account_id=account_id).exists():  # re-runs add nothing
                player_create(account_id=account_id, currency=currency, opening_balance=balance)
        self._bets()
        self._stuck_examples()
        sessions = self._sessions()
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(
            f"Admin: http://127.0.0.1:8000/admin/  login {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}"
        )
        for username, password, group in DEMO_STAFF:
            self.stdout.write(f"{group} role: login {username} / {password}")
        for line in sessions:
            self.stdout.write(line)

    def _staff(self) -> None:
        user_model = get_user_model()
        if not user_model.objects.filter(username=DEMO_ADMIN[0]).exists():
            user_model.objects.create_superuser(DEMO_ADMIN[0], "", DEMO_ADMIN[1])
        for username, password, group_name in DEMO_STAFF:
            if user_model.objects.filter(username=username).exists():
                continue
            user = user_model.objects.create_user(username, "", password, is_staff=True)
            user.groups.add(Group.objects.get(name=group_name))

    def _bets(self) -> None:
        """A spread of bets in every state, made through the wallet services."""
        # Open debits (one old enough to look stuck once thresholds apply).
        for n in range(1, 4):
            bet_open(
                provider="buffalo",
                bet_key=f"demo-debit-{n}",
                tx_id=f"demo-tx-{n}",
                amount=Decimal("5.00") * n,
                round_id=f"demo-round-{n}",
                account_id="demo_alice",
                currency="USD",
            )
        # Settled debit.
        bet_settle(
            provider="buffalo",
            bet_keys=["demo-debit-1"],
            tx_id="demo-credit-1",
            amount=Decimal("12.50"),
            account_id="demo_alice",
            currency="USD",
        )
        # Cancelled debit.
        bet_cancel(
            provider="buffalo",
            bet_keys=["demo-debit-2"],
            tx_id="demo-tx-2",
            account_id="demo_alice",
            currency="USD",
            amount=Decimal("10.00"),
        )
        # Bet-and-settle rounds (JDB, VP), one of them cancelled and kept ("established").
        bet_place_and_settle(
            provider="jdb",
            bet_key="900001",
            tx_id="900001",
            account_id="demo_chen",
            currency="CNY",
            stake=Decimal("8.00"),
            win=Decimal("20.00"),
            round_id="demo-jdb-round",
        )
        bet_place_and_settle(
            provider="vp",
            bet_key="demo-vp-bet-1",
            tx_id="demo-vp-bet-1",
            account_id="demo_bob",
            currency="USD",
            stake=Decimal("2.00"),
            win=Decimal("0"),
            round_id="demo-vp-round",
        )
        bet_cancel(
            provider="vp",
            bet_keys=["demo-vp-bet-1"],
            tx_id="demo-vp-bet-1",
            account_id="demo_bob",
            settled_policy=SettledRoundPolicy.KEEP,
        )
        # Refused for insufficient funds.
        bet_open(
            provider="naga",
            bet_key="demo-naga-big",
            tx_id="demo-naga-tx-big",
            account_id="demo_dana",
            currency="MYR",
            amount=Decimal("500.00"),
        )
        # Tombstone, then its late bet (flagged for review).
        bet_cancel(provider="naga", bet_keys=["demo-naga-late"], account_id="demo_dana")
        bet_open(
            provider="naga",
            bet_key="demo-naga-late",
            tx_id="demo-naga-tx-late",
            account_id="demo_dana",
            currency="MYR",
            amount=Decimal("1.00"),
        )
        # A cancel after payout (flagged).
        bet_cancel(
            provider="buffalo",
            bet_keys=["demo-debit-1"],
            tx_id="demo-tx-1",
            account_id="demo_alice",
            currency="USD",
        )

    def _stuck_examples(self) -> None:
        """At least one bet of each stuck kind, so every support filter shows something at once.

        "Flagged for review" (demo-debit-1, cancelled after its payout) and "bet after its
        cancel" (demo-naga-late) come from ``_bets``. Here: an open bet recorded long enough ago
        to count as open too long, and one whose provider cancel was answered "try again".
        """
        # Recorded before the longest "open too long" limit, so it is stuck from the start;
        # re-runs only move it back again (it is still open: the demo never settles it).
        limit = max(stuck_after_minutes(p.value) for p in Provider)
        Bet.objects.filter(provider="buffalo", bet_key="demo-debit-3", state=BetState.OPEN).update(
            created_at=timezone.now() - timedelta(minutes=limit + 35)
        )
        bet_open(
            provider="buffalo",
            bet_key="demo-debit-retry",
            tx_id="demo-tx-retry",
            amount=Decimal("7.50"),
            round_id="demo-round-retry",
            account_id="demo_bob",
            currency="USD",
        )
        # The provider's cancel met a busy wallet and was told to try again (as the Buffalo
        # adapter journals it); no later cancel closed it, so the bet waits for support.
        JournalEntry.objects.get_or_create(
            request_id="demo-cancel-retry-1",
            defaults={
                "provider": "buffalo",
                "action": "cancel",
                "path": "/providers/buffalo/cancel",
                "bet_key": "demo-debit-retry",
                "account_id": "demo_bob",
                "is_cancel": True,
                "outcome": "busy",
                "http_status": 200,
                "payload": {"transaction_id": "demo-tx-retry", "round_id": "demo-round-retry"},
                "answer": {"code": "TEMPORARY_ERROR", "message": "try again"},
            },
        )

    def _sessions(self) -> list[str]:
        lines = []
        for account_id, provider in (("demo_alice", "buffalo"), ("demo_bob", "naga")):
            session = (
                PlayerSession.objects.filter(
                    player__account_id=account_id, provider=provider, revoked_at=None
                )
                .order_by("-expires_at")
                .first()
            )
            if session is None or session.expires_at.timestamp() < 0:
                session = session_create(
                    account_id=account_id, provider=provider, ttl_seconds=30 * 24 * 3600
                )
            lines.append(f"{provider} session for {account_id}: {session.token}")
        return lines
