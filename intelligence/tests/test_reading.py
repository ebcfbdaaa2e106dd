"""Reading a report: what each reader gets, the conditions first, and the audit of it all."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from agencies import access
from agencies.models import User
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from casework import services as casework_services
from intelligence import reads, reports
from intelligence.models import ConditionsAcknowledgement

CONDITIONS = "Not to be disclosed to the employer; police contact before any visit."


def audited_reads(user: User, report: Any) -> list[dict[str, Any]]:
    return list(
        AuditEvent.objects.for_target(report)
        .filter(action="intelligence.report_viewed", actor=user)
        .order_by("id")
        .values_list("detail", flat=True)
    )


def test_another_agency_never_gets_the_full_text_or_the_source(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    report = make_report(analyst, entities=[{"kind": "phone", "value": "07911 123456"}])
    reading = reads.report_read(immigration_analyst, report)
    assert reading.level == "summary"
    assert reading.data["summary"] == report.summary
    assert reading.data["entities"] == [{"kind": "phone", "value": "07911 123456"}]
    for hidden in (
        "full_text",
        "source_description",
        "author",
        "tlp_recipients",
        "grading_changes",
    ):
        assert hidden not in reading.data
    assert "SECRET-SOURCE-42" not in repr(reading.data)
    assert audited_reads(immigration_analyst, report) == [{"level": "summary"}]


def test_the_originating_agency_reads_everything(
    make_report: Any, analyst: User, police_officer: User
) -> None:
    report = make_report(analyst)
    reading = reads.report_read(police_officer, report)
    assert reading.level == "full"
    assert "SECRET-SOURCE-42" in reading.data["full_text"]
    assert "SECRET-SOURCE-42" in reading.data["source_description"]
    assert reading.data["author"] == analyst
    assert audited_reads(police_officer, report) == [{"level": "full"}]


def test_a_report_outside_the_audience_is_404_and_the_attempt_audited(
    make_report: Any, analyst: User, outside_analyst: User
) -> None:
    report = make_report(analyst)
    with pytest.raises(Http404):
        reads.report_read(outside_analyst, report)
    with pytest.raises(Http404):
        reads.report_get(outside_analyst, report.pk)
    denied = AuditEvent.objects.for_target(report).filter(action=AuthAction.ACCESS_DENIED)
    assert denied.filter(actor=outside_analyst).count() == 2
    assert audited_reads(outside_analyst, report) == []


def test_report_get_answers_404_for_nonsense_and_missing_ids(analyst: User) -> None:
    for pk in ("abc", 999999, None):
        with pytest.raises(Http404):
            reads.report_get(analyst, pk)


def test_a_c_report_shows_its_conditions_first(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    report = make_report(
        analyst,
        handling_code="C",
        handling_conditions=CONDITIONS,
        entities=[{"kind": "vehicle", "value": "AB12 CDE"}],
    )
    first = reads.report_read(immigration_analyst, report)
    assert first.must_acknowledge
    assert first.data["handling_conditions"] == CONDITIONS
    assert "summary" not in first.data
    assert "entities" not in first.data
    assert "linked_cases" not in first.data
    assert report.summary not in repr(first.data)

    acknowledgement = reports.acknowledge_conditions(actor=immigration_analyst, report=report)
    assert acknowledgement.conditions == CONDITIONS
    then = reads.report_read(immigration_analyst, report)
    assert then.level == "summary"
    assert then.data["summary"] == report.summary
    assert audited_reads(immigration_analyst, report) == [
        {"level": "conditions", "conditions_version": 1},
        {"level": "summary", "conditions_version": 1},
    ]


def test_acknowledging_is_audited_once_and_idempotent(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    report = make_report(analyst, handling_code="C", handling_conditions=CONDITIONS)
    first = reports.acknowledge_conditions(actor=immigration_analyst, report=report)
    again = reports.acknowledge_conditions(actor=immigration_analyst, report=report)
    assert first.pk == again.pk
    audited = AuditEvent.objects.for_target(report).filter(
        action="intelligence.conditions_acknowledged"
    )
    assert list(audited.values_list("actor", "detail")) == [
        (immigration_analyst.pk, {"conditions_version": 1})
    ]


def test_each_reader_acknowledges_for_themselves(
    make_report: Any, analyst: User, immigration_analyst: User, immigration: Any
) -> None:
    from agencies.models import Role
    from agencies.tests.factories import member

    colleague = member(immigration, Role.ANALYST)
    report = make_report(analyst, handling_code="C", handling_conditions=CONDITIONS)
    reports.acknowledge_conditions(actor=immigration_analyst, report=report)
    assert reads.report_read(colleague, report).must_acknowledge


def test_new_conditions_must_be_acknowledged_again(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    report = make_report(analyst, handling_code="C", handling_conditions=CONDITIONS)
    reports.acknowledge_conditions(actor=immigration_analyst, report=report)
    reports.report_regrade(
        actor=analyst,
        report=report,
        reason="The employer has been arrested.",
        handling_conditions="Police contact before any visit.",
    )
    report.refresh_from_db()
    assert report.conditions_version == 2
    assert reads.report_read(immigration_analyst, report).must_acknowledge
    reports.acknowledge_conditions(actor=immigration_analyst, report=report)
    assert reads.report_read(immigration_analyst, report).level == "summary"
    assert ConditionsAcknowledgement.objects.filter(user=immigration_analyst).count() == 2


def test_the_originating_agency_needs_no_acknowledgement(
    make_report: Any, analyst: User, police_officer: User
) -> None:
    report = make_report(analyst, handling_code="C", handling_conditions=CONDITIONS)
    assert reads.report_read(police_officer, report).level == "full"
    with pytest.raises(ValidationError) as error:
        reports.acknowledge_conditions(actor=police_officer, report=report)
    assert "no acknowledgement" in str(error.value)


def test_a_p_report_has_nothing_to_acknowledge(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    report = make_report(analyst)
    with pytest.raises(ValidationError) as error:
        reports.acknowledge_conditions(actor=immigration_analyst, report=report)
    assert error.value.message_dict == {
        "handling_conditions": ["This report has no handling conditions to acknowledge."]
    }


def test_acknowledging_outside_the_audience_is_404(
    make_report: Any, analyst: User, outside_analyst: User
) -> None:
    report = make_report(analyst, handling_code="C", handling_conditions=CONDITIONS)
    with pytest.raises(Http404):
        reports.acknowledge_conditions(actor=outside_analyst, report=report)
    assert not ConditionsAcknowledgement.objects.exists()


def test_a_linked_case_shows_only_to_readers_who_can_see_the_case(
    make_report: Any,
    caseworker: User,
    analyst: User,
    immigration_analyst: User,
    police: Any,
) -> None:
    case = casework_services.case_create(actor=caseworker, exploitation_types=["labour"])
    report = make_report(caseworker, linked_cases=[case])
    # The police see the case (say, a referral was accepted); the immigration service
    # does not.
    access.grant(
        actor=caseworker, obj=case, perms=["casework.view_case"], reason=case, agency=police
    )
    assert reads.report_read(analyst, report).data["linked_cases"] == [case]
    assert reads.report_read(immigration_analyst, report).data["linked_cases"] == []
    assert reads.report_read(caseworker, report).data["linked_cases"] == [case]


def test_lists_know_in_the_same_query_whose_conditions_wait(
    make_report: Any,
    analyst: User,
    immigration_analyst: User,
    django_assert_num_queries: Any,
) -> None:
    from intelligence.audience import readable_reports, with_reader_state

    plain = make_report(analyst)
    conditional = make_report(analyst, handling_code="C", handling_conditions=CONDITIONS)
    acknowledged = make_report(analyst, handling_code="C", handling_conditions=CONDITIONS)
    reports.acknowledge_conditions(actor=immigration_analyst, report=acknowledged)

    def states(user: User) -> dict[int, tuple[bool, bool]]:
        rows = with_reader_state(readable_reports(user), user)
        return {r.pk: (r.reader_is_originating, r.reader_must_acknowledge) for r in rows}

    with django_assert_num_queries(1):
        partner = states(immigration_analyst)
    assert partner == {
        plain.pk: (False, False),
        conditional.pk: (False, True),
        acknowledged.pk: (False, False),
    }
    assert set(states(analyst).values()) == {(True, False)}
