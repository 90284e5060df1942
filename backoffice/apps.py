from django.contrib.admin.apps import AdminConfig


class BackofficeAdminConfig(AdminConfig):
    """Replaces Django's default admin site with ours (dashboard, staff pages)."""

    default_site = "backoffice.admin_site.BackofficeAdminSite"

    def ready(self) -> None:
        super().ready()
        from backoffice import checks  # noqa: F401  (registers the deployment checks)
