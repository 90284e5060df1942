"""The admin site staff use: our titles, and the place extra pages hang from."""

from django.contrib import admin


class BackofficeAdminSite(admin.AdminSite):
    site_header = "Operator back office"
    site_title = "Operator back office"
    index_title = "Wallets, bets and provider traffic"
