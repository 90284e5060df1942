"""Players, their wallets and ledger, and cashier deposits and withdrawals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import OperationalError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from operator_api.base import OperatorApiView
from operator_api.fields import amount_text, parse_amount_field
from operator_api.idempotency import Answer, respond_once
from operator_api.pagination import NewestFirst
from operator_api.serializers import (
    AdjustmentIn,
    BalanceAtOut,
    BalanceQuery,
    LedgerEntryOut,
    LedgerQuery,
    MovementIn,
    MovementOut,
    PlayerCreateIn,
    PlayerOut,
)
from operator_api.views.bets import PROPOSED, BusyNow, proposed
from wallet.balances import balances_as_of
from wallet.models import LedgerEntry, Player, Wallet
from wallet.services import (
    InsufficientFunds,
    PlayerExists,
    StaffActionRefused,
    player_register,
    request_adjustment,
    wallet_deposit,
    wallet_withdraw,
)

CONFLICT = OpenApiResponse(description="Refused; nothing changed: `detail` says why.")


def _player(account_id: str) -> Player:
    return get_object_or_404(Player.objects.prefetch_related("wallets"), account_id=account_id)


class PlayerListView(OperatorApiView):
    required_permissions = {"POST": ("wallet.add_player", "wallet.add_ledgerentry")}
    serializer_class = PlayerCreateIn

    @extend_schema(
        request=PlayerCreateIn,
        responses={201: PlayerOut, 400: None, 409: CONFLICT},
        summary="Create a player with one wallet (and an opening balance)",
    )
    def post(self, request: Request) -> Response:
        body = PlayerCreateIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        opening = parse_amount_field(data, "opening_balance", data["currency"], positive=False)

        def create() -> Answer:
            try:
                player = player_register(
                    account_id=data["account_id"],
                    currency=data["currency"],
                    opening_balance=opening or Decimal(0),
                    staff_user_id=request.user.pk,
                )
            except PlayerExists as exc:
                return Answer(status.HTTP_409_CONFLICT, {"detail": str(exc), "code": "exists"})
            return Answer(status.HTTP_201_CREATED, PlayerOut(_player(player.account_id)).data)

        return respond_once(request, create)


class PlayerDetailView(OperatorApiView):
    required_permissions = {"GET": ("wallet.view_player", "wallet.view_wallet")}
    serializer_class = PlayerOut

    @extend_schema(responses={200: PlayerOut, 404: None}, summary="A player and each balance")
    def get(self, request: Request, account_id: str) -> Response:
        return Response(PlayerOut(_player(account_id)).data)


def _wallet_of(player: Player, currency: str) -> Wallet:
    wallet = next((w for w in player.wallets.all() if w.currency == currency), None)
    if wallet is None:
        held = ", ".join(sorted(w.currency for w in player.wallets.all())) or "none"
        raise ValidationError(
            {"currency": [f"{player.account_id} has no {currency} wallet (wallets: {held})."]}
        )
    return wallet


class _MovementView(OperatorApiView):
    required_permissions = {"POST": ("wallet.add_ledgerentry",)}
    serializer_class = MovementIn
    default_reason = ""

    def move(self, wallet: Wallet, amount: Decimal, reason: str, user_id: int) -> Decimal:
        raise NotImplementedError

    def post(self, request: Request, account_id: str) -> Response:
        body = MovementIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        player = _player(account_id)
        wallet = _wallet_of(player, data["currency"])
        amount = parse_amount_field(data, "amount", wallet.currency)
        assert amount is not None
        reason = data.get("reference") or self.default_reason

        def move() -> Answer:
            try:
                balance = self.move(wallet, amount, reason, request.user.pk)
            except InsufficientFunds as exc:
                return Answer(
                    status.HTTP_409_CONFLICT, {"detail": str(exc), "code": "insufficient_funds"}
                )
            return _moved(wallet, balance)

        return respond_once(request, move, required=True)


class DepositView(_MovementView):
    default_reason = "deposit (operator API)"

    @extend_schema(
        request=MovementIn,
        responses={201: MovementOut, 400: None, 404: None, 409: CONFLICT},
        summary="Deposit into a player's wallet (Idempotency-Key required)",
    )
    def post(self, request: Request, account_id: str) -> Response:
        return super().post(request, account_id)

    def move(self, wallet: Wallet, amount: Decimal, reason: str, user_id: int) -> Decimal:
        return wallet_deposit(
            wallet_id=wallet.pk, amount=amount, reason=reason, staff_user_id=user_id
        )


class WithdrawalView(_MovementView):
    default_reason = "withdrawal (operator API)"

    @extend_schema(
        request=MovementIn,
        responses={201: MovementOut, 400: None, 404: None, 409: CONFLICT},
        summary="Withdraw from a player's wallet (Idempotency-Key required)",
    )
    def post(self, request: Request, account_id: str) -> Response:
        return super().post(request, account_id)

    def move(self, wallet: Wallet, amount: Decimal, reason: str, user_id: int) -> Decimal:
        return wallet_withdraw(
            wallet_id=wallet.pk, amount=amount, reason=reason, staff_user_id=user_id
        )


class AdjustmentView(OperatorApiView):
    """The admin's manual adjustment: a credit or debit by staff, with a category and a
    reason, written as a ``staff_adjustment`` ledger row; above the four-eyes limit, a
    proposal (202) that waits for an approver."""

    required_permissions = {"POST": ("wallet.adjust_wallet",)}
    serializer_class = AdjustmentIn

    @extend_schema(
        request=AdjustmentIn,
        responses={201: MovementOut, 202: PROPOSED, 400: None, 404: None, 409: CONFLICT},
        summary="Credit or debit a wallet by hand (staff adjustment; Idempotency-Key required)",
    )
    def post(self, request: Request, account_id: str) -> Response:
        body = AdjustmentIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        wallet = _wallet_of(_player(account_id), data["currency"])
        amount = parse_amount_field(data, "amount", wallet.currency)
        assert amount is not None
        signed = amount if data["direction"] == "credit" else -amount

        def adjust() -> Answer:
            try:
                done = request_adjustment(
                    wallet_id=wallet.pk,
                    amount=signed,
                    category=data["category"],
                    actor=request.user,
                    reason=data["reason"],
                )
            except StaffActionRefused as exc:
                if isinstance(exc.__cause__, OperationalError):
                    raise BusyNow(str(exc)) from exc
                return Answer(status.HTTP_409_CONFLICT, {"detail": str(exc), "code": "refused"})
            if done.proposal is not None:
                return proposed(done.proposal)
            assert done.balance is not None
            return _moved(wallet, done.balance)

        return respond_once(request, adjust, required=True)


def _moved(wallet: Wallet, balance: Decimal) -> Answer:
    entry = _ledger_rows().filter(wallet=wallet).latest("id")
    return Answer(
        status.HTTP_201_CREATED,
        {"entry": LedgerEntryOut(entry).data, "balance": amount_text(balance, wallet.currency)},
    )


def _ledger_rows() -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.select_related("wallet", "staff_user")


class PlayerBalanceView(OperatorApiView):
    """Each wallet's balance at an instant, from the ledger's balance after (wallet.balances)."""

    required_permissions = {"GET": ("wallet.view_wallet", "wallet.view_ledgerentry")}
    serializer_class = BalanceAtOut

    @extend_schema(
        parameters=[BalanceQuery],
        responses={200: BalanceAtOut, 400: None, 404: None},
        summary="A player's balance in each wallet at an instant (?at=2026-12-31T23:59:59Z)",
    )
    def get(self, request: Request, account_id: str) -> Response:
        query = BalanceQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted: dict[str, Any] = query.validated_data
        player = _player(account_id)
        wallets = sorted(player.wallets.all(), key=lambda w: w.currency)
        if "currency" in wanted:
            wallets = [_wallet_of(player, wanted["currency"])]
        rows = balances_as_of(wallets, wanted["at"])
        return Response(
            {
                "account_id": player.account_id,
                "at": wanted["at"],
                "wallets": [
                    {
                        "currency": row.wallet.currency,
                        "balance": amount_text(row.balance, row.wallet.currency),
                        "entry_id": row.entry_id,
                        "entry_at": row.entry_at,
                    }
                    for row in rows
                ],
            }
        )


class PlayerLedgerView(OperatorApiView):
    required_permissions = {"GET": ("wallet.view_ledgerentry",)}
    serializer_class = LedgerEntryOut
    pagination_class = NewestFirst

    @extend_schema(
        parameters=[LedgerQuery],
        responses={200: LedgerEntryOut(many=True), 400: None, 404: None},
        summary="A wallet's ledger rows, newest first",
    )
    def get(self, request: Request, account_id: str) -> Response:
        query = LedgerQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted: dict[str, Any] = query.validated_data
        player = _player(account_id)
        wallets = list(player.wallets.all())
        if "currency" in wanted:
            wallets = [_wallet_of(player, wanted["currency"])]
        elif len(wallets) > 1:
            held = ", ".join(sorted(w.currency for w in wallets))
            raise ValidationError(
                {"currency": [f"{account_id} has several wallets ({held}): choose one."]}
            )
        rows = _ledger_rows().filter(wallet__in=wallets)
        if "since" in wanted:
            rows = rows.filter(created_at__gte=wanted["since"])
        if "until" in wanted:
            rows = rows.filter(created_at__lt=wanted["until"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(LedgerEntryOut(page, many=True).data)
