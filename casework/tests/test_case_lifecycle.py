"""Opening, changing, closing and reopening a case; the lead agency's grants."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agencies import access
from casework import services
from casework.models import Case, CaseStatus
from casework.permissions import LEAD_PERMISSIONS, VIEW_CASE

pytestmark = pytest.mark.django_db


def visible(user, perm=VIEW_CASE):
    user.refresh_from_db()
    return set(Case.objects.visible_to(user, perm).values_list("reference", flat=True))


def test_opening_a_case_gives_a_reference_and_the_lead_agency_its_grants(
    case, caseworker, case_manager, agency_admin, other_agency_caseworker, police_officer
):
    year = timezone.localdate().year
    assert case.reference == f"NMS-{year}-00001"
    assert case.lead_agency == caseworker.membership.agency
    assert case.lead_caseworker == caseworker
    assert case.status == CaseStatus.OPEN
    assert {g.permission for g in access.grants_on(case)} == set(LEAD_PERMISSIONS)

    assert visible(caseworker) == visible(case_manager) == {case.reference}
    # Nobody else, not even the agency's own admin (no capability), sees it.
    assert visible(agency_admin) == set()
    assert visible(other_agency_caseworker) == set()
    assert visible(police_officer) == set()


def test_references_count_up(caseworker):
    first = services.case_create(actor=caseworker)
    second = services.case_create(actor=caseworker)
    assert int(second.reference[-5:]) == int(first.reference[-5:]) + 1


def test_only_care_roles_open_cases(police_officer, agency_admin, manager):
    for user in (police_officer, agency_admin, manager):
        with pytest.raises(PermissionDenied):
            services.case_create(actor=user)


def test_bad_fields_are_field_errors(caseworker):
    with pytest.raises(ValidationError) as error:
        services.case_create(actor=caseworker, exploitation_types=["fishing"])
    assert "exploitation_types" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.case_create(actor=caseworker, nationality="XX", risk_level="extreme")
    assert {"nationality", "risk_level"} <= set(error.value.message_dict)


def test_status_moves_only_along_the_legal_transitions(case, caseworker):
    services.case_activate(actor=caseworker, case=case)
    with pytest.raises(services.IllegalTransition):
        services.case_activate(actor=caseworker, case=case)
    with pytest.raises(ValidationError) as error:
        services.case_close(actor=caseworker, case=case, reason="bored")
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.case_close(actor=caseworker, case=case, reason="other", note="  ")
    assert "note" in error.value.message_dict

    services.case_close(actor=caseworker, case=case, reason="moved_on")
    case.refresh_from_db()
    assert (
        case.status == CaseStatus.CLOSED
        and case.closed_at is not None
        and case.closure_reason == "moved_on"
    )
    with pytest.raises(services.IllegalTransition):
        services.case_close(actor=caseworker, case=case, reason="moved_on")

    services.case_reopen(actor=caseworker, case=case)
    assert case.status == CaseStatus.ACTIVE and case.closed_at is None


def test_other_agencies_may_not_change_or_close(case, other_agency_caseworker):
    with pytest.raises(PermissionDenied):
        services.case_update(actor=other_agency_caseworker, case=case, risk_level="standard")
    with pytest.raises(PermissionDenied):
        services.case_close(actor=other_agency_caseworker, case=case, reason="moved_on")


def test_update_audits_field_names_only(case, caseworker):
    from audit.models import AuditEvent

    services.case_update(
        actor=caseworker, case=case, risk_level="immediate", first_language="Albanian"
    )
    event = AuditEvent.objects.filter(action="case.updated").get()
    assert event.detail == {"fields": ["first_language", "risk_level"]}
    assert event.case_id == case.pk
