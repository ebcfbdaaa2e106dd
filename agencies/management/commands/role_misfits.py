"""``manage.py role_misfits``: the memberships whose role does not fit their agency's kind.

The services refuse such a membership today (``ROLE_AGENCY_KINDS``), but one made before
a rule was added stays as it was: migration ``agencies.0005`` reports the analysts once,
and this command lets an operator re-run the report, for every role in the table, until
the people involved have resolved each one. It reads and never writes.

Memberships, users and agencies are named by id (agencies also by name and kind), never
by a person's name or email address, so the output may go to a log or a ticket.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Q, QuerySet

from agencies.models import ROLE_AGENCY_KINDS, Membership


def misfit_memberships() -> QuerySet[Membership]:
    """Every membership whose role has an entry in ``ROLE_AGENCY_KINDS`` and whose agency
    is of a kind outside it, with its agency, in a stable order."""
    misfit = Q(pk__in=[])
    for role, kinds in ROLE_AGENCY_KINDS.items():
        misfit |= Q(role=role) & ~Q(agency__kind__in=kinds)
    return (
        Membership.objects.filter(misfit)
        .select_related("agency")
        .order_by("agency__name", "role", "pk")
    )


class Command(BaseCommand):
    help = (
        "List the memberships whose role does not fit the kind of their agency (by id: no "
        "names or email addresses). Changes nothing; exits 0 whatever it finds."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        for membership in misfit_memberships().iterator():
            count += 1
            agency = membership.agency
            needs = ", ".join(sorted(ROLE_AGENCY_KINDS[membership.role]))
            self.stdout.write(
                f"membership {membership.pk} (user {membership.user_id}): role "
                f'{membership.role} in agency {agency.pk} "{agency.name}" of kind '
                f"{agency.kind}; the role needs one of: {needs}"
            )
        self.stdout.write(f"{count} membership(s) with a role that does not fit their agency.")
