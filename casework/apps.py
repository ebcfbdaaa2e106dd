from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = "Casework"

    def ready(self) -> None:
        from agencies import access

        from . import models as m

        access.register(m.Case, agency_grants=m.CaseAgencyGrant, user_grants=m.CaseUserGrant)
        access.register(
            m.Document, agency_grants=m.DocumentAgencyGrant, user_grants=m.DocumentUserGrant
        )
        access.register(
            m.CaseNote, agency_grants=m.CaseNoteAgencyGrant, user_grants=m.CaseNoteUserGrant
        )
