"""``manage.py grant_app_role``: give the app role (DATABASE_URL) exactly its privileges,
as the schema owner (DATABASE_OWNER_URL). ``migrate`` does this itself; this is for a
database restored from a dump, or a check."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit import roles


class Command(BaseCommand):
    help = (
        "Grant the app role (DATABASE_URL) its privileges as the schema owner "
        "(DATABASE_OWNER_URL): DML on the tables, INSERT and SELECT only on the audit table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="connection alias")

    def handle(self, *args: Any, **options: Any) -> None:
        if not roles.separate_roles():
            raise CommandError(
                "DATABASE_OWNER_URL is not set, or names the role of DATABASE_URL: "
                "there is no separate app role to grant."
            )
        app = roles.app_role()["USER"]
        try:
            with roles.as_owner(options["database"]) as connection:
                roles.grant_app_role(connection, app)
        except roles.RoleError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Granted the app role {app!r} its privileges.")
