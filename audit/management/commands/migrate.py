"""``manage.py migrate`` as the schema owner, then the app role's grants (``audit.roles``).

Django's own command, run over the owner's connection (DATABASE_OWNER_URL) when the app
connects as another role; afterwards the app role (DATABASE_URL) gets exactly its
privileges on the tables as they now are.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as MigrateCommand

from audit import roles


class Command(MigrateCommand):
    help = (
        f"{MigrateCommand.help} Connects as the schema owner (DATABASE_OWNER_URL) and then "
        "grants the app role (DATABASE_URL) its privileges."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with roles.as_owner(options["database"]) as connection:
                super().handle(*args, **options)
                if roles.separate_roles():
                    app = roles.app_role()["USER"]
                    roles.grant_app_role(connection, app)
                    if options["verbosity"] >= 1:
                        self.stdout.write(f"Granted the app role {app!r} its privileges.")
        except roles.RoleError as error:
            raise CommandError(str(error)) from error
