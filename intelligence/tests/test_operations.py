"""Operations and premises visits, and starting a case or a report from a visit."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from agencies.models import Agency, User
from audit.models import AuditEvent
from casework import services as casework_services
from intelligence import operations, reports
from intelligence.models import Operation, PremisesVisit

TODAY = timezone.localdate()
LAST_WEEK = TODAY - datetime.timedelta(days=7)


@pytest.fixture
def operation(police_officer: User, harbour: Agency, inspectorate: Agency) -> Operation:
    return operations.operation_create(
        actor=police_officer,
        name="Operation Clearwater",
        starts_on=LAST_WEEK,
        partner_agencies=[harbour, inspectorate.pk],
    )


@pytest.fixture
def visit(operation: Operation, inspector: User) -> PremisesVisit:
    return operations.visit_record(
        actor=inspector,
        operation=operation,
        premises_type="car_wash",
        postcode_district="ne1",
        visited_on=TODAY,
        workers_present=6,
        indicators=["living_on_site", "low_or_no_pay", "no_identity_documents"],
        outcome="potential_victims",
        notes="Worker Ion P. said the boss keeps his passport.",
    )


def errors_of(call: Any, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as error:
        call(**kwargs)
    return error.value.message_dict


def test_an_operation_is_led_by_the_creators_agency(
    operation: Operation, police: Agency, harbour: Agency, inspectorate: Agency
) -> None:
    assert operation.lead_agency == police
    assert set(operation.partner_agencies.all()) == {harbour, inspectorate}
    assert (
        AuditEvent.objects.for_target(operation)
        .filter(action="intelligence.operation_created")
        .exists()
    )


def test_caseworkers_do_not_lead_operations(caseworker: User) -> None:
    with pytest.raises(PermissionDenied):
        operations.operation_create(actor=caseworker, name="Outreach", starts_on=TODAY)


def test_operation_input_is_checked(
    operation: Operation, police_officer: User, police: Agency
) -> None:
    assert errors_of(
        operations.operation_create,
        actor=police_officer,
        name="operation  clearwater",
        starts_on=TODAY,
        ends_on=LAST_WEEK,
        partner_agencies=[police],
    ) == {
        "name": ["Your agency already has an operation with this name."],
        "ends_on": ["An operation cannot end before it starts."],
        "partner_agencies": ["Your agency leads the operation; choose other agencies."],
    }
    assert errors_of(
        operations.operation_create, actor=police_officer, name=" ", starts_on=TODAY
    ) == {"name": ["Name the operation."]}


def test_lead_and_partners_see_an_operation_and_its_visits(
    visit: PremisesVisit,
    operation: Operation,
    caseworker: User,
    analyst: User,
    outside_officer: User,
    manager: User,
) -> None:
    for user in (caseworker, analyst):
        assert list(Operation.objects.visible_to(user)) == [operation]
        assert list(PremisesVisit.objects.visible_to(user)) == [visit]
    for user in (outside_officer, manager):
        assert not Operation.objects.visible_to(user).exists()
        assert not PremisesVisit.objects.visible_to(user).exists()


def test_a_visit_is_recorded_in_normal_form(visit: PremisesVisit, inspectorate: Agency) -> None:
    assert visit.agency == inspectorate
    assert visit.postcode_district == "NE1"
    # In the checklist's order, whatever order they were ticked in.
    assert visit.indicators == ["no_identity_documents", "low_or_no_pay", "living_on_site"]
    audited = AuditEvent.objects.for_target(visit).get(action="intelligence.visit_recorded")
    assert "Ion" not in str(audited.detail)


def test_outsiders_cannot_record_visits_on_an_operation(
    operation: Operation, outside_officer: User
) -> None:
    with pytest.raises(Http404):
        operations.visit_record(
            actor=outside_officer,
            operation=operation,
            premises_type="farm",
            postcode_district="NE1",
            visited_on=TODAY,
            outcome="no_concerns",
        )
    assert not PremisesVisit.objects.exists()


def test_visit_input_is_checked(operation: Operation, inspector: User, manager: User) -> None:
    assert errors_of(
        operations.visit_record,
        actor=inspector,
        operation=operation,
        premises_type="castle",
        postcode_district="Newcastle",
        visited_on=LAST_WEEK - datetime.timedelta(days=1),
        outcome="fine",
        workers_present=-1,
        indicators=["debt_bondage", "bad_vibes"],
    ) == {
        "premises_type": ["Choose the type of premises."],
        "outcome": ["Choose the outcome of the visit."],
        "postcode_district": [
            "“Newcastle” is not a UK postcode district: give the outward code only, e.g. NE1."
        ],
        "visited_on": ["The visit date falls outside the operation's dates."],
        "workers_present": ["The number of workers cannot be negative."],
        "indicators": ["Unknown indicator: bad_vibes"],
    }
    assert errors_of(
        operations.visit_record,
        actor=inspector,
        premises_type="farm",
        postcode_district="NE1",
        visited_on=TODAY + datetime.timedelta(days=1),
        outcome="no_concerns",
    ) == {"visited_on": ["The visit cannot be in the future."]}
    with pytest.raises(PermissionDenied):
        operations.visit_record(
            actor=manager,
            premises_type="farm",
            postcode_district="NE1",
            visited_on=TODAY,
            outcome="no_concerns",
        )


def test_a_visit_outside_any_operation_stays_with_its_agency(
    caseworker: User, case_manager: User, analyst: User
) -> None:
    visit = operations.visit_record(
        actor=caseworker,
        premises_type="nail_bar",
        postcode_district="NE4",
        visited_on=TODAY,
        outcome="labour_abuse",
    )
    assert list(PremisesVisit.objects.visible_to(case_manager)) == [visit]
    assert not PremisesVisit.objects.visible_to(analyst).exists()


def test_starting_a_report_from_a_visit(
    visit: PremisesVisit, inspector: User, immigration_analyst: User
) -> None:
    initial = operations.visit_start_report(actor=inspector, visit=visit)
    assert initial["area"] == "NE1"
    assert initial["exploitation_types"] == ["labour"]
    assert "car wash in NE1" in initial["summary"]
    assert "Workers present: 6." in initial["summary"]
    assert "no identity documents, low or no pay, living on site" in initial["summary"]
    # The notes may name people: they stay in the full text, which never travels.
    assert "Ion" not in initial["summary"] and "Ion" not in initial["title"]
    assert "Ion" in initial["full_text"]
    # The pre-filled data is a valid report as it stands.
    fields = {k: v for k, v in initial.items() if k != "visit"}
    report = reports.report_create(actor=inspector, **fields)
    operations.visit_link(actor=inspector, visit=visit, report=report)
    visit.refresh_from_db()
    assert visit.report == report
    assert report.grading == "1/A/P"
    # Only the recording partnership's people see the visit at all.
    with pytest.raises(Http404):
        operations.visit_start_report(actor=immigration_analyst, visit=visit)


def test_starting_a_case_from_a_visit(
    visit: PremisesVisit, caseworker: User, police_officer: User
) -> None:
    initial = operations.visit_start_case(actor=caseworker, visit=visit)
    assert initial == {
        "exploitation_types": ["labour"],
        "how_identified": "inspection",
        "region": "Northshire",
        "visit": visit.pk,
    }
    case = casework_services.case_create(
        actor=caseworker, **{k: v for k, v in initial.items() if k != "visit"}
    )
    operations.visit_link(actor=caseworker, visit=visit, case=case)
    visit.refresh_from_db()
    assert visit.case == case
    other = casework_services.case_create(actor=caseworker)
    with pytest.raises(ValidationError, match="already been opened"):
        operations.visit_link(actor=caseworker, visit=visit, case=other)
    # Officers do not open cases.
    with pytest.raises(PermissionDenied):
        operations.visit_start_case(actor=police_officer, visit=visit)


def test_a_residential_visit_assumes_no_exploitation_type(caseworker: User) -> None:
    visit = operations.visit_record(
        actor=caseworker,
        premises_type="residential",
        postcode_district="NE6",
        visited_on=TODAY,
        outcome="potential_victims",
    )
    initial = operations.visit_start_case(actor=caseworker, visit=visit)
    assert initial["exploitation_types"] == []
    assert initial["how_identified"] == "ngo_outreach"


def test_a_visit_links_only_a_case_the_actor_sees_and_a_report_of_their_agency(
    visit: PremisesVisit, caseworker: User, inspector: User, analyst: User, make_report: Any
) -> None:
    case = casework_services.case_create(actor=caseworker)
    with pytest.raises(Http404):
        operations.visit_link(actor=inspector, visit=visit, case=case)
    police_report = make_report(analyst, distribution="all", tlp="CLEAR")
    with pytest.raises(PermissionDenied):
        operations.visit_link(actor=inspector, visit=visit, report=police_report)
