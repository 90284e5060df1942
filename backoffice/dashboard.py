"""The support dashboard (shown on the admin index) and the player lookup page.

Every figure is bounded: stuck counts stop at ``COUNT_LIMIT`` ("1000+"), and the other
figures only read a time window (today, the last 24 hours) through an index, so the page stays
fast with millions of bets. Each count links to the list it counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.admin import AdminSite
from django.db.models import Count, Max, Sum
from django.db.models.functions import TruncHour
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import urlencode

from wallet.display import amount_text, when
from wallet.models import Bet, LedgerEntry, LedgerKind, Player, Provider
from wallet.selectors import (
    COUNT_LIMIT,
    StuckReason,
    bounded_count,
    stuck_after_minutes,
    stuck_summary,
)

FINANCE_PAGES = (
    ("finance_summary", "Reconciliation summary"),
    ("finance_export", "CSV exports"),
    ("finance_diff", "Differences with a provider statement"),
)
AUTH_FAILURE_WINDOW = timedelta(hours=24)
CHART_HOURS = 24


def _changelist(model: str, **params: Any) -> str:
    base = reverse(f"admin:{model}_changelist")
    query = urlencode({k: str(v) for k, v in params.items() if v not in (None, "")})
    return f"{base}?{query}" if query else base


def _day_bounds(now: datetime) -> tuple[datetime, datetime]:
    # The same bounds as the admin's "Today" date filter, so the link shows exactly the count.
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


@dataclass
class ProviderRow:
    slug: str
    name: str
    stuck: list[dict[str, Any]] = field(default_factory=list)
    cancels_today: int = 0
    cancels_url: str = ""
    refunds_today: int = 0
    refund_totals: list[str] = field(default_factory=list)
    refunds_url: str = ""
    auth_failures: str = "0"
    auth_failures_url: str = ""
    last_auth_failure: datetime | None = None
    threshold_minutes: int = 0


def _stuck_rows(rows: dict[str, ProviderRow], now: datetime) -> dict[str, Any]:
    summary = stuck_summary(now=now)
    for slug, row in rows.items():
        for reason in StuckReason:
            count = summary.counts[slug][reason]
            row.stuck.append(
                {
                    "reason": reason,
                    "count": str(count),
                    "value": count.value,
                    "url": _changelist("wallet_bet", stuck=reason.value, provider__exact=slug),
                }
            )
    totals = []
    for reason in StuckReason:
        counts = [summary.counts[slug][reason] for slug in rows]
        value = sum(min(c.value, c.limit) for c in counts)
        totals.append(
            {
                "reason": reason,
                "value": value,
                "count": f"{value}+" if any(c.capped for c in counts) else str(value),
                "url": _changelist("wallet_bet", stuck=reason.value),
            }
        )
    oldest = summary.oldest_overall
    return {
        "stuck_totals": totals,
        "stuck_any": any(t["value"] for t in totals),
        "oldest_stuck": (
            {
                "bet": oldest[1],
                "reason": oldest[0],
                "age": timezone.now() - oldest[1].created_at,
                "url": reverse("admin:wallet_bet_change", args=[oldest[1].pk]),
            }
            if oldest
            else None
        ),
    }


def _cancels_and_refunds(rows: dict[str, ProviderRow], now: datetime) -> None:
    start, end = _day_bounds(now)
    cancels = (
        Bet.objects.filter(cancelled_at__gte=start, cancelled_at__lt=end)
        .values("provider")
        .annotate(n=Count("id"))
        .order_by()
    )
    for item in cancels:
        if item["provider"] in rows:
            rows[item["provider"]].cancels_today = item["n"]
    refunds = (
        LedgerEntry.objects.filter(
            kind=LedgerKind.REFUND, created_at__gte=start, created_at__lt=end
        )
        .values("provider", "wallet__currency")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("provider", "wallet__currency")
    )
    for item in refunds:
        row = rows.get(item["provider"])
        if row is not None:
            row.refunds_today += item["n"]
            row.refund_totals.append(
                amount_text(item["total"] or Decimal(0), item["wallet__currency"])
            )
    for slug, row in rows.items():
        row.cancels_url = _changelist(
            "wallet_bet", provider__exact=slug, cancelled_at__gte=start, cancelled_at__lt=end
        )
        row.refunds_url = _changelist(
            "wallet_ledgerentry",
            kind__exact=LedgerKind.REFUND,
            provider__exact=slug,
            created_at__gte=start,
            created_at__lt=end,
        )


def _auth_failures(rows: dict[str, ProviderRow], now: datetime) -> None:
    from journal.models import JournalEntry

    since = now - AUTH_FAILURE_WINDOW
    failures = JournalEntry.objects.filter(outcome="auth_failed", created_at__gte=since)
    latest = dict(
        failures.values("provider").annotate(last=Max("created_at")).values_list("provider", "last")
    )
    try:
        journal_list = reverse("admin:journal_journalentry_changelist")
    except NoReverseMatch:
        journal_list = ""
    for slug, row in rows.items():
        if slug in latest:
            row.auth_failures = str(bounded_count(failures.filter(provider=slug)))
            row.last_auth_failure = latest[slug]
        if journal_list:
            row.auth_failures_url = (
                journal_list
                + "?"
                + urlencode(
                    {"provider": slug, "outcome": "auth_failed", "created_at__gte": str(since)}
                )
            )


def _cancel_chart(now: datetime) -> dict[str, Any]:
    """Cancels per hour per provider over the last 24 hours, as bar geometry for inline SVG."""
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=CHART_HOURS)
    hours = [start + timedelta(hours=i) for i in range(CHART_HOURS)]
    counts: dict[tuple[str, datetime], int] = {}
    per_hour = (
        Bet.objects.filter(cancelled_at__gte=start, cancelled_at__lt=end)
        .annotate(hour=TruncHour("cancelled_at"))
        .values("provider", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    for item in per_hour:
        counts[(item["provider"], item["hour"])] = item["n"]
    peak = max(counts.values(), default=0)
    bar_width, gap, height = 14, 3, 48
    series = []
    for provider in Provider:
        bars: list[dict[str, Any]] = []
        for i, hour in enumerate(hours):
            n = counts.get((provider.value, hour), 0)
            h = round(height * n / peak) if peak else 0
            bars.append(
                {
                    "x": i * (bar_width + gap),
                    "y": height - h,
                    "h": h,
                    "n": n,
                    "label": f"{when(hour)} to {when(hour + timedelta(hours=1))}: {n} cancels",
                }
            )
        series.append(
            {
                "name": provider.label,
                "total": sum(b["n"] for b in bars),
                "bars": bars,
            }
        )
    return {
        "series": series,
        "peak": peak,
        "width": CHART_HOURS * (bar_width + gap),
        "height": height,
        "bar_width": bar_width,
        "axis": _chart_axis(start, end, bar_width + gap),
    }


def _chart_axis(start: datetime, end: datetime, step: float) -> list[dict[str, Any]]:
    """Ticks under the chart: its start, each midnight it crosses and its end, full dates and
    times, so "00:00" is never read as the wrong day. ``x`` is the pixel offset of the tick."""
    ticks = [start]
    midnight = start.replace(hour=0) + timedelta(days=1)
    while midnight < end:
        ticks.append(midnight)
        midnight += timedelta(days=1)
    ticks.append(end)
    hours = (end - start) / timedelta(hours=1)
    width = hours * step
    # A middle tick's label (on the second line) is centred under it, except near an end,
    # where it would stick out of the chart: there it starts, or ends, at the tick.
    return [
        {
            "at": tick,
            "text": when(tick),
            "x": round((tick - start) / timedelta(hours=1) * step),
            "edge": "start" if i == 0 else "end" if i == len(ticks) - 1 else "middle",
            "align": _align((tick - start) / timedelta(hours=1) * step, width),
            "percent": round(100 * ((tick - start) / timedelta(hours=1)) / hours, 2),
        }
        for i, tick in enumerate(ticks)
    ]


def _align(x: float, width: float, room: float = 80) -> str:
    return "left" if x < room else "right" if x > width - room else "center"


def _finance_links(request: HttpRequest) -> list[dict[str, str]]:
    if not request.user.has_perm("wallet.export_reconciliation"):
        return []
    links = []
    for name, label in FINANCE_PAGES:
        try:
            links.append({"url": reverse(f"admin:{name}"), "label": label})
        except NoReverseMatch:  # the finance pages are not installed
            continue
    return links


def _approvals(request: HttpRequest) -> dict[str, Any]:
    """How many staff money actions wait for a second person (four-eyes), for those who may
    see the queue; a bounded count like every figure here."""
    if not request.user.has_perm("wallet.view_proposal"):
        return {}
    from wallet.services import waiting_proposals

    return {
        "approvals_waiting": bounded_count(waiting_proposals(), COUNT_LIMIT),
        "approvals_url": reverse("admin:wallet_proposal_changelist"),
        "can_approve": request.user.has_perm("wallet.approve_proposal"),
    }


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    """The figures of the dashboard, for staff who may view bets; empty otherwise."""
    context: dict[str, Any] = {"finance_links": _finance_links(request)}
    if not request.user.has_perm("wallet.view_bet"):
        return context
    now = timezone.now()
    rows = {
        p.value: ProviderRow(p.value, p.label, threshold_minutes=stuck_after_minutes(p.value))
        for p in Provider
    }
    context.update(_stuck_rows(rows, now))
    context.update(_approvals(request))
    _cancels_and_refunds(rows, now)
    _auth_failures(rows, now)
    context.update(
        {
            "show_dashboard": True,
            "provider_rows": list(rows.values()),
            "stuck_reasons": list(StuckReason),
            "cancel_chart": _cancel_chart(now),
            "today": _day_bounds(now)[0],
            "generated_at": now,
            "can_view_players": request.user.has_perm("wallet.view_player"),
            "player_lookup_url": reverse("admin:support_player_lookup"),
            "bet_list_url": reverse("admin:wallet_bet_changelist"),
        }
    )
    return context


# --- player lookup ------------------------------------------------------------------------------

LOOKUP_SUGGESTIONS = 20


def player_lookup(request: HttpRequest, site: AdminSite) -> HttpResponse:
    """Find a player by account id: straight to the player's page on an exact match."""
    if not request.user.has_perm("wallet.view_player"):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    query = (request.GET.get("account_id") or "").strip()
    if query:
        exact = Player.objects.filter(account_id=query).values_list("pk", flat=True).first()
        if exact is not None:
            return HttpResponseRedirect(reverse("admin:wallet_player_change", args=[exact]))
    # ``startswith`` is case-sensitive so that it uses the account id index (LIKE 'x%').
    suggestions = (
        list(
            Player.objects.filter(account_id__startswith=query).order_by("account_id")[
                :LOOKUP_SUGGESTIONS
            ]
        )
        if query
        else []
    )
    context = {
        **site.each_context(request),
        "title": "Find a player",
        "query": query,
        "suggestions": suggestions,
        "suggestions_limit": LOOKUP_SUGGESTIONS,
    }
    return TemplateResponse(request, "admin/support/player_lookup.html", context)


def urls(site: AdminSite) -> list[URLPattern]:
    def lookup(request: HttpRequest) -> HttpResponse:
        return player_lookup(request, site)

    return [
        path("support/players/", site.admin_view(lookup), name="support_player_lookup"),
    ]
