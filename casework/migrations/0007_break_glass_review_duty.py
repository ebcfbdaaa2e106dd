"""Break-glass review duty (issue 14): who reviews is stored on each event.

``lead_agency`` is the agency that led the case when the glass was broken (its case
managers, else its agency admins, review); ``partnerships`` are the partnerships in force
that allowed the opening (their managers review when the lead agency has nobody);
``review_tier`` says which of them holds the duty. Existing events get their case's lead
agency, the partnerships in force today shared by that agency and the breaker's, and the
first tier: if the lead agency has no case manager the duty falls through on its own
(``BreakGlassEvent.objects.to_review_by``). ``lead_agency`` is made required in 0008, in
a transaction of its own (PostgreSQL refuses to alter a table with pending trigger events).
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone


def fill_review_duty(apps, schema_editor):
    BreakGlassEvent = apps.get_model("casework", "BreakGlassEvent")
    Partnership = apps.get_model("agencies", "Partnership")
    today = timezone.localdate()
    in_force = Partnership.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today), starts_on__lte=today
    )
    for event in BreakGlassEvent.objects.select_related("case").iterator():
        lead_id = event.case.lead_agency_id
        event.lead_agency_id = lead_id
        event.save(update_fields=["lead_agency"])
        shared = in_force.filter(agencies=lead_id)
        if event.agency_id != lead_id:
            shared = shared.filter(agencies=event.agency_id)
        event.partnerships.set(list(shared.values_list("pk", flat=True)))


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0003_agency_intelligence_contact"),
        ("casework", "0006_evidenceaccessrequest_expiry_warned_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="breakglassevent",
            name="lead_agency",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="agencies.agency",
            ),
        ),
        migrations.AddField(
            model_name="breakglassevent",
            name="partnerships",
            field=models.ManyToManyField(
                blank=True, related_name="break_glass_events", to="agencies.partnership"
            ),
        ),
        migrations.AddField(
            model_name="breakglassevent",
            name="review_tier",
            field=models.CharField(
                choices=[
                    ("case_managers", "The lead agency's case managers"),
                    ("agency_admins", "The lead agency's administrators"),
                    ("partnership_managers", "The partnership's managers"),
                ],
                default="case_managers",
                max_length=32,
            ),
        ),
        migrations.RunPython(fill_review_duty, migrations.RunPython.noop),
    ]
