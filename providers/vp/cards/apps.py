from django.apps import AppConfig


class OperatorCardsConfig(AppConfig):
    """Operator cards (VP): the cards, their history, the shared VP token, the admin."""

    name = "providers.vp.cards"
    label = "operator_cards"
    verbose_name = "VP operator cards"
    default_auto_field = "django.db.models.BigAutoField"
