"""The admin page that credits or debits a wallet by hand: the form, then a confirmation.

UI only: the movement goes through ``wallet.services`` (one transaction with its audit row).
Mounted by ``wallet.admin.WalletAdmin.get_urls`` inside the admin site, so login, staff status
and CSRF apply; the page also checks its own permission (``wallet.adjust_wallet``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from wallet.display import amount_text, signed_amount_text
from wallet.forms import AmountField
from wallet.models import AdjustmentCategory, Wallet
from wallet.money import amount_in_words, currency_places
from wallet.services import StaffActionRefused, request_adjustment
from wallet.services.approvals import approval_rule, needs_approval, proposal_message
from wallet.support_views import WORDS_FROM, ReasonForm

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

PERMISSION = "wallet.adjust_wallet"


class Direction:
    CREDIT = "credit"
    DEBIT = "debit"
    CHOICES = [
        (CREDIT, "Credit: add to the player's balance"),
        (DEBIT, "Debit: take from the player's balance"),
    ]


class AdjustmentForm(ReasonForm):
    field_order = ["direction", "amount", "category", "reason"]
    direction = forms.ChoiceField(
        label="Credit or debit",
        choices=Direction.CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to add to or take from the balance."},
    )
    amount = AmountField(
        label="Amount",
        allow_zero=False,
        help_text=(
            "Digits with one decimal point or comma (12.50 or 12,50); no thousands separators, "
            "no sign: choose credit or debit above."
        ),
    )
    category = forms.ChoiceField(
        label="Category",
        choices=AdjustmentCategory.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the category that says why."},
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["amount"]
        assert isinstance(field, AmountField)
        field.currency = currency
        field.label = f"Amount in {currency}"

    def signed_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        return amount if self.cleaned_data["direction"] == Direction.CREDIT else -amount


def adjust_url(wallet: Wallet) -> str:
    return reverse("admin:wallet_wallet_adjust", args=[wallet.pk])


def _player_url(wallet: Wallet) -> str:
    return reverse("admin:wallet_player_change", args=[wallet.player_id])


def adjustment_view(
    model_admin: ModelAdmin[Wallet], request: HttpRequest, object_id: str
) -> HttpResponse:
    """The form (GET, or POST with errors), its confirmation (POST "preview") and the
    adjustment itself (POST "confirm")."""
    wallet = model_admin.get_object(request, unquote(object_id))
    if wallet is None:
        raise Http404("No such wallet.")
    if not (model_admin.has_view_permission(request, wallet) and request.user.has_perm(PERMISSION)):
        raise PermissionDenied
    form = AdjustmentForm(request.POST or None, currency=wallet.currency)
    valid = request.method == "POST" and form.is_valid()
    if valid and "confirm" in request.POST:
        return _run(request, wallet, form)
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Adjust the balance of {wallet.player.account_id} ({wallet.currency})",
        "wallet": wallet,
        "player_url": _player_url(wallet),
        "balance": amount_text(wallet.balance, wallet.currency),
        "form": form,
        "previewing": valid,
    }
    if valid:
        context.update(_preview(wallet, form))
    return TemplateResponse(request, "admin/wallet/wallet/adjust.html", context)


def _preview(wallet: Wallet, form: AdjustmentForm) -> dict[str, Any]:
    amount = form.signed_amount()
    typed: Decimal = form.cleaned_data["amount"]
    return {
        "change": signed_amount_text(amount, wallet.currency),
        "after": amount_text(wallet.balance + amount, wallet.currency),
        "falls_short": wallet.balance + amount < 0,
        "amount_shown": amount_text(typed, wallet.currency),
        "amount_in_words": amount_in_words(typed, wallet.currency) if typed >= WORDS_FROM else "",
        # Posted back on the confirmation as typed text in the currency's decimals.
        "amount_typed": f"{typed:.{currency_places(wallet.currency)}f}",
        "direction_label": dict(Direction.CHOICES)[form.cleaned_data["direction"]],
        "category_label": AdjustmentCategory(form.cleaned_data["category"]).label,
        "proposing": needs_approval(amount, wallet.currency),
        "approval_rule": approval_rule(wallet.currency),
    }


def _run(request: HttpRequest, wallet: Wallet, form: AdjustmentForm) -> HttpResponse:
    amount = form.signed_amount()
    try:
        done = request_adjustment(
            wallet_id=wallet.pk,
            amount=amount,
            category=form.cleaned_data["category"],
            actor=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data["reason"],
        )
    except StaffActionRefused as refusal:
        messages.error(request, f"Adjustment refused: {refusal}")
        return HttpResponseRedirect(adjust_url(wallet))
    if done.proposal is not None:
        messages.warning(request, proposal_message(done.proposal))
    else:
        was = amount_text(wallet.balance, wallet.currency)
        now = amount_text(done.balance, wallet.currency)
        messages.success(
            request,
            f"Adjustment of {signed_amount_text(amount, wallet.currency)} done for "
            f"{wallet.player.account_id}: balance {was} → {now}. The audit trail records it.",
        )
    return HttpResponseRedirect(_player_url(wallet))
