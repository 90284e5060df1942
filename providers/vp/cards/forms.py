"""Staff forms: issue a card (checked against VP's templates) and give a reason to cancel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from providers.vp.cards.catalog import CardTemplate, plain
from providers.vp.cards.models import CardType, IssueMethod
from providers.vp.cards.services import (
    SIMPLE_FREE_SPIN_MAX_ROUNDS,
    SIMPLE_FREE_SPIN_MULTIPLES,
    CardResult,
    card_issue,
    player_currency,
)
from wallet.forms import AmountField
from wallet.models import Player

DEFAULT_VALIDITY = timedelta(days=7)


_MONEY_FIELDS = ("bet_amount", "max_win_amount")


class IssueCardForm(forms.Form):
    """One card for one player. Game, card type, rounds and bet must match a template VP
    currently offers (``/v2/items/info``), fetched when the form is shown and again on submit."""

    player = forms.CharField(label="Player account id", max_length=64)
    method = forms.ChoiceField(choices=IssueMethod.choices, initial=IssueMethod.CARD)
    game_code = forms.ChoiceField(label="Game")
    card_type = forms.TypedChoiceField(coerce=int, label="Card type")
    rounds = forms.IntegerField(min_value=1)
    bet_amount = AmountField(label="Bet per spin", required=False)
    free_spin_multiple = forms.IntegerField(
        min_value=1, required=False, help_text="Card type 2; simple free spins: 1, 2, 3 or 5."
    )
    lower_multiple = forms.IntegerField(min_value=1, required=False)
    upper_multiple = forms.IntegerField(min_value=1, required=False)
    max_win_amount = AmountField(
        label="Maximum win", required=False, help_text="Required for operator cards."
    )
    expires_at = forms.DateTimeField(label="Expires (UTC)", help_text="YYYY-MM-DD HH:MM, in UTC.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args: Any, templates: list[CardTemplate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.templates = [t for t in templates if t.available]
        games = sorted({t.game_code for t in self.templates})
        self.fields["game_code"].choices = [(g, g) for g in games]  # type: ignore[attr-defined]
        types = sorted({t.card_type for t in self.templates})
        labels = dict(CardType.choices)
        self.fields["card_type"].choices = [  # type: ignore[attr-defined]
            (t, labels.get(t, str(t))) for t in types
        ]
        self.fields["expires_at"].initial = (timezone.now() + DEFAULT_VALIDITY).replace(
            second=0, microsecond=0
        )

    def issue(self, actor: Any) -> CardResult:
        """Issue the card this valid form describes (the admin page and the operator API)."""
        data = self.cleaned_data
        return card_issue(
            player=data["player"],
            game_code=data["game_code"],
            card_type=data["card_type"],
            rounds=data["rounds"],
            expires_at=data["expires_at"],
            method=data["method"],
            bet_amount=data.get("bet_amount"),
            free_spin_multiple=data.get("free_spin_multiple"),
            lower_multiple=data.get("lower_multiple"),
            upper_multiple=data.get("upper_multiple"),
            max_win_amount=data.get("max_win_amount"),
            actor=actor,
            reason=data["reason"],
        )

    def clean_player(self) -> Player:
        account_id = self.cleaned_data["player"].strip()
        player = Player.objects.filter(account_id=account_id).first()
        if player is None:
            raise forms.ValidationError(f"No player {account_id!r}.")
        if player.status == Player.Status.BLOCKED:
            raise forms.ValidationError(f"{account_id} is blocked: no new cards.")
        # The amounts below are typed in the player's currency; they are cleaned after this.
        currency = player_currency(player)
        for name in _MONEY_FIELDS:
            field = self.fields[name]
            assert isinstance(field, AmountField)
            field.currency = currency
        return player

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data["expires_at"]
        if expires_at <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.")
        return expires_at

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        game, card_type = data.get("game_code"), data.get("card_type")
        if game is None or card_type is None or data.get("rounds") is None:
            return data
        offered = [t for t in self.templates if t.game_code == game and t.card_type == card_type]
        if not offered:
            self.add_error("card_type", f"VP offers no card of type {card_type} for {game}.")
            return data
        if data.get("method") == IssueMethod.SIMPLE_FREE_SPIN:
            self._clean_simple(data)
        else:
            self._clean_card(data, offered)
        self._clean_bet(data, offered)
        return data

    def _clean_card(self, data: dict[str, Any], offered: list[CardTemplate]) -> None:
        rounds_offered = sorted({t.rounds for t in offered})
        if data["rounds"] not in rounds_offered:
            listed = ", ".join(str(r) for r in rounds_offered)
            self.add_error("rounds", f"VP offers this card with {listed} round(s) only.")
        if data.get("max_win_amount") is None:
            self.add_error("max_win_amount", "Operator cards need a maximum win.")

    def _clean_simple(self, data: dict[str, Any]) -> None:
        if data["card_type"] not in (CardType.FREE_SPIN, CardType.FREE_SPIN_MULTIPLIER):
            self.add_error("card_type", "Simple free spins are card type 1 or 2 only.")
        if data["rounds"] > SIMPLE_FREE_SPIN_MAX_ROUNDS:
            self.add_error("rounds", f"At most {SIMPLE_FREE_SPIN_MAX_ROUNDS} simple free spins.")
        multiple = data.get("free_spin_multiple")
        if multiple is not None and multiple not in SIMPLE_FREE_SPIN_MULTIPLES:
            self.add_error("free_spin_multiple", "Must be 1, 2, 3 or 5.")

    def _clean_bet(self, data: dict[str, Any], offered: list[CardTemplate]) -> None:
        bets = sorted({b for t in offered for b in t.bets})
        bet = data.get("bet_amount")
        if not bets:
            return  # VP lists no bets for this card: it sets the bet itself
        if bet is None:
            self.add_error("bet_amount", "Choose a bet from the game's bet list.")
        elif bet not in bets:
            listed = ", ".join(plain(b) for b in bets)
            self.add_error("bet_amount", f"Not in the game's bet list ({listed}).")


class CancelReasonForm(forms.Form):
    """The required reason of a cancel, shown on the confirmation page."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="Why the card(s) must be cancelled. Kept in each card's history.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A reason is required.")
        return reason
