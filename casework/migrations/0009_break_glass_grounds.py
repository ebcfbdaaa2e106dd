"""Break-glass grounds (issue 14 review): a structured choice every reviewer may read, so
that the free-text reason goes only to those who may read the person's details.

Every opening before this change was made on a form that allowed it only "where a
person's life is at risk now" and asked "why a life is at risk now": those rows are
recorded as a threat to life. New rows must name their grounds (no default).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0008_break_glass_review_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="breakglassevent",
            name="grounds",
            field=models.CharField(
                choices=[
                    ("threat_to_life", "Threat to life"),
                    ("serious_harm", "Risk of serious harm, imminent"),
                    ("missing_at_risk", "Missing person, high risk"),
                    ("medical_emergency", "Medical emergency"),
                    ("other", "Other immediate risk to life or safety"),
                ],
                default="threat_to_life",
                max_length=32,
            ),
            preserve_default=False,
        ),
    ]
