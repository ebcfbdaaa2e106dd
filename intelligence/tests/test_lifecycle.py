"""Writing reports: who may, what is refused and why, status moves, and the audit."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from agencies.models import Agency, Role, SharingGroup, User
from agencies.tests.factories import member
from audit.models import AuditEvent
from casework import services as casework_services
from casework.permissions import VIEW_CASE
from core.errors import IllegalTransition
from intelligence import reports
from intelligence.models import SEARCH_CONFIG, IntelligenceReport, ReportStatus
from intelligence.tests.conftest import REPORT_DEFAULTS


def errors_of(call: Any, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as error:
        call(**kwargs)
    return error.value.message_dict


def actions_on(report: IntelligenceReport) -> list[str]:
    return list(
        AuditEvent.objects.for_target(report).order_by("id").values_list("action", flat=True)
    )


@pytest.mark.parametrize("role", [Role.ANALYST, Role.OFFICER, Role.CASEWORKER, Role.CASE_MANAGER])
def test_contributors_write_drafts_for_their_agency(
    role: str, make_report: Any, police: Agency, settings: Any
) -> None:
    settings.INTELLIGENCE_REVIEW_DAYS = 90
    author = member(police, role)
    report = make_report(author, submit=False)
    assert report.status == ReportStatus.DRAFT
    assert report.originating_agency == police
    assert report.author == author
    # Due for review INTELLIGENCE_REVIEW_DAYS on, as the author named no date.
    assert report.review_on == timezone.localdate() + datetime.timedelta(days=90)
    assert report.area == "NE1"  # a postcode district, in capitals
    assert actions_on(report) == ["intelligence.report_created"]


@pytest.mark.parametrize("role", [Role.PROSECUTOR, Role.PARTNERSHIP_MANAGER, Role.AGENCY_ADMIN])
def test_other_roles_write_no_intelligence(
    role: str, make_report: Any, prosecution: Agency
) -> None:
    with pytest.raises(PermissionDenied):
        make_report(member(prosecution, role), submit=False)
    assert not IntelligenceReport.objects.exists()


def test_submitting_needs_a_summary_and_happens_once(make_report: Any, analyst: User) -> None:
    report = make_report(analyst, submit=False, summary="  ")
    assert errors_of(reports.report_submit, actor=analyst, report=report) == {
        "summary": ["Write the sanitised summary other agencies will read."]
    }
    reports.report_update(actor=analyst, report=report, summary="Workers live on site.")
    report = reports.report_submit(actor=analyst, report=report)
    assert report.status == ReportStatus.SUBMITTED
    assert report.submitted_by == analyst
    with pytest.raises(IllegalTransition):
        reports.report_submit(actor=analyst, report=report)
    assert actions_on(report) == [
        "intelligence.report_created",
        "intelligence.report_updated",
        "intelligence.report_submitted",
    ]


def test_an_archived_report_cannot_change(make_report: Any, analyst: User) -> None:
    report = make_report(analyst)
    report = reports.report_archive(actor=analyst, report=report, reason="Superseded")
    assert report.status == ReportStatus.ARCHIVED
    with pytest.raises(IllegalTransition, match="archived"):
        reports.report_update(actor=analyst, report=report, summary="new")
    with pytest.raises(IllegalTransition):
        reports.report_archive(actor=analyst, report=report)


def test_only_the_originating_agency_changes_a_report(
    make_report: Any, analyst: User, immigration_analyst: User, outside_analyst: User
) -> None:
    report = make_report(analyst)
    with pytest.raises(PermissionDenied, match="originating agency"):
        reports.report_update(actor=immigration_analyst, report=report, summary="mine now")
    with pytest.raises(Http404):
        reports.report_update(actor=outside_analyst, report=report, summary="mine now")
    with pytest.raises(PermissionDenied):
        reports.report_archive(actor=immigration_analyst, report=report)
    report.refresh_from_db()
    assert report.summary == REPORT_DEFAULTS["summary"]


def test_a_contributor_changes_only_their_own_reports(
    make_report: Any, caseworker: User, other_caseworker: User, analyst: User, police: Agency
) -> None:
    report = make_report(caseworker, submit=False)
    with pytest.raises(Http404):
        reports.report_update(actor=other_caseworker, report=report, summary="x")
    # An analyst reads, changes and submits what their own agency's caseworkers wrote
    # (analysts work only where intelligence is the work: here, the police).
    draft = make_report(member(police, Role.CASEWORKER), submit=False)
    reports.report_update(actor=analyst, report=draft, summary="Checked and sanitised.")
    reports.report_submit(actor=analyst, report=draft)
    draft.refresh_from_db()
    assert (draft.summary, draft.status) == ("Checked and sanitised.", ReportStatus.SUBMITTED)


def test_a_submitted_reports_grading_changes_only_by_regrade(
    make_report: Any, analyst: User
) -> None:
    report = make_report(analyst)
    errors = errors_of(
        reports.report_update, actor=analyst, report=report, tlp="GREEN", source_evaluation="1"
    )
    assert set(errors) == {"tlp", "source_evaluation"}
    assert "Re-grade" in errors["tlp"][0]
    # Sending the current grading back unchanged (a whole form) is fine.
    reports.report_update(actor=analyst, report=report, tlp="AMBER", summary="Updated.")
    report.refresh_from_db()
    assert report.summary == "Updated."


def test_a_drafts_grading_is_simply_edited(make_report: Any, analyst: User) -> None:
    report = make_report(analyst, submit=False)
    reports.report_update(actor=analyst, report=report, source_evaluation="1", tlp="GREEN")
    report.refresh_from_db()
    assert report.grading == "1/B/P"
    assert not report.grading_changes.exists()


def test_handling_code_c_needs_conditions_and_p_has_none(make_report: Any, analyst: User) -> None:
    assert errors_of(
        reports.report_create, actor=analyst, **{**REPORT_DEFAULTS, "handling_code": "C"}
    ) == {"handling_conditions": ["Handling code C needs the conditions written."]}
    assert errors_of(
        reports.report_create,
        actor=analyst,
        **{**REPORT_DEFAULTS, "handling_conditions": "Do not disclose."},
    ) == {"handling_conditions": ["Conditions go with handling code C; choose C or remove them."]}


def test_the_database_refuses_c_without_conditions(analyst: User, police: Agency) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        IntelligenceReport.objects.create(
            originating_agency=police,
            author=analyst,
            title="t",
            source_evaluation="1",
            intelligence_assessment="A",
            handling_code="C",
            handling_conditions="",
            tlp="AMBER",
            distribution="agency",
            review_on=datetime.date(2030, 1, 1),
        )


def test_bad_grading_values_are_field_errors(make_report: Any, analyst: User) -> None:
    errors = errors_of(
        reports.report_create,
        actor=analyst,
        **{
            **REPORT_DEFAULTS,
            "source_evaluation": "4",
            "intelligence_assessment": "F",
            "tlp": "PURPLE",
            "distribution": "everyone",
            "exploitation_types": ["labour", "piracy"],
            "title": " ",
        },
    )
    assert set(errors) == {
        "source_evaluation",
        "intelligence_assessment",
        "tlp",
        "distribution",
        "exploitation_types",
        "title",
    }
    assert errors["exploitation_types"] == ["Unknown exploitation type: piracy"]
    assert errors["title"] == ["Give the report a title."]


def test_sharing_group_distribution(
    make_report: Any, analyst: User, cell: SharingGroup, outside_police: Agency
) -> None:
    assert "sharing_group" in errors_of(
        reports.report_create,
        actor=analyst,
        **{**REPORT_DEFAULTS, "distribution": "sharing_group"},
    )
    # A group the police neither own nor belong to does not exist for them.
    foreign = SharingGroup.objects.create(name="Southshire cell", owner=outside_police)
    assert errors_of(
        reports.report_create,
        actor=analyst,
        **{**REPORT_DEFAULTS, "distribution": "sharing_group", "sharing_group": foreign},
    ) == {"sharing_group": ["Choose a sharing group your agency owns or belongs to."]}
    report = make_report(analyst, distribution="sharing_group", sharing_group=cell.pk)
    assert report.sharing_group == cell
    # Widening the distribution drops the group.
    reports.report_update(actor=analyst, report=report, distribution="all")
    report.refresh_from_db()
    assert report.sharing_group is None


def test_tlp_red_names_recipients_within_the_distribution(
    make_report: Any,
    analyst: User,
    council: Agency,
    inspectorate: Agency,
    outside_police: Agency,
    police: Agency,
) -> None:
    red = {**REPORT_DEFAULTS, "tlp": "RED"}
    assert errors_of(reports.report_create, actor=analyst, **red) == {
        "tlp_recipients": ["Name the agencies that may read a TLP:RED report."]
    }
    assert errors_of(
        reports.report_create, actor=analyst, **{**red, "tlp_recipients": [outside_police]}
    ) == {
        "tlp_recipients": [
            "The distribution does not reach Southshire Police: widen the distribution or "
            "name other agencies."
        ]
    }
    assert (
        "own agency"
        in errors_of(reports.report_create, actor=analyst, **{**red, "tlp_recipients": [police]})[
            "tlp_recipients"
        ][0]
    )
    assert errors_of(
        reports.report_create,
        actor=analyst,
        **{**REPORT_DEFAULTS, "tlp_recipients": [council]},
    ) == {"tlp_recipients": ["Name recipient agencies only for TLP:RED."]}
    assert (
        "not an id"
        in errors_of(
            reports.report_create, actor=analyst, **{**red, "tlp_recipients": ["council"]}
        )["tlp_recipients"][0]
    )
    report = make_report(analyst, tlp="RED", tlp_recipients=[council.pk, inspectorate])
    assert set(report.tlp_recipients.all()) == {council, inspectorate}


def test_review_date_cannot_be_in_the_past(analyst: User) -> None:
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    assert errors_of(
        reports.report_create, actor=analyst, **{**REPORT_DEFAULTS, "review_on": yesterday}
    ) == {"review_on": ["The review date cannot be in the past."]}


def test_only_cases_the_author_can_see_are_linked(
    make_report: Any, caseworker: User, analyst: User
) -> None:
    case = casework_services.case_create(actor=caseworker)
    assert errors_of(
        reports.report_create, actor=analyst, **{**REPORT_DEFAULTS, "linked_cases": [case.pk]}
    ) == {"linked_cases": ["You can link only cases you can see."]}
    report = make_report(caseworker, linked_cases=[case.pk])
    assert list(report.linked_cases.all()) == [case]


def test_search_vector_covers_title_and_summary_only(make_report: Any, analyst: User) -> None:
    report = make_report(analyst, title="Nail bar on Market Street")

    def found(words: str) -> bool:
        query = SearchQuery(words, config=SEARCH_CONFIG)
        return IntelligenceReport.objects.filter(pk=report.pk, search_vector=query).exists()

    assert found("nail bars")  # title, stemmed
    assert found("wages")  # summary
    assert not found("passports")  # full text: never searchable
    assert not found("informant")  # source
    reports.report_update(actor=analyst, report=report, summary="Passports are held back.")
    assert found("passports")  # kept up to date by PostgreSQL itself


def test_links_to_cases_the_editor_cannot_see_are_kept(
    make_report: Any, analyst: User, police: Agency, council: Agency
) -> None:
    from agencies import access

    council_worker = member(council, Role.CASEWORKER)
    council_case = casework_services.case_create(actor=council_worker)
    police_worker = member(police, Role.CASEWORKER)
    # The council lets this one police caseworker (not her agency) see its case.
    access.grant(
        actor=council_worker,
        obj=council_case,
        perms=[VIEW_CASE],
        reason=council_case,
        user=police_worker,
    )
    report = make_report(police_worker, submit=False, linked_cases=[council_case])
    # Her agency's analyst edits the draft but cannot see the council's case.
    with pytest.raises(ValidationError):
        reports.report_update(actor=analyst, report=report, linked_cases=[council_case])
    reports.report_update(actor=analyst, report=report, linked_cases=[])
    assert list(report.linked_cases.all()) == [council_case]
