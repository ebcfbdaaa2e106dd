"""Report the analysts whose agency is not of an intelligence kind (issue 15).

From this release an intelligence analyst, like an officer, may only be a member of a
police force, a labour inspectorate, a national agency or an immigration service: an
analyst reads partners' police intelligence, which a charity or a council must not be
able to grant itself by making one. Memberships made before the rule may not fit it.

This migration only REPORTS them, one line per membership and a count, on stdout. It
changes nothing: whether such a person becomes a caseworker, moves agency or is
deactivated is a decision for the people involved, not for a migration. The report names
memberships, users and agencies by id (and the agency by its name and kind), never a
person's name or email address: deployment logs are not the place for personal data.
``manage.py role_misfits`` prints the same report, for every role, again at any time.

The kinds are written out here rather than imported from ``agencies.models``: a migration
keeps the meaning it had when it was written.
"""

from django.db import migrations

INTELLIGENCE_AGENCY_KINDS = ("police", "labour_inspectorate", "national_agency", "immigration")
PREFIX = "agencies.0005"


def report_analysts_outside_intelligence_agencies(apps, schema_editor):
    """Print each analyst membership in an agency of another kind, then the count."""
    Membership = apps.get_model("agencies", "Membership")
    misfits = (
        Membership.objects.filter(role="analyst")
        .exclude(agency__kind__in=INTELLIGENCE_AGENCY_KINDS)
        .select_related("agency")
        .order_by("agency__name", "pk")
    )
    print()  # off the line where ``migrate`` wrote "Applying ...", for a readable log
    count = 0
    for membership in misfits.iterator():
        count += 1
        agency = membership.agency
        print(
            f"{PREFIX}: membership {membership.pk} (user {membership.user_id}) is an analyst "
            f'in agency {agency.pk} "{agency.name}" of kind {agency.kind}, which is not an '
            "intelligence agency kind. Not changed."
        )
    kinds = ", ".join(INTELLIGENCE_AGENCY_KINDS)
    print(
        f"{PREFIX}: {count} analyst membership(s) outside an intelligence agency ({kinds}); "
        "none changed. Review them with `manage.py role_misfits`."
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0004_user_credentials_epoch"),
    ]

    operations = [
        migrations.RunPython(
            report_analysts_outside_intelligence_agencies,
            migrations.RunPython.noop,
            elidable=True,
        ),
    ]
