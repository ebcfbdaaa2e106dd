"""Break-glass (issue 14): every event names its lead agency; indexes for the reviewers'
task lists (unreviewed events) and for one person's openings (the daily limit)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0007_break_glass_review_duty"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="breakglassevent",
            name="lead_agency",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="agencies.agency",
            ),
        ),
        migrations.AddIndex(
            model_name="breakglassevent",
            index=models.Index(
                condition=models.Q(("reviewed_at__isnull", True)),
                fields=["lead_agency", "opened_at"],
                name="break_glass_unreviewed",
            ),
        ),
        migrations.AddIndex(
            model_name="breakglassevent",
            index=models.Index(fields=["opened_by", "opened_at"], name="break_glass_by_person"),
        ),
    ]
