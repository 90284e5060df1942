"""The only code that moves money or changes a bet's state. See each module's docstring."""

from wallet.db.held_commit import HeldCommit, hold_commit
from wallet.services.adjustments import wallet_staff_adjust
from wallet.services.approvals import (
    ApprovalRefused,
    StaffRequest,
    approve_proposal,
    expire_due_proposals,
    reject_proposal,
    request_adjustment,
    request_bet_cancel,
    request_bet_resolve,
    waiting_proposals,
)
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
    "ApprovalRefused",
    "HeldCommit",
    "InsufficientFunds",
    "Outcome",
    "PlayerExists",
    "SettledRoundPolicy",
    "StaffActionRefused",
    "StaffRequest",
    "WalletResult",
    "approve_proposal",
    "bet_cancel",
    "bet_mark_reviewed",
    "bet_open",
    "bet_place_and_settle",
    "bet_settle",
    "bet_staff_cancel",
    "bet_staff_resolve",
    "expire_due_proposals",
    "hold_commit",
    "player_create",
    "player_register",
    "reject_proposal",
    "request_adjustment",
    "request_bet_cancel",
    "request_bet_resolve",
    "session_create",
    "session_find",
    "session_revoke",
    "session_rotate",
    "waiting_proposals",
    "wallet_balance",
    "wallet_deposit",
    "wallet_staff_adjust",
    "wallet_withdraw",
]
