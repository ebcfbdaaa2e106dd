from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = "Casework"

    def ready(self) -> None:
        from agencies import access

        from .models import Case, CaseAgencyGrant, CaseUserGrant

        access.register(Case, agency_grants=CaseAgencyGrant, user_grants=CaseUserGrant)
