"""Issue 17: "under 18 now" is worked out from the date of birth where one is recorded.

Cases recorded before were ticked by hand: each case whose identity has a date of birth
takes the value the date gives today (``casework.ages``, copied here: a migration does not
import application code), with basis ``date_of_birth``; every change is audited, without
the date. Cases without a date of birth keep their tick (basis ``recorded``, the default).
Dates of birth are decrypted in Python (the historical field does it); nothing is logged.
"""

import datetime

from django.db import migrations
from django.utils import timezone


def _adult_on(born: datetime.date) -> datetime.date:
    try:
        return born.replace(year=born.year + 18)
    except ValueError:  # born on 29 February: 1 March in a common year
        return datetime.date(born.year + 18, 3, 1)


def derive(apps, schema_editor):
    Case = apps.get_model("casework", "Case")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    today = timezone.localdate()
    rows = (
        Case.objects.filter(identity__date_of_birth__isnull=False)
        .order_by("pk")
        .values_list("pk", "is_child", "identity__date_of_birth")
        .iterator()
    )
    for pk, was_child, born in rows:
        is_child = today < _adult_on(born)
        Case.objects.filter(pk=pk).update(is_child=is_child, child_status_basis="date_of_birth")
        if is_child != was_child:
            AuditEvent.objects.create(
                action="case.child_status_changed",
                target_type="casework.case",
                target_id=str(pk),
                case_id=pk,
                detail={
                    "from": was_child,
                    "to": is_child,
                    "basis": "date_of_birth",
                    "by": "migration casework 0014",
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_seal_in_order"),
        ("casework", "0013_child_status_and_case_tasks"),
    ]

    operations = [migrations.RunPython(derive, migrations.RunPython.noop)]
