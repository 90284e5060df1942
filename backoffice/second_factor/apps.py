from django.apps import AppConfig


class SecondFactorConfig(AppConfig):
    name = "backoffice.second_factor"
    label = "second_factor"
    verbose_name = "Staff sign-in"
