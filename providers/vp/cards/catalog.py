"""VP's card templates (``/v2/items/info``) as typed values, for validating what staff issue."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeGuard

from providers.vp.api_client import VpClient, VpReply
from wallet.money import InvalidAmount, parse_amount

#: ``status`` values VP uses for a template that can be issued [ours: VP's pages only show 1].
_AVAILABLE = {"1", "active", "enabled", "on", "open", "true"}


@dataclass(frozen=True)
class CardTemplate:
    """One card VP offers for one game: its type, rounds, multiplier and allowed bets."""

    game_code: str
    card_type: int
    rounds: int
    item_multiple: Decimal | None
    bets: tuple[Decimal, ...]
    rtp: str
    available: bool

    @property
    def bets_text(self) -> str:
        return ", ".join(plain(b) for b in self.bets)

    @property
    def multiple_text(self) -> str:
        return "" if self.item_multiple is None else plain(self.item_multiple)


def plain(amount: Decimal) -> str:
    """``0.500000`` → ``0.5``; ``10.000000`` → ``10`` (for display only)."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_templates(data: Any) -> list[CardTemplate]:
    """Templates from ``/v2/items/info``'s ``data``; entries that do not parse are skipped."""
    if isinstance(data, dict):  # tolerate {"list": [...]}-style wrappers
        data = next((v for v in data.values() if isinstance(v, list)), [])
    if not isinstance(data, list):
        return []
    templates = [t for t in (_template(entry) for entry in data) if t is not None]
    return sorted(templates, key=lambda t: (t.game_code, t.card_type, t.rounds))


def _template(entry: Any) -> CardTemplate | None:
    if not isinstance(entry, dict):
        return None
    game_code = entry.get("gameCode")
    card_type = entry.get("cardType")
    rounds = entry.get("round")
    if not isinstance(game_code, str) or not game_code:
        return None
    if not _whole(card_type) or not _whole(rounds):
        return None
    assert isinstance(card_type, int) and isinstance(rounds, int)
    bets: list[Decimal] = []
    for value in entry.get("betList") or []:
        try:
            bets.append(parse_amount(value, field="betList", allow_text=True))
        except InvalidAmount:
            continue
    multiple = entry.get("itemMultiple")
    try:
        item_multiple = (
            parse_amount(multiple, field="itemMultiple", allow_text=True)
            if multiple is not None
            else None
        )
    except InvalidAmount:
        item_multiple = None
    return CardTemplate(
        game_code=game_code,
        card_type=card_type,
        rounds=rounds,
        item_multiple=item_multiple,
        bets=tuple(sorted(set(bets))),
        rtp=str(entry.get("rtp", "")),
        available=str(entry.get("status", "")).strip().lower() in _AVAILABLE,
    )


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def fetch_templates(client: VpClient | None = None) -> tuple[list[CardTemplate], VpReply]:
    """Ask VP for its templates; the list is empty when the reply is not OK."""
    reply = (client or VpClient()).items_info()
    return (parse_templates(reply.data) if reply.ok else []), reply
