"""Evidence access requests, break-glass and criminal-justice outcomes, in the layers of an
app: ``services`` (requests, decisions, justice outcomes) and ``break_glass`` write,
``reads`` reads for both doors, ``views`` and ``forms`` are the pages, ``api`` and
``serializers`` the API. The models stay in ``casework.models``."""
