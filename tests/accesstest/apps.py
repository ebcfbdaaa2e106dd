from django.apps import AppConfig


class AccessTestConfig(AppConfig):
    """A test-only app that registers a model with the access engine, so the engine is
    tested as a later app (casework) will use it, before any domain model exists."""

    name = "tests.accesstest"
    label = "accesstest"

    def ready(self) -> None:
        from agencies import access

        from .models import Dossier, DossierAgencyGrant, DossierUserGrant

        access.register(Dossier, agency_grants=DossierAgencyGrant, user_grants=DossierUserGrant)
