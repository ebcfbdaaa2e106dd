from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = "Agencies and access"

    def ready(self) -> None:
        from . import signals  # noqa: F401
