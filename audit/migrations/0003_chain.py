"""The tamper-evident chain (issue 16, item 3): two set-once columns, an index of the rows
not sealed yet, and the append-only trigger taught the one UPDATE it allows — sealing a
row (setting its chain columns, once) with every other column unchanged."""

from django.conf import settings
from django.db import migrations, models

CONTENT = (
    "id, occurred_at, actor_id, actor_agency_id, action, target_type, target_id, case_id, "
    "request_id, ip_address, detail"
)

FORWARD = f"""
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.chain_seq IS NULL AND OLD.chain_hash = ''
       AND NEW.chain_seq IS NOT NULL AND length(NEW.chain_hash) = 64
       AND ({", ".join("NEW." + c.strip() for c in CONTENT.split(","))})
           IS NOT DISTINCT FROM
           ({", ".join("OLD." + c.strip() for c in CONTENT.split(","))})
    THEN
        RETURN NEW;  -- sealing: the chain columns are set once, and nothing else changes
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused on audit_auditevent', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

BACKWARD = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused on audit_auditevent', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0005_report_analysts_outside_intelligence_agencies"),
        ("audit", "0002_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_seq",
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("chain_seq__isnull", True)),
                fields=["id"],
                name="audit_unsealed_idx",
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
