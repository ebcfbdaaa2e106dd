"""Existing lead agencies get the two permissions issue 6 added to LEAD_PERMISSIONS.

For every case, the groups holding ``manage_case`` (held by the lead agency only, for
its lead assignment) now also hold ``decide_evidence`` and ``review_break_glass``, for
the same reason and expiry.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

NEW = ("decide_evidence", "review_break_glass")


def forwards(apps, schema_editor):
    app_config = apps.get_app_config("casework")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    case_type = ContentType.objects.get(app_label="casework", model="case")
    manage = Permission.objects.get(content_type=case_type, codename="manage_case").pk
    table = apps.get_model("casework", "CaseAgencyGrant")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        for codename in NEW:
            new = Permission.objects.get(content_type=case_type, codename=codename).pk
            cursor.execute(
                f"""
                INSERT INTO "{table}" (reason_id, expires_at, granted_at, content_object_id,
                                      granted_by_id, group_id, permission_id, reason_type_id)
                SELECT reason_id, expires_at, granted_at, content_object_id, granted_by_id,
                       group_id, %s, reason_type_id
                FROM "{table}" WHERE permission_id = %s
                ON CONFLICT DO NOTHING
                """,
                [new, manage],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0003_evidence_requests_and_break_glass"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
