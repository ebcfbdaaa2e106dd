from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor: plumbing every app may import, importing no app itself."""

    name = "core"
    verbose_name = "Concord core"
