from agencies.models import Role

CAPABILITIES = {
    "accesstest.view_dossier": frozenset({Role.CASEWORKER, Role.CASE_MANAGER, Role.OFFICER}),
    "accesstest.view_dossier_secret": frozenset({Role.CASEWORKER}),
}
