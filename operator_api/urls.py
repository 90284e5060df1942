"""``/api/v1/``: the operator API (docs/operator-api.md)."""

from django.urls import path

from operator_api.views.bets import (
    BetCancelView,
    BetDetailView,
    BetListView,
    BetResolveView,
    BetReviewView,
)
from operator_api.views.cards import CardCancelView, CardListView
from operator_api.views.journal import JournalListView
from operator_api.views.players import (
    AdjustmentView,
    DepositView,
    PlayerBalanceView,
    PlayerDetailView,
    PlayerLedgerView,
    PlayerListView,
    WithdrawalView,
)
from operator_api.views.proposals import (
    ProposalApproveView,
    ProposalListView,
    ProposalRejectView,
)
from operator_api.views.reconciliation import SummaryView, TransactionsView
from operator_api.views.schema import DocsView, SchemaView
from operator_api.views.sessions import SessionDetailView, SessionListView

app_name = "operator_api"

urlpatterns = [
    path("players/", PlayerListView.as_view(), name="players"),
    path("players/<str:account_id>/", PlayerDetailView.as_view(), name="player"),
    path("players/<str:account_id>/deposits/", DepositView.as_view(), name="deposits"),
    path("players/<str:account_id>/withdrawals/", WithdrawalView.as_view(), name="withdrawals"),
    path("players/<str:account_id>/adjustments/", AdjustmentView.as_view(), name="adjustments"),
    path("players/<str:account_id>/balance/", PlayerBalanceView.as_view(), name="balance"),
    path("players/<str:account_id>/ledger/", PlayerLedgerView.as_view(), name="ledger"),
    path("sessions/", SessionListView.as_view(), name="sessions"),
    path("sessions/<str:token>/", SessionDetailView.as_view(), name="session"),
    path("bets/", BetListView.as_view(), name="bets"),
    path("bets/<int:pk>/", BetDetailView.as_view(), name="bet"),
    path("bets/<int:pk>/cancel/", BetCancelView.as_view(), name="bet-cancel"),
    path("bets/<int:pk>/resolve/", BetResolveView.as_view(), name="bet-resolve"),
    path("bets/<int:pk>/review/", BetReviewView.as_view(), name="bet-review"),
    path("proposals/", ProposalListView.as_view(), name="proposals"),
    path("proposals/<int:pk>/approve/", ProposalApproveView.as_view(), name="proposal-approve"),
    path("proposals/<int:pk>/reject/", ProposalRejectView.as_view(), name="proposal-reject"),
    path("journal/", JournalListView.as_view(), name="journal"),
    path("operator-cards/", CardListView.as_view(), name="cards"),
    path("operator-cards/<int:pk>/cancel/", CardCancelView.as_view(), name="card-cancel"),
    path(
        "reconciliation/transactions/",
        TransactionsView.as_view(),
        name="reconciliation-transactions",
    ),
    path("reconciliation/summary/", SummaryView.as_view(), name="reconciliation-summary"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="operator_api:schema"), name="docs"),
]
