"""Rules that cut across the intelligence app's pages, API and services.

What never leaks (a summary's words through search, a visit's notes, a linked record the
reader may not see); which acknowledgement counts; who may widen a report's readers;
what the audit trail records of every read; and bad input that answers 4xx, never 500.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import Agency, User
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from casework import services as casework
from core.errors import IllegalTransition
from intelligence import operations, reports
from intelligence.models import (
    ConditionsAcknowledgement,
    GradingChange,
    Match,
    Operation,
    PremisesVisit,
    ReportStatus,
)
from intelligence.search import search_reports

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/intelligence/"
MATCHES = "/api/v1/intelligence/matches/"
TODAY = timezone.localdate()
NOTES = "Worker Ion P. said the boss keeps his passport."


def detail(report: Any) -> str:
    return f"{REPORTS}{report.pk}/"


@pytest.fixture
def operation(police_officer: User, immigration: Agency, partnership: Any) -> Operation:
    """Led by the police, with the immigration service as a partner."""
    return operations.operation_create(
        actor=police_officer,
        name="Operation Review",
        starts_on=TODAY - datetime.timedelta(days=7),
        partner_agencies=[immigration],
    )


@pytest.fixture
def immigration_visit(operation: Operation, immigration_analyst: User) -> PremisesVisit:
    """The immigration service's visit in the police's operation, with notes that name a
    worker."""
    return operations.visit_record(
        actor=immigration_analyst,
        operation=operation,
        premises_type="car_wash",
        postcode_district="NE1",
        visited_on=TODAY,
        outcome="potential_victims",
        notes=NOTES,
    )


# --- What never leaks ---------------------------------------------------------------


def test_search_negation_does_not_reveal_words_of_an_unacknowledged_summary(
    api: Any, analyst: User, immigration_analyst: User, make_report: Any
) -> None:
    # A C report whose conditions the reader has not acknowledged is matched on its title
    # alone. Requiring a title+summary match as well would leak through negation:
    # "car -passports" would miss the report exactly when its summary says passports.
    report = make_report(
        analyst,
        title="Car wash on the high street",
        summary="Workers hand over their passports to the boss.",
        handling_code="C",
        handling_conditions="Call the force intelligence desk first.",
    )
    client = api(immigration_analyst)

    def found(words: str) -> bool:
        response = client.get(REPORTS, {"q": words})
        assert response.status_code == 200
        return report.pk in [row["id"] for row in response.json()["results"]]

    assert found("car")
    assert found("car -bananas")
    # The title alone says nothing about passports: the answer must be the same.
    assert found("car -passports")
    assert not found("passports")
    # Once acknowledged, the summary is the reader's and is searched like any other.
    reports.acknowledge_conditions(actor=immigration_analyst, report=report)
    assert found("passports") and not found("car -passports")


def test_the_search_keeps_to_its_full_text_indexes(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    # Matching unacknowledged C reports on their title alone must not cost a scan of
    # every report: each side of the OR has a GIN index (the partial one on C reports'
    # titles), so PostgreSQL combines the two in a BitmapOr.
    seed = make_report(analyst, title="Car wash 0", handling_code="C", handling_conditions="x")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO intelligence_intelligencereport (
                originating_agency_id, author_id, title, summary, full_text,
                source_description, source_evaluation, intelligence_assessment,
                handling_code, handling_conditions, conditions_version, tlp, distribution,
                exploitation_types, area, status, review_on, created_at, updated_at,
                submitted_at, submitted_by_id)
            SELECT originating_agency_id, author_id, 'Report ' || md5(g::text),
                'Summary ' || md5((g * 7)::text), '', '', source_evaluation,
                intelligence_assessment,
                CASE WHEN g %% 10 = 0 THEN 'C' ELSE 'P' END,
                CASE WHEN g %% 10 = 0 THEN 'Call first.' ELSE '' END,
                1, tlp, distribution, exploitation_types, area, status, review_on,
                created_at, updated_at, submitted_at, submitted_by_id
            FROM intelligence_intelligencereport, generate_series(1, 5000) AS g
            WHERE id = %s
            """,
            [seed.pk],
        )
        cursor.execute("ANALYZE intelligence_intelligencereport")
    for words in ("car wash", "car -passports"):
        _filterset, results = search_reports(immigration_analyst, {"q": words})
        sql, params = results.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "intelligence_search_idx" in plan, plan
        assert "intel_c_title_search_idx" in plan, plan
        assert [row.pk for row in results] == [seed.pk]


def test_a_partner_agency_does_not_read_another_agencys_visit_notes_in_the_browser(
    login: Any,
    api: Any,
    immigration_visit: PremisesVisit,
    operation: Operation,
    police_officer: User,
    immigration_analyst: User,
) -> None:
    # A visit's notes may name people: only the visiting agency reads them, in the API
    # and on the visit's page alike.
    [row] = api(police_officer).get(f"/api/v1/operations/{operation.pk}/visits/").json()["results"]
    assert "notes" not in row

    page = login(police_officer).get(f"/intelligence/visits/{immigration_visit.pk}/")
    assert page.status_code == 200
    assert "Ion P." not in page.content.decode()
    assert "Read by Northshire Immigration Enforcement only" in page.content.decode()

    own = login(immigration_analyst).get(f"/intelligence/visits/{immigration_visit.pk}/")
    assert "Ion P." in own.content.decode()


def test_the_report_form_from_another_agencys_visit_does_not_carry_its_notes(
    login: Any, immigration_visit: PremisesVisit, police_officer: User, immigration_analyst: User
) -> None:
    # Same rule, second path: "start a report" from a visit puts its notes in the full
    # text only for the visiting agency; another agency starts with an empty full text.
    form = login(police_officer).get(f"/intelligence/visits/{immigration_visit.pk}/start-report/")
    assert form.status_code == 200
    assert "Ion P." not in form.content.decode()
    assert (
        operations.visit_start_report(actor=police_officer, visit=immigration_visit)["full_text"]
        == ""
    )

    own = operations.visit_start_report(actor=immigration_analyst, visit=immigration_visit)
    assert own["full_text"] == NOTES


def test_a_visit_names_its_case_and_report_only_to_who_may_see_them(
    api: Any,
    immigration_visit: PremisesVisit,
    operation: Operation,
    police_officer: User,
    immigration_analyst: User,
    immigration_caseworker: User,
    make_report: Any,
) -> None:
    # As on the visit's page: the API names a linked case or report only to a reader who
    # may see it; otherwise the field is absent (null when nothing was linked).
    case = casework.case_create(actor=immigration_caseworker)
    operations.visit_link(actor=immigration_caseworker, visit=immigration_visit, case=case)
    report = make_report(immigration_analyst, distribution="agency")
    operations.visit_link(actor=immigration_analyst, visit=immigration_visit, report=report)
    operations.visit_record(
        actor=police_officer,
        operation=operation,
        premises_type="nail_bar",
        postcode_district="NE2",
        visited_on=TODAY,
        outcome="no_concerns",
    )
    url = f"/api/v1/operations/{operation.pk}/visits/"

    def rows(user: User) -> dict[str, dict[str, Any]]:
        found = api(user).get(url).json()["results"]
        return {row["postcode_district"]: row for row in found}

    police = rows(police_officer)
    assert "case" not in police["NE1"] and "report" not in police["NE1"]
    assert police["NE2"]["case"] is None and police["NE2"]["report"] is None

    partner = rows(immigration_analyst)
    assert (partner["NE1"]["case"], partner["NE1"]["report"]) == (case.pk, report.pk)

    caseworker = rows(immigration_caseworker)
    assert caseworker["NE1"]["case"] == case.pk
    assert "report" not in caseworker["NE1"]  # a contributor reads only their own

    # What each row may show is answered in the list's own query: no query per visit.
    client = api(police_officer)

    def count() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = count()
    for district in ("NE3", "NE4", "NE5"):
        operations.visit_record(
            actor=police_officer,
            operation=operation,
            premises_type="nail_bar",
            postcode_district=district,
            visited_on=TODAY,
            outcome="no_concerns",
        )
    assert count() == few


# --- Conditions and who reads ---------------------------------------------------------


def test_an_acknowledgement_is_of_the_conditions_the_reader_was_shown(
    login: Any, analyst: User, immigration_analyst: User, make_report: Any
) -> None:
    # The page posts the version of the conditions it showed. If the report was
    # re-graded to new conditions in between, nothing is acknowledged: the reader is
    # shown the new conditions and acknowledges those.
    report = make_report(analyst, handling_code="C", handling_conditions="Version one.")
    reader = login(immigration_analyst)
    shown = reader.get(f"/intelligence/{report.pk}/").content.decode()
    assert "Version one." in shown and "I acknowledge these conditions" in shown
    assert 'name="conditions_version" value="1"' in shown

    reports.report_regrade(
        actor=analyst,
        report=report,
        reason="Tighter handling",
        handling_conditions="Version two: do not act without the force's written consent.",
    )
    refused = reader.post(f"/intelligence/{report.pk}/acknowledge/", {"conditions_version": "1"})
    assert refused["Location"] == f"/intelligence/{report.pk}/"
    assert not ConditionsAcknowledgement.objects.filter(user=immigration_analyst).exists()

    again = reader.get(f"/intelligence/{report.pk}/").content.decode()
    assert "The conditions changed since you read them: read them again." in again
    assert "Version two" in again and 'name="conditions_version" value="2"' in again
    assert report.summary not in again

    reader.post(f"/intelligence/{report.pk}/acknowledge/", {"conditions_version": "2"})
    [acknowledgement] = ConditionsAcknowledgement.objects.filter(user=immigration_analyst)
    assert acknowledgement.conditions_version == 2
    assert acknowledgement.conditions.startswith("Version two")


def test_the_page_acknowledges_nothing_without_the_version_it_showed(
    login: Any, analyst: User, immigration_analyst: User, make_report: Any
) -> None:
    report = make_report(analyst, handling_code="C", handling_conditions="Call first.")
    reader = login(immigration_analyst)
    for data in ({}, {"conditions_version": "²"}, {"conditions_version": "one"}):
        response = reader.post(f"/intelligence/{report.pk}/acknowledge/", data)
        assert response.status_code == 302
    assert not ConditionsAcknowledgement.objects.exists()


def test_the_api_acknowledges_the_version_sent_or_the_current_one(
    api: Any, analyst: User, immigration_analyst: User, inspector: User, make_report: Any
) -> None:
    # The version is optional for an API client (the answer shows what was accepted),
    # but when sent it must be the current one: otherwise a 409 and nothing recorded.
    report = make_report(analyst, handling_code="C", handling_conditions="Version one.")
    reports.report_regrade(
        actor=analyst, report=report, reason="Tighter", handling_conditions="Version two."
    )
    client = api(immigration_analyst)
    url = f"{detail(report)}acknowledge-conditions/"

    stale = client.post(url, {"conditions_version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json() == {
        "detail": "The conditions changed since you read them: read them again."
    }
    assert not ConditionsAcknowledgement.objects.exists()
    assert client.post(url, {"conditions_version": 0}, format="json").status_code == 400

    accepted = client.post(url, {"conditions_version": 2}, format="json")
    assert accepted.status_code == 200 and accepted.json()["summary"] == report.summary
    unversioned = api(inspector).post(url)
    assert unversioned.status_code == 200 and unversioned.json()["level"] == "summary"
    assert set(
        ConditionsAcknowledgement.objects.values_list("user__username", "conditions_version")
    ) == {("immigration-analyst", 2), ("inspector", 2)}


def test_the_service_refuses_an_acknowledgement_of_stale_conditions(
    analyst: User, immigration_analyst: User, make_report: Any
) -> None:
    report = make_report(analyst, handling_code="C", handling_conditions="Version one.")
    reports.report_regrade(
        actor=analyst, report=report, reason="Tighter", handling_conditions="Version two."
    )
    # ``report`` is the reader's stale copy (version 1): the row lock reads version 2.
    with pytest.raises(IllegalTransition, match="read them again"):
        reports.acknowledge_conditions(
            actor=immigration_analyst, report=report, conditions_version=1
        )
    acknowledgement = reports.acknowledge_conditions(
        actor=immigration_analyst, report=report, conditions_version=2
    )
    assert acknowledgement.conditions == "Version two."


def test_a_contributor_cannot_widen_a_red_reports_readers_without_a_regrade(
    api: Any,
    caseworker: User,
    council: Agency,
    police: Agency,
    analyst: User,
    make_report: Any,
) -> None:
    # On a submitted report, the named recipients of TLP:RED are grading: naming another
    # agency widens who reads it as surely as a new colour does. So it takes a re-grade
    # (a reason, the history, a role that grades), in the API as in the browser.
    report = make_report(caseworker, tlp="RED", tlp_recipients=[council])
    assert report.status == ReportStatus.SUBMITTED
    assert api(analyst).get(detail(report)).status_code == 404
    client = api(caseworker)
    widened = {"tlp_recipients": [council.pk, police.pk]}

    response = client.patch(detail(report), widened, format="json")
    assert response.status_code == 400, response.content
    assert "tlp_recipients" in response.json()["regrade_reason"][0]
    with_reason = client.patch(
        detail(report), {**widened, "regrade_reason": "The police act on it"}, format="json"
    )
    assert with_reason.status_code == 403  # caseworkers never re-grade
    assert api(analyst).get(detail(report)).status_code == 404
    # Sending the recipients it has already is no change at all.
    same = client.patch(detail(report), {"tlp_recipients": [council.pk]}, format="json")
    assert same.status_code == 200
    # The service refuses too, whoever calls it.
    with pytest.raises(ValidationError) as error:
        reports.report_update(actor=caseworker, report=report, tlp_recipients=[council, police])
    assert "tlp_recipients" in error.value.message_dict
    assert not GradingChange.objects.exists()


def test_a_red_reports_recipients_change_by_a_regrade_through_the_api(
    api: Any, analyst: User, council: Agency, inspectorate: Agency, make_report: Any
) -> None:
    report = make_report(analyst, tlp="RED", tlp_recipients=[council])
    response = api(analyst).patch(
        detail(report),
        {"tlp_recipients": [council.pk, inspectorate.pk], "regrade_reason": "Joint visit"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert {a["id"] for a in response.json()["tlp_recipients"]} == {council.pk, inspectorate.pk}
    [change] = GradingChange.objects.filter(report=report)
    assert change.reason == "Joint visit"
    regraded = AuditEvent.objects.for_target(report).get(action="intelligence.report_regraded")
    assert regraded.detail["recipients_to"] == sorted([council.pk, inspectorate.pk])


def test_a_draft_is_edited_not_regraded(login: Any, analyst: User, make_report: Any) -> None:
    # A draft has been read by nobody outside its agency: its grading is edited with the
    # rest of it. Re-grading it (which keeps history for readers' sake) is refused.
    draft = make_report(analyst, submit=False)
    with pytest.raises(IllegalTransition, match="edit the draft instead"):
        reports.report_regrade(actor=analyst, report=draft, reason="r", tlp="GREEN")

    client = login(analyst)
    page = client.get(f"/intelligence/{draft.pk}/regrade/")
    assert page["Location"] == f"/intelligence/{draft.pk}/edit/"
    posted = client.post(
        f"/intelligence/{draft.pk}/regrade/",
        {
            "source_evaluation": "1",
            "intelligence_assessment": "A",
            "handling_code": "P",
            "tlp": "GREEN",
            "reason": "Checked",
        },
    )
    assert posted["Location"] == f"/intelligence/{draft.pk}/edit/"
    draft.refresh_from_db()
    assert draft.tlp == "AMBER" and not GradingChange.objects.exists()
    # Edited, it changes freely.
    reports.report_update(actor=analyst, report=draft, tlp="GREEN")
    draft.refresh_from_db()
    assert draft.tlp == "GREEN"


def test_reports_of_a_deactivated_agency_stay_readable_by_their_audience(
    api: Any, analyst: User, immigration_analyst: User, police: Agency, make_report: Any
) -> None:
    # Intelligence stays valid when the agency that wrote it closes: its audience keeps
    # reading it. The closed agency's own people lose access with their membership.
    report = make_report(analyst)
    police.active = False
    police.save(update_fields=["active"])

    reader = api(immigration_analyst)
    assert reader.get(detail(report)).status_code == 200
    assert [row["id"] for row in reader.get(REPORTS).json()["results"]] == [report.pk]
    closed = api(analyst)
    assert closed.get(REPORTS).status_code == 403
    assert closed.get(detail(report)).status_code == 403  # no role any more, as in the list


def test_a_match_leaves_the_inbox_once_the_other_report_is_archived(
    api: Any, analyst: User, caseworker: User, make_report: Any
) -> None:
    # The police were told because they could read Harbour's report; once Harbour
    # archives it, no other agency reads it, and the match is no longer theirs to see
    # (a match follows the audience rule, now as well as when it was made).
    phone = [{"kind": "phone", "value": "07911 123456"}]
    make_report(analyst, distribution="agency", entities=phone)
    harbour_report = make_report(caseworker, entities=phone)
    match = Match.objects.get()
    assert [row["id"] for row in api(analyst).get(MATCHES).json()["results"]] == [match.pk]
    reports.report_archive(actor=caseworker, report=harbour_report, reason="Closed")

    assert api(analyst).get(MATCHES).json()["results"] == []
    assert api(analyst).get(f"{MATCHES}{match.pk}/").status_code == 404


# --- The audit trail ------------------------------------------------------------------


def test_reading_summaries_in_a_list_is_audited_per_report(
    api: Any, login: Any, analyst: User, immigration_analyst: User, make_report: Any
) -> None:
    # A list shows summaries, so the trail names the reports on the page given (like
    # "intelligence.matches_listed"): "who read report X" has an answer for lists too.
    older = make_report(analyst, title="Older")
    newer = make_report(analyst, title="Newer")
    rows = api(immigration_analyst).get(REPORTS, {"page_size": 1}).json()["results"]
    assert [row["id"] for row in rows] == [newer.pk] and rows[0]["summary"] == newer.summary
    [event] = AuditEvent.objects.filter(action="intelligence.searched", actor=immigration_analyst)
    assert event.detail["report_ids"] == [newer.pk] and event.detail["results"] == 2

    login(immigration_analyst).get("/intelligence/", {"page_size": 1, "page": 2})
    latest = AuditEvent.objects.filter(action="intelligence.searched").latest("id")
    assert latest.detail["report_ids"] == [older.pk]


def test_a_403_from_a_service_in_the_api_is_audited(
    api: Any, caseworker: User, make_report: Any
) -> None:
    # Django's PermissionDenied raised by a service becomes a 403 in the API like DRF's
    # own, and is audited like it (authorization failures are logged).
    report = make_report(caseworker)
    response = api(caseworker).patch(
        detail(report), {"tlp": "GREEN", "regrade_reason": "Less sensitive"}, format="json"
    )
    assert response.status_code == 403
    event = AuditEvent.objects.filter(action=AuthAction.ACCESS_FORBIDDEN, actor=caseworker).latest(
        "id"
    )
    assert event.detail == {"path": detail(report), "method": "PATCH"}


def test_reading_operations_and_visits_is_audited(
    api: Any,
    login: Any,
    immigration_visit: PremisesVisit,
    operation: Operation,
    police_officer: User,
) -> None:
    # Every page or list of operations and visits writes one event naming what was
    # shown, by id: never a visit's notes.
    def last(action: str) -> AuditEvent:
        return AuditEvent.objects.filter(action=action, actor=police_officer).latest("id")

    browser = login(police_officer)
    browser.get("/intelligence/operations/")
    assert last("intelligence.operations_listed").detail == {"operation_ids": [operation.pk]}
    browser.get(f"/intelligence/operations/{operation.pk}/")
    viewed = last("intelligence.operation_viewed")
    assert (viewed.target_id, viewed.detail) == (
        str(operation.pk),
        {"visit_ids": [immigration_visit.pk]},
    )
    browser.get(f"/intelligence/visits/{immigration_visit.pk}/")
    visit_viewed = last("intelligence.visit_viewed")
    assert (visit_viewed.target_id, visit_viewed.detail) == (
        str(immigration_visit.pk),
        {"operation_id": operation.pk, "notes_shown": False},
    )

    client = api(police_officer)
    client.get("/api/v1/operations/")
    assert last("intelligence.operations_listed").detail == {"operation_ids": [operation.pk]}
    client.get(f"/api/v1/operations/{operation.pk}/visits/")
    listed = last("intelligence.visits_listed")
    assert (listed.target_id, listed.detail) == (
        str(operation.pk),
        {"visit_ids": [immigration_visit.pk]},
    )
    trail = AuditEvent.objects.filter(actor=police_officer)
    assert not any("Ion" in str(event.detail) for event in trail)


# --- Query counts ---------------------------------------------------------------------


def test_the_grading_change_admin_list_is_not_n_plus_1(
    login: Any, analyst: User, make_report: Any
) -> None:
    root = User.objects.create_superuser("root", "root@example.org", "a-long-password-1")

    def regraded(n: int) -> None:
        for _ in range(n):
            report = make_report(analyst)
            reports.report_regrade(actor=analyst, report=report, reason="x", tlp="GREEN")

    def count() -> int:
        client = login(root)
        client.get("/admin/intelligence/gradingchange/")
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/admin/intelligence/gradingchange/").status_code == 200
        return len(captured)

    regraded(1)
    few = count()
    regraded(4)
    assert count() == few


# --- Bad input: 4xx, never 500 --------------------------------------------------------


@pytest.mark.parametrize("report_id", ["²", "99999999999999999999"])
@pytest.mark.parametrize("path", ["{}{}/", "{}{}/acknowledge-conditions/"])
def test_an_id_that_is_no_report_id_is_a_404(
    api: Any, analyst: User, make_report: Any, path: str, report_id: str
) -> None:
    # "²".isdigit() is true but int("²") fails: ids are ASCII digits (report_fields.as_id).
    make_report(analyst)
    client = api(analyst)
    client.raise_request_exception = False
    method = client.post if "acknowledge" in path else client.get
    assert method(path.format(REPORTS, report_id)).status_code == 404


@pytest.mark.parametrize("operation_id", ["²", "99999999999999999999"])
def test_an_id_that_is_no_operation_id_is_a_404(
    api: Any, operation: Operation, police_officer: User, operation_id: str
) -> None:
    client = api(police_officer)
    client.raise_request_exception = False
    assert client.get(f"/api/v1/operations/{operation_id}/visits/").status_code == 404


def test_ids_in_a_body_are_ascii_digits(analyst: User, make_report: Any) -> None:
    draft = make_report(analyst, submit=False)
    with pytest.raises(ValidationError) as error:
        reports.report_update(actor=analyst, report=draft, linked_cases=["²"])
    assert error.value.message_dict == {"linked_cases": ["“²” is not an id."]}


def test_a_huge_number_of_workers_is_a_400_not_a_500(
    api: Any, operation: Operation, police_officer: User
) -> None:
    # The PostgreSQL column would take two billion and then fail; the form, the API and
    # the service all stop at 10,000.
    client = api(police_officer)
    client.raise_request_exception = False
    response = client.post(
        f"/api/v1/operations/{operation.pk}/visits/",
        {
            "premises_type": "car_wash",
            "postcode_district": "NE1",
            "visited_on": TODAY.isoformat(),
            "outcome": "no_concerns",
            "workers_present": 3_000_000_000,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "workers_present" in response.json()
    with pytest.raises(ValidationError) as error:
        operations.visit_record(
            actor=police_officer,
            operation=operation,
            premises_type="car_wash",
            postcode_district="NE1",
            visited_on=TODAY,
            outcome="no_concerns",
            workers_present=10_001,
        )
    assert error.value.message_dict == {
        "workers_present": ["A visit records at most 10000 workers present."]
    }


@pytest.mark.parametrize(
    "params", [{"submitted_to": "9999-12-31"}, {"submitted_from": "0001-01-01"}]
)
@pytest.mark.parametrize("how", ["api", "page-get", "page-post"])
def test_the_first_and_last_representable_dates_filter_without_a_500(
    api: Any, login: Any, analyst: User, make_report: Any, how: str, params: dict[str, str]
) -> None:
    # Dates are compared as dates in SQL: no "next day" is computed in Python, where the
    # day after 9999-12-31 does not exist.
    report = make_report(analyst)
    if how == "api":
        client = api(analyst)
        client.raise_request_exception = False
        response = client.get(REPORTS, params)
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [report.pk]
        return
    client = login(analyst)
    client.raise_request_exception = False
    if how == "page-get":
        response = client.get("/intelligence/", params)
    else:
        response = client.post("/intelligence/", params)
    assert response.status_code == 200
    assert report.title in response.content.decode()
