from django.contrib import admin

from providers.models import JournalEntry
from wallet.admin import ReadOnlyAdmin


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "provider",
        "action",
        "bet_key",
        "account_id",
        "outcome",
        "http_status",
        "latency_us",
        "client_ip",
    )
    list_filter = ("provider", "outcome", "direction", "is_cancel")
    search_fields = ("=bet_key", "=account_id", "=request_id", "action")
    date_hierarchy = "created_at"
    show_full_result_count = False
