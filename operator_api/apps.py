from django.apps import AppConfig


class OperatorApiConfig(AppConfig):
    name = "operator_api"
    verbose_name = "Operator API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from operator_api import schema  # noqa: F401  (registers the auth schemes' extensions)
