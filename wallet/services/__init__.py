"""The only code that moves money or changes a bet's state. See each module's docstring."""

from wallet.db.held_commit import HeldCommit, hold_commit
from wallet.services.adjustments import wallet_staff_adjust
from wallet.services.bets import (
    bet_cancel,
    bet_open,
    bet_place_and_settle,
    bet_settle,
    wallet_balance,
)
from wallet.services.outcomes import Outcome, SettledRoundPolicy, WalletResult
from wallet.services.players import (
    InsufficientFunds,
    PlayerExists,
    player_create,
    player_register,
    session_create,
    session_find,
    session_revoke,
    session_rotate,
    wallet_deposit,
    wallet_withdraw,
)
from wallet.services.staff import (
    StaffActionRefused,
    bet_mark_reviewed,
    bet_staff_cancel,
    bet_staff_resolve,
)

__all__ = [
    "HeldCommit",
    "InsufficientFunds",
    "Outcome",
    "PlayerExists",
    "SettledRoundPolicy",
    "StaffActionRefused",
    "WalletResult",
    "bet_cancel",
    "bet_mark_reviewed",
    "bet_open",
    "bet_place_and_settle",
    "bet_settle",
    "bet_staff_cancel",
    "bet_staff_resolve",
    "hold_commit",
    "player_create",
    "player_register",
    "session_create",
    "session_find",
    "session_revoke",
    "session_rotate",
    "wallet_balance",
    "wallet_deposit",
    "wallet_staff_adjust",
    "wallet_withdraw",
]
