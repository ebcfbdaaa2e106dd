"""The audit table refuses UPDATE and DELETE in PostgreSQL itself."""

from __future__ import annotations

import pytest
from django.db import InternalError, ProgrammingError, connection, transaction

from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from audit.record import record

pytestmark = pytest.mark.django_db

REFUSED = (InternalError, ProgrammingError)


@pytest.fixture
def event(caseworker) -> AuditEvent:
    return record(AuthAction.LOGIN, actor=caseworker, detail={"n": 1})


def test_update_is_refused(event):
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="rewritten")
    event.refresh_from_db()
    assert event.action == AuthAction.LOGIN


def test_delete_is_refused_through_the_orm_and_raw_sql(event):
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        event.delete()
    with (
        pytest.raises(REFUSED, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_insert_still_works_and_records_the_actor_agency(event, caseworker):
    assert event.actor == caseworker
    assert event.actor_agency == caseworker.membership.agency
    assert event.detail == {"n": 1}


def test_admin_is_read_only(admin_client, event):
    assert admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
    assert (
        admin_client.post(
            f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()
