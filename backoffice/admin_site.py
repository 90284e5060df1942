"""The admin site staff use: our titles, and the extra pages of ``backoffice.admin_pages``."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver


class BackofficeAdminSite(admin.AdminSite):
    site_header = "Operator back office"
    site_title = "Operator back office"
    index_title = "Wallets, bets and provider traffic"

    def get_urls(self) -> list[URLPattern | URLResolver]:
        from backoffice.admin_pages import admin_page_urls

        return [*admin_page_urls(self), *super().get_urls()]
