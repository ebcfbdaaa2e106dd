"""Re-grading a report: the originating agency only, with a reason, history kept."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from agencies.models import Agency, Role, User
from agencies.tests.factories import member
from audit.models import AuditEvent
from intelligence import reports
from intelligence.models import (
    GRADING_HELP,
    TLP,
    Distribution,
    HandlingCode,
    IntelligenceAssessment,
    SourceEvaluation,
)


def test_regrade_keeps_history_and_is_audited(make_report: Any, analyst: User) -> None:
    report = make_report(analyst)
    first = reports.report_regrade(
        actor=analyst,
        report=report,
        reason="A second source confirms it.",
        source_evaluation="1",
        intelligence_assessment="A",
    )
    second = reports.report_regrade(
        actor=analyst, report=report, reason="Wider sharing agreed.", tlp="GREEN"
    )
    report.refresh_from_db()
    assert report.grading == "1/A/P"
    assert report.tlp == "GREEN"
    history = list(report.grading_changes.all())
    assert history == [first, second]
    assert (first.old_source_evaluation, first.new_source_evaluation) == ("2", "1")
    assert (first.old_intelligence_assessment, first.new_intelligence_assessment) == ("B", "A")
    assert (first.old_tlp, first.new_tlp) == ("AMBER", "AMBER")
    assert (second.old_tlp, second.new_tlp) == ("AMBER", "GREEN")
    assert second.changed_by == analyst
    assert second.reason == "Wider sharing agreed."
    audited = AuditEvent.objects.for_target(report).filter(action="intelligence.report_regraded")
    assert sorted(e.detail["to"] for e in audited) == ["1/A/P AMBER", "1/A/P GREEN"]


def test_regrade_needs_a_reason_and_a_change(make_report: Any, analyst: User) -> None:
    report = make_report(analyst)
    with pytest.raises(ValidationError) as error:
        reports.report_regrade(actor=analyst, report=report, reason=" ", tlp="GREEN")
    assert error.value.message_dict == {"reason": ["Say why the grading changes."]}
    with pytest.raises(ValidationError, match="already"):
        reports.report_regrade(actor=analyst, report=report, reason="No change", tlp="AMBER")
    assert not report.grading_changes.exists()


def test_regrade_to_p_drops_the_conditions(make_report: Any, analyst: User) -> None:
    report = make_report(analyst, handling_code="C", handling_conditions="No onward sharing.")
    change = reports.report_regrade(
        actor=analyst, report=report, reason="Conditions lifted.", handling_code="P"
    )
    report.refresh_from_db()
    assert report.handling_conditions == ""
    assert change.old_handling_conditions == "No onward sharing."
    assert change.new_handling_code == "P"


def test_regrade_to_c_needs_conditions(make_report: Any, analyst: User) -> None:
    report = make_report(analyst)
    with pytest.raises(ValidationError) as error:
        reports.report_regrade(actor=analyst, report=report, reason="r", handling_code="C")
    assert "handling_conditions" in error.value.message_dict


def test_regrade_in_and_out_of_red(make_report: Any, analyst: User, council: Agency) -> None:
    report = make_report(analyst)
    with pytest.raises(ValidationError) as error:
        reports.report_regrade(actor=analyst, report=report, reason="r", tlp="RED")
    assert "tlp_recipients" in error.value.message_dict
    reports.report_regrade(
        actor=analyst, report=report, reason="Live operation.", tlp="RED", tlp_recipients=[council]
    )
    assert list(report.tlp_recipients.all()) == [council]
    reports.report_regrade(actor=analyst, report=report, reason="Operation over.", tlp="AMBER")
    assert not report.tlp_recipients.exists()


def test_who_may_regrade(
    make_report: Any,
    caseworker: User,
    case_manager: User,
    immigration_analyst: User,
    outside_analyst: User,
    analyst: User,
    police: Agency,
) -> None:
    report = make_report(caseworker)
    # The caseworker who wrote it may edit it, but re-grading is a supervisor's call.
    with pytest.raises(PermissionDenied, match="re-grade"):
        reports.report_regrade(actor=caseworker, report=report, reason="r", tlp="GREEN")
    # Another agency that reads it may not; one that does not read it cannot see it.
    with pytest.raises(Http404):
        reports.report_regrade(actor=outside_analyst, report=report, reason="r", tlp="GREEN")
    with pytest.raises(PermissionDenied):
        reports.report_regrade(actor=immigration_analyst, report=report, reason="r", tlp="GREEN")
    # The charity's case manager supervises its caseworkers: they re-grade its submitted
    # reports (with analysts only in intelligence agencies, nobody else there could). An
    # analyst re-grades their own agency's (here the police, whose caseworker wrote one).
    reports.report_regrade(actor=case_manager, report=report, reason="Checked.", tlp="GREEN")
    assert report.grading_changes.count() == 1
    police_report = make_report(member(police, Role.CASEWORKER))
    with pytest.raises(Http404):  # a partner's report: the case manager does not read it
        reports.report_regrade(actor=case_manager, report=police_report, reason="r", tlp="GREEN")
    reports.report_regrade(actor=analyst, report=police_report, reason="Checked.", tlp="GREEN")
    assert police_report.grading_changes.count() == 1


def test_every_code_has_inline_help() -> None:
    for name, choices in (
        ("source_evaluation", SourceEvaluation),
        ("intelligence_assessment", IntelligenceAssessment),
        ("handling_code", HandlingCode),
        ("tlp", TLP),
        ("distribution", Distribution),
    ):
        assert set(GRADING_HELP[name]) == set(choices.values), name
        assert all(str(text).strip() for text in GRADING_HELP[name].values()), name
