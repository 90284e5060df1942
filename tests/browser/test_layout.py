"""Every admin list and a detail page of each fit a 1366x768 laptop, for each staff role.

A page fails when the document scrolls sideways (scrollWidth > clientWidth) or when any visible
table is wider than the element holding it (Django's list scrolls inside its own box, which the
document's width alone would not show). The data are the demo's plus rows with the longest
keys, ids and texts the columns allow, so that wrapping is tested where it matters.
"""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from journal.models import JournalEntry
from providers.vp.cards.models import CardStatusChange, OperatorCard
from tests.browser.conftest import ensure_all_roles, log_in
from wallet.models import Bet, Player, StaffLoginFailure
from wallet.services import bet_open, bet_staff_cancel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "layout-password-123"
ROLES = ("superuser", "Support", "Finance", "Read-only")
LONG_KEY = "bet-" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" * 2
LONG_KEY = LONG_KEY[:128]

OVERFLOW_JS = """
() => {
  const doc = document.documentElement;
  const found = [];
  if (doc.scrollWidth > doc.clientWidth) {
    // The element reaching furthest right says what widens the page.
    let widest = null;
    for (const el of document.body.querySelectorAll('*')) {
      const right = el.getBoundingClientRect().right;
      if (right > doc.clientWidth && (!widest || right > widest[1])) widest = [el, right];
    }
    const what = widest ? `${widest[0].tagName}.${widest[0].className}#${widest[0].id}` : '?';
    found.push(`page ${doc.scrollWidth}px in ${doc.clientWidth}px (${what})`);
  }
  for (const table of document.querySelectorAll('table')) {
    if (!table.offsetParent) continue;  // not shown (inside a closed <details>)
    const room = table.parentElement.clientWidth;
    if (table.offsetWidth > room + 1) {
      const name = table.id || table.className || table.parentElement.className || 'table';
      // The widest cells of the first row say which column to look at.
      const row = table.querySelector('tbody tr') || table.querySelector('tr');
      const cell = c => `${c.className || c.tagName}:${c.offsetWidth}`;
      const cells = row ? [...row.children].map(cell) : [];
      found.push(`${name} ${table.offsetWidth}px in ${room}px [${cells.join(' ')}]`);
    }
  }
  return found;
}
"""
WIDTH_JS = """
() => {
  const t = document.querySelector('#result_list');
  return t ? [t.offsetWidth, t.parentElement.clientWidth] : null;
}
"""


def long_rows() -> None:
    """Rows with the longest values the columns hold: what makes a list too wide."""
    player = Player.objects.get(account_id="demo_alice")
    result = bet_open(
        provider="jdb",
        bet_key=LONG_KEY,
        tx_id="tx-" + "7" * 120,
        account_id="demo_alice",
        currency="USD",
        amount=Decimal("123.45"),
        round_id="round-" + "r" * 120,
    )
    assert result.bet is not None
    Bet.objects.filter(pk=result.bet.pk).update(
        needs_review=True, review_reason="The provider sent another amount " * 6
    )
    staff = get_user_model().objects.get(username="support")
    bet_staff_cancel(
        bet_id=result.bet.pk, actor=staff, reason="Ticket JDB-2026-0042: " + "checked " * 40
    )
    JournalEntry.objects.create(
        provider="jdb",
        action="4 Cancel BetNSettle",
        path="/providers/jdb/" + "p" * 200,
        request_id="r" * 64,
        client_ip="2001:db8:85a3:0:0:8a2e:370:7334",
        bet_key=LONG_KEY,
        account_id="a" * 64,
        outcome="replay:insufficient_funds",
        error="Traceback: " + "ValueError('x') " * 40,
        payload={"k": "v" * 400},
        answer={"status": "9017", "err_text": "e" * 300},
    )
    card = OperatorCard.objects.create(
        spin_id="OC" + "9" * 62,
        vp_item_id="i" * 128,
        player=player,
        currency="USD",
        game_code="g" * 64,
        card_type=2,
        rounds=50,
        bet_amount=Decimal("0.5"),
        max_win_amount=Decimal("100"),
        expires_at=timezone.now() + timedelta(days=7),
        status="issued",
        last_message="unreachable: ConnectionError(" + "x" * 400 + ")",
        issue_reason="Apology for ticket " + "1234567890" * 10,
    )
    CardStatusChange.objects.create(
        card=card,
        from_status="pending",
        to_status="issued",
        reason="VP accepted the card " * 10,
        vp_log_uuid="u" * 64,
    )
    StaffLoginFailure.objects.create(
        username="u" * 150, client_ip="2001:db8:85a3:0:0:8a2e:370:7334"
    )


@pytest.fixture
def data(settings: Any) -> None:
    settings.DEMO_KEYS = True
    ensure_all_roles()
    call_command("demo", "--no-migrate", verbosity=0, stdout=io.StringIO())
    long_rows()


def make_user(role: str) -> str:
    username = f"layout_{role.lower().replace('-', '')}"
    users = get_user_model().objects
    if role == "superuser":
        users.create_superuser(username, "", PASSWORD)
    else:
        user = users.create_user(username, "", PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
    return username


def pages_for(username: str) -> list[str]:
    """The dashboard, every list this user may open, the first row's page of each, and the
    extra pages (finance, player lookup) of the role."""
    user = get_user_model().objects.get(username=username)
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            continue
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        ordering = model_admin.get_ordering(None) or ("-pk",)  # type: ignore[arg-type]
        # The longest row if there is one: the page most likely to be too wide.
        row = model.objects.order_by(*ordering).last() or model.objects.first()
        if row is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
    long_bet = Bet.objects.get(bet_key=LONG_KEY)
    urls.append(reverse("admin:wallet_bet_change", args=[long_bet.pk]))
    urls.append(reverse("admin:wallet_bet_changelist") + "?stuck=needs_review")
    if user.has_perm("wallet.view_player"):
        urls.append(reverse("admin:support_player_lookup") + "?account_id=demo")
    if user.has_perm("wallet.export_reconciliation"):
        urls += [reverse(f"admin:{name}") for name in ("finance_summary", "finance_export")]
    if user.has_perm("wallet.resolve_bet"):
        open_bet = Bet.objects.filter(state="open").order_by("pk").first()
        assert open_bet is not None
        urls.append(reverse("admin:wallet_bet_resolve", args=[open_bet.pk]))
    return urls


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_page_fits_a_laptop_screen(laptop_page, data, role: str) -> None:
    username = make_user(role)
    log_in(laptop_page, username, PASSWORD)
    problems: dict[str, list[str]] = {}
    widths: dict[str, list[int]] = {}
    urls = pages_for(username)
    assert len(urls) >= 8, urls
    for url in urls:
        response = laptop_page.goto(url)
        assert response is not None and response.status == 200, (url, response)
        found = laptop_page.evaluate(OVERFLOW_JS)
        if found:
            problems[url] = found
        width = laptop_page.evaluate(WIDTH_JS)
        if width:
            widths[url] = width
    print(f"\n{role}: list table width / room (px):")
    for url, (table, room) in widths.items():
        print(f"  {url}: {table} / {room}")
    assert problems == {}, f"wider than 1366 px for {role}: {problems}"
