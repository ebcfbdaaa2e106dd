"""The intelligence pages in the browser: who gets which page, what each reader sees of a
report, the report form's help and errors, matches, operations and visits, and the
list's query budget."""

from __future__ import annotations

import datetime
import html
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import Agency, User
from audit.models import AuditEvent
from casework import services as casework
from casework.models import Case, HowIdentified
from intelligence import operations, reports
from intelligence.models import (
    GRADING_HELP,
    GradingChange,
    IntelligenceReport,
    Match,
    Operation,
    PremisesVisit,
    ReportStatus,
)

pytestmark = pytest.mark.django_db

SECRETS = ("SECRET-SOURCE-42",)  # in the fixtures' full_text and source_description
PHONE = "+44 7400 123456"

FORM: dict[str, Any] = {
    "title": "Car wash workers sleeping on site",
    "summary": "Six workers appear to live at the car wash.",
    "full_text": "Informant SECRET-SOURCE-42 says the manager takes passports.",
    "source_description": "Registered informant SECRET-SOURCE-42.",
    "source_evaluation": "2",
    "intelligence_assessment": "B",
    "handling_code": "P",
    "handling_conditions": "",
    "tlp": "AMBER",
    "distribution": "partnership",
    "exploitation_types": ["labour"],
    "area": "NE1",
    "review_on": "",
    "entities": "",
    "linked_cases": "",
    "action": "submit",
}


def text(response: Any) -> str:
    return response.content.decode()


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def operation(analyst: User, harbour: Agency, inspectorate: Agency) -> Operation:
    return operations.operation_create(
        actor=analyst,
        name="Operation Lather",
        starts_on=today() - datetime.timedelta(days=30),
        partner_agencies=[harbour, inspectorate],
    )


@pytest.fixture
def visit(operation: Operation, police_officer: User) -> PremisesVisit:
    return operations.visit_record(
        actor=police_officer,
        operation=operation,
        premises_type="car_wash",
        postcode_district="NE1",
        visited_on=today() - datetime.timedelta(days=2),
        outcome="potential_victims",
        workers_present=6,
        indicators=["living_on_site", "no_identity_documents"],
        notes="The manager, a Mr Example, answered for the workers.",
    )


# --- Who gets which page ------------------------------------------------------------------


def test_roles_that_never_use_intelligence_are_refused_everywhere(
    login, analyst, make_report, agency_admin, prosecutor, manager, visit
):
    report = make_report(analyst)
    match_id = 1
    urls = [
        "/intelligence/",
        "/intelligence/new/",
        f"/intelligence/{report.pk}/",
        f"/intelligence/{report.pk}/edit/",
        f"/intelligence/{report.pk}/regrade/",
        "/intelligence/matches/",
        f"/intelligence/matches/{match_id}/",
        "/intelligence/operations/",
        "/intelligence/operations/new/",
        f"/intelligence/operations/{visit.operation_id}/",
        f"/intelligence/operations/{visit.operation_id}/visits/new/",
        f"/intelligence/visits/{visit.pk}/",
        f"/intelligence/visits/{visit.pk}/start-report/",
    ]
    posts = [
        f"/intelligence/{report.pk}/submit/",
        f"/intelligence/{report.pk}/archive/",
        f"/intelligence/{report.pk}/acknowledge/",
        f"/intelligence/visits/{visit.pk}/start-case/",
    ]
    for user in (agency_admin, prosecutor, manager):
        client = login(user)
        for url in urls:
            assert client.get(url).status_code == 403, (user.username, url)
        for url in posts:
            assert client.post(url).status_code == 403, (user.username, url)
        assert b"Intelligence" not in client.get("/").content
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


def test_anonymous_visitors_are_sent_to_sign_in(login, analyst, make_report):
    report = make_report(analyst)
    for url in ("/intelligence/", f"/intelligence/{report.pk}/", "/intelligence/matches/"):
        response = login(None).get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_every_page_renders_for_the_roles_that_use_it(
    login, analyst, caseworker, case_manager, police_officer, inspector, make_report, visit
):
    report = make_report(analyst)
    pages = {
        analyst: [
            "/intelligence/",
            "/intelligence/?q=car+wash&tlp=AMBER&exploitation_type=labour&area=NE",
            "/intelligence/new/",
            f"/intelligence/{report.pk}/",
            f"/intelligence/{report.pk}/edit/",
            f"/intelligence/{report.pk}/regrade/",
            "/intelligence/matches/",
            "/intelligence/operations/",
            "/intelligence/operations/new/",
            f"/intelligence/operations/{visit.operation_id}/",
            f"/intelligence/operations/{visit.operation_id}/visits/new/",
            f"/intelligence/visits/{visit.pk}/",
            f"/intelligence/visits/{visit.pk}/start-report/",
        ],
        inspector: ["/intelligence/", f"/intelligence/{report.pk}/", "/intelligence/operations/"],
        caseworker: [
            "/intelligence/",
            "/intelligence/new/",
            "/intelligence/matches/",
            "/intelligence/operations/",
            f"/intelligence/visits/{visit.pk}/",
        ],
        case_manager: ["/intelligence/operations/new/"],
    }
    for user, urls in pages.items():
        client = login(user)
        assert b'href="/intelligence/"' in client.get("/").content, user.username
        for url in urls:
            assert client.get(url).status_code == 200, (user.username, url)
    # Contributors who do not read intelligence, and officers, do not lead operations.
    assert login(caseworker).get("/intelligence/operations/new/").status_code == 403
    # Another agency's reader reads the report but does not change it.
    for url in (f"/intelligence/{report.pk}/edit/", f"/intelligence/{report.pk}/regrade/"):
        assert login(inspector).get(url).status_code == 403, url


def test_a_report_outside_the_audience_is_404_and_the_attempt_audited(
    login, analyst, make_report, outside_officer, caseworker
):
    report = make_report(analyst)
    for user in (outside_officer, caseworker):
        client = login(user)
        for url in (f"/intelligence/{report.pk}/", f"/intelligence/{report.pk}/edit/"):
            assert client.get(url).status_code == 404, (user.username, url)
        assert client.post(f"/intelligence/{report.pk}/archive/").status_code == 404
        page = client.get("/intelligence/")
        assert page.status_code == 200 and report.title.encode() not in page.content
    assert AuditEvent.objects.filter(
        action="access.denied", actor=outside_officer, target_id=str(report.pk)
    ).exists()
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


def test_operations_and_visits_of_other_agencies_are_404(
    login, outside_officer, immigration_analyst, visit
):
    for user in (outside_officer, immigration_analyst):
        client = login(user)
        assert client.get(f"/intelligence/operations/{visit.operation_id}/").status_code == 404
        assert client.get(f"/intelligence/visits/{visit.pk}/").status_code == 404
        assert client.get(f"/intelligence/visits/{visit.pk}/start-report/").status_code == 404
        page = client.get("/intelligence/operations/")
        assert page.status_code == 200 and b"Operation Lather" not in page.content
    assert AuditEvent.objects.filter(action="access.denied", actor=outside_officer).exists()


# --- What each reader sees --------------------------------------------------------------


def test_full_text_and_source_never_reach_another_agency(login, analyst, inspector, make_report):
    report = make_report(analyst)
    other = login(inspector)
    pages = [
        other.get("/intelligence/"),
        other.get("/intelligence/?q=car+wash"),
        other.post("/intelligence/", {"q": "car wash"}),
        other.post("/intelligence/", {"q": "SECRET"}),
        other.get(f"/intelligence/{report.pk}/"),
    ]
    for page in pages:
        assert page.status_code == 200
        for secret in SECRETS:
            assert secret not in text(page)
    assert report.title in text(pages[2])
    assert "No reports match." in text(pages[3])
    detail = text(other.get(f"/intelligence/{report.pk}/"))
    assert report.summary in detail
    assert "Your agency only" not in detail
    # The originating agency reads it in full on the report page, never in the list.
    own = login(analyst)
    assert SECRETS[0] in text(own.get(f"/intelligence/{report.pk}/"))
    assert SECRETS[0] not in text(own.get("/intelligence/"))
    assert AuditEvent.objects.filter(
        action="intelligence.report_viewed", actor=inspector, detail__level="summary"
    ).exists()


def test_the_tlp_banner_tops_the_report_page(login, analyst, inspector, make_report):
    report = make_report(analyst, tlp="GREEN")
    page = text(login(inspector).get(f"/intelligence/{report.pk}/"))
    assert 'class="tlp-banner tlp-green"' in page
    assert page.index("tlp-banner") < page.index("<h1")


def test_a_c_report_shows_its_conditions_first_then_the_summary_once_acknowledged(
    login, analyst, inspector, make_report
):
    conditions = "Do not act on this without calling the intelligence desk first."
    report = make_report(analyst, handling_code="C", handling_conditions=conditions)
    client = login(inspector)

    listing = text(client.get("/intelligence/"))
    assert "Conditions apply — open to read" in listing
    assert report.summary not in listing

    first = text(client.get(f"/intelligence/{report.pk}/"))
    assert conditions in first
    assert "I acknowledge these conditions" in first
    assert report.summary not in first
    assert 'id="h-entities"' not in first
    # The form names the version of the conditions it showed.
    assert '<input type="hidden" name="conditions_version" value="1">' in first

    response = client.post(f"/intelligence/{report.pk}/acknowledge/", {"conditions_version": "1"})
    assert response.status_code == 302 and response["Location"] == f"/intelligence/{report.pk}/"
    then = text(client.get(f"/intelligence/{report.pk}/"))
    assert report.summary in then
    assert "I acknowledge these conditions" not in then
    assert then.index(conditions) < then.index(report.summary)
    assert report.summary in text(client.get("/intelligence/"))
    assert AuditEvent.objects.filter(
        action="intelligence.conditions_acknowledged", actor=inspector
    ).exists()


def test_the_originating_agency_sees_history_recipients_and_its_buttons(
    login, analyst, inspectorate, make_report
):
    report = make_report(analyst, tlp="RED", tlp_recipients=[inspectorate])
    reports.report_regrade(
        actor=analyst, report=report, reason="Corroborated", tlp="RED", source_evaluation="1"
    )
    page = text(login(analyst).get(f"/intelligence/{report.pk}/"))
    for expected in (
        "Grading history",
        "Corroborated",
        "Labour Inspectorate",
        "Re-grade",
        "Archive the report",
        f"/intelligence/{report.pk}/edit/",
    ):
        assert expected in page, expected


def test_the_search_is_posted_and_so_are_its_pages(login, analyst, inspector, make_report):
    for n in range(3):
        make_report(analyst, title=f"Car wash {n}")
    make_report(analyst, title="Nail bar", summary="Staff are paid in cash only.")
    client = login(inspector)
    first = text(client.post("/intelligence/?page_size=2", {"q": "car wash", "tlp": "AMBER"}))
    assert 'method="post" action="/intelligence/"' in first  # the words never go in a URL
    assert "3 reports" in first and "Page 1 of 2" in first and "Nail bar" not in first
    assert '<input type="hidden" name="q" value="car wash">' in first
    assert 'action="/intelligence/?page_size=2"' in first
    second = text(
        client.post("/intelligence/?page_size=2", {"q": "car wash", "tlp": "AMBER", "page": "2"})
    )
    assert "Page 2 of 2" in second and "Car wash 0" in second
    assert AuditEvent.objects.filter(action="intelligence.searched", actor=inspector).count() == 2
    refused = text(client.post("/intelligence/", {"tlp": "PURPLE"}))
    assert "is not a TLP colour" in html.unescape(refused)
    assert "Correct the search above" in refused


# --- Writing a report --------------------------------------------------------------------


def test_the_report_form_explains_every_grading_choice(login, analyst):
    page = text(login(analyst).get("/intelligence/new/"))
    for field, meanings in GRADING_HELP.items():
        for value, meaning in meanings.items():
            assert html.escape(str(meaning)) in page, (field, value)
            assert f'aria-describedby="id_{field}_' in page, field
    assert page.count("<fieldset") >= 7  # five radio groups, recipients, exploitation types
    assert "only for TLP:RED" in page


def test_the_report_form_names_the_review_period(login, analyst, settings):
    client = login(analyst)
    assert "Leave blank for a year from today." in text(client.get("/intelligence/new/"))
    settings.INTELLIGENCE_REVIEW_DAYS = 180
    assert "Leave blank for 180 days from today." in text(client.get("/intelligence/new/"))


def test_a_report_is_submitted_from_the_form(login, caseworker, analyst, inspector):
    case = casework.case_create(actor=caseworker, exploitation_types=["labour"])
    data = {
        **FORM,
        "entities": f"phone: {PHONE}\nvehicle: ab12 cde\n\nbusiness: Sparkle Car Wash Ltd",
        "linked_cases": case.reference.lower(),
    }
    response = login(caseworker).post("/intelligence/new/", data)
    assert response.status_code == 302
    report = IntelligenceReport.objects.get()
    assert response["Location"] == f"/intelligence/{report.pk}/"
    assert report.status == ReportStatus.SUBMITTED and report.author == caseworker
    assert sorted(report.entities.values_list("kind", flat=True)) == [
        "business",
        "phone",
        "vehicle",
    ]
    assert list(report.linked_cases.all()) == [case]
    # The police read it (partnership), but the case is not theirs to see.
    page = text(login(analyst).get(f"/intelligence/{report.pk}/"))
    assert "Sparkle Car Wash Ltd" in page and case.reference not in page


def test_a_draft_is_saved_then_submitted_from_its_page(login, analyst):
    client = login(analyst)
    client.post("/intelligence/new/", {**FORM, "action": "draft", "summary": ""})
    report = IntelligenceReport.objects.get()
    assert report.status == ReportStatus.DRAFT
    page = text(client.get(f"/intelligence/{report.pk}/"))
    assert "Submit the report" in page
    # Submitting needs the summary that travels.
    client.post(f"/intelligence/{report.pk}/submit/")
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    refused = text(client.get(f"/intelligence/{report.pk}/"))
    assert "Write the sanitised summary other agencies will read." in refused
    edit = client.post(
        f"/intelligence/{report.pk}/edit/",
        {**FORM, "summary": "Now sanitised.", "action": "submit"},
    )
    assert edit.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and report.summary == "Now sanitised."


def test_submitting_without_a_summary_leaves_no_draft_behind(login, analyst):
    response = login(analyst).post("/intelligence/new/", {**FORM, "summary": ""})
    assert response.status_code == 200
    assert "Write the sanitised summary other agencies will read." in text(response)
    assert not IntelligenceReport.objects.exists()


def test_handling_code_c_needs_its_conditions(login, analyst):
    response = login(analyst).post("/intelligence/new/", {**FORM, "handling_code": "C"})
    assert response.status_code == 200
    assert "Handling code C needs its conditions" in text(response)
    assert not IntelligenceReport.objects.exists()


def test_entity_errors_name_the_bad_line(login, analyst):
    entities = f"phone: {PHONE}\n\nphone: 0123\nfax: 0191 498 0001\njust words"
    response = login(analyst).post("/intelligence/new/", {**FORM, "entities": entities})
    assert response.status_code == 200
    page = html.unescape(text(response))
    assert "Line 3: “0123” is not a valid phone number" in page
    assert "Line 4: “fax” is not a kind of entity" in page
    assert "Line 5: write the kind, a colon and the value" in page
    assert "Line 1" not in page
    assert entities.splitlines()[2] in page  # what was typed stays in the box
    assert not IntelligenceReport.objects.exists()


def test_service_refusals_show_on_the_form(login, analyst, cell, crime_unit):
    client = login(analyst)
    red_without_recipients = client.post("/intelligence/new/", {**FORM, "tlp": "RED"})
    assert "Name the agencies that may read a TLP:RED report." in text(red_without_recipients)
    outside_distribution = client.post(
        "/intelligence/new/",
        {**FORM, "tlp": "RED", "tlp_recipients": [crime_unit.pk]},
    )
    assert "The distribution does not reach Regional Crime Unit" in text(outside_distribution)
    unseen_case = client.post("/intelligence/new/", {**FORM, "linked_cases": "NMS-2026-99999"})
    assert "No case you can see has the reference NMS-2026-99999." in text(unseen_case)
    no_group = client.post("/intelligence/new/", {**FORM, "distribution": "sharing_group"})
    assert "Choose the sharing group to distribute to." in text(no_group)
    assert not IntelligenceReport.objects.exists()
    in_group = client.post(
        "/intelligence/new/",
        {**FORM, "distribution": "sharing_group", "sharing_group": cell.pk},
    )
    assert in_group.status_code == 302
    assert IntelligenceReport.objects.get().sharing_group == cell


def test_only_the_agencys_own_sharing_groups_are_offered(login, analyst, cell, outside_police):
    from agencies.models import SharingGroup

    SharingGroup.objects.create(name="Southshire cell", owner=outside_police)
    page = text(login(analyst).get("/intelligence/new/"))
    assert "Labour Exploitation Cell" in page
    assert "Southshire cell" not in page


def test_a_submitted_report_is_edited_without_its_grading_and_regraded_with_a_reason(
    login, analyst, make_report
):
    report = make_report(
        analyst,
        entities=[{"kind": "phone", "value": PHONE}, {"kind": "vehicle", "value": "AB12 CDE"}],
    )
    client = login(analyst)
    edit = text(client.get(f"/intelligence/{report.pk}/edit/"))
    assert 'name="source_evaluation"' not in edit
    assert "Re-grade the report" in edit
    assert f"phone: {PHONE}" in edit
    changed = {k: v for k, v in FORM.items() if k not in {"source_evaluation", "tlp"}}
    changed |= {
        name: getattr(report, name) for name in ("summary", "full_text", "source_description")
    }
    # Entities as a browser sends a textarea back (CRLF), in another order: unchanged.
    entities = f"vehicle: AB12 CDE\r\nphone: {PHONE}"
    response = client.post(
        f"/intelligence/{report.pk}/edit/",
        {**changed, "title": "Renamed", "entities": entities, "action": "save"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.title == "Renamed" and report.source_evaluation == "2"
    updated = AuditEvent.objects.filter(action="intelligence.report_updated").get()
    assert updated.detail["fields"] == ["title"]

    regrade = {
        "source_evaluation": "1",
        "intelligence_assessment": "B",
        "handling_code": "C",
        "handling_conditions": "",
        "tlp": "AMBER",
        "reason": "",
    }
    refused = text(client.post(f"/intelligence/{report.pk}/regrade/", regrade))
    assert "Say why the grading changes." in refused
    assert "Handling code C needs its conditions" in refused
    done = client.post(
        f"/intelligence/{report.pk}/regrade/",
        {**regrade, "handling_conditions": "Call first.", "reason": "Source met again"},
    )
    assert done.status_code == 302
    change = GradingChange.objects.get(report=report)
    assert (change.old_source_evaluation, change.new_source_evaluation) == ("2", "1")
    assert "Source met again" in text(client.get(f"/intelligence/{report.pk}/regrade/"))


def test_archiving_takes_the_report_from_other_agencies(login, analyst, inspector, make_report):
    report = make_report(analyst)
    response = login(analyst).post(f"/intelligence/{report.pk}/archive/", {"reason": "Superseded"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.ARCHIVED
    assert login(inspector).get(f"/intelligence/{report.pk}/").status_code == 404
    own = login(analyst)
    assert own.get(f"/intelligence/{report.pk}/").status_code == 200
    assert own.get(f"/intelligence/{report.pk}/edit/").status_code == 403


# --- Matches -----------------------------------------------------------------------------


def test_a_match_names_the_agency_to_contact_and_nothing_of_its_report(
    login, analyst, inspector, immigration_analyst, make_report
):
    ours = make_report(analyst, distribution="agency", entities=[{"kind": "phone", "value": PHONE}])
    theirs = make_report(
        inspector,
        title="Gangmaster recruits at the bus station",
        summary="A minibus collects workers at dawn.",
        entities=[{"kind": "phone", "value": "07400 123456"}],
    )
    match = Match.objects.get()
    client = login(analyst)
    inbox = text(client.get("/intelligence/matches/"))
    assert ours.title in inbox and "Phone number" in inbox
    assert "Labour Inspectorate" not in inbox  # named when the match is opened

    page = text(client.get(f"/intelligence/matches/{match.pk}/"))
    assert "Another agency has reported on this phone number — contact Labour Inspectorate." in page
    assert PHONE in page
    for words in (theirs.title, theirs.summary, "07400 123456"):
        assert words not in page, words
    # The police may read the inspectorate's report: the match links it (reading it is
    # a read of its own, audited), as the API's match detail gives its id.
    assert f"/intelligence/{theirs.pk}/" in page
    assert AuditEvent.objects.filter(action="intelligence.match_viewed", actor=analyst).exists()

    # The inspectorate may not read the police report: it is told nothing.
    assert ours.title not in text(login(inspector).get("/intelligence/matches/"))
    assert login(inspector).get(f"/intelligence/matches/{match.pk}/").status_code == 404
    assert login(immigration_analyst).get(f"/intelligence/matches/{match.pk}/").status_code == 404


# --- Operations and visits -----------------------------------------------------------------


def test_an_operation_is_started_and_a_visit_recorded_with_its_checklist(
    login, analyst, police_officer, inspectorate
):
    client = login(analyst)
    response = client.post(
        "/intelligence/operations/new/",
        {
            "name": "Operation Lather",
            "starts_on": (today() - datetime.timedelta(days=10)).isoformat(),
            "partner_agencies": [inspectorate.pk],
        },
    )
    operation = Operation.objects.get()
    assert response["Location"] == f"/intelligence/operations/{operation.pk}/"
    page = text(login(police_officer).get(f"/intelligence/operations/{operation.pk}/"))
    assert "Record a visit" in page and "Controlled by a third party" in page

    url = f"/intelligence/operations/{operation.pk}/visits/new/"
    visit = {
        "premises_type": "car_wash",
        "postcode_district": "Leeds",
        "visited_on": (today() + datetime.timedelta(days=1)).isoformat(),
        "workers_present": "4",
        "indicators": ["debt_bondage", "excessive_hours"],
        "outcome": "labour_abuse",
        "notes": "",
    }
    refused = html.unescape(text(login(police_officer).post(url, visit)))
    assert "“Leeds” is not a UK postcode district" in refused
    assert "The visit cannot be in the future." in refused
    assert not PremisesVisit.objects.exists()
    done = login(police_officer).post(
        url, {**visit, "postcode_district": "ne1", "visited_on": today().isoformat()}
    )
    recorded = PremisesVisit.objects.get()
    assert done["Location"] == f"/intelligence/visits/{recorded.pk}/"
    assert recorded.indicators == ["debt_bondage", "excessive_hours"]
    detail = text(login(police_officer).get(f"/intelligence/visits/{recorded.pk}/"))
    assert "Debt bondage" in detail and "Excessive hours" in detail
    duplicate = login(analyst).post(
        "/intelligence/operations/new/",
        {"name": "operation lather", "starts_on": today().isoformat()},
    )
    assert "Your agency already has an operation with this name." in html.unescape(text(duplicate))


def test_one_click_from_a_visit_to_a_case(login, caseworker, police_officer, visit):
    page = text(login(caseworker).get(f"/intelligence/visits/{visit.pk}/"))
    assert "Start a case from this visit" in page
    assert "Start a case from this visit" not in text(
        login(police_officer).get(f"/intelligence/visits/{visit.pk}/")
    )
    assert (
        login(police_officer).post(f"/intelligence/visits/{visit.pk}/start-case/").status_code
        == 403
    )

    response = login(caseworker).post(f"/intelligence/visits/{visit.pk}/start-case/")
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.pk}/"
    visit.refresh_from_db()
    assert visit.case == case
    assert case.how_identified == HowIdentified.POLICE_OPERATION
    assert case.exploitation_types == ["labour"]
    assert case.lead_agency == caseworker.membership.agency
    again = login(caseworker).post(f"/intelligence/visits/{visit.pk}/start-case/")
    assert again["Location"] == f"/intelligence/visits/{visit.pk}/"
    assert Case.objects.count() == 1
    # The police see that a case exists, not which.
    officer_view = text(login(police_officer).get(f"/intelligence/visits/{visit.pk}/"))
    assert case.reference not in officer_view
    assert "A case was opened from this visit by another agency." in officer_view


def test_one_click_from_a_visit_to_a_report(login, inspector, analyst, visit):
    # The police made the visit: their own form carries its notes into the full text,
    # which stays in their agency.
    own_form = text(login(analyst).get(f"/intelligence/visits/{visit.pk}/start-report/"))
    assert "a Mr Example" in own_form
    client = login(inspector)
    form = text(client.get(f"/intelligence/visits/{visit.pk}/start-report/"))
    assert "Indicators observed: no identity documents, living on site." in form
    # The inspectorate, a partner in the operation, does not read the police's notes.
    assert "Mr Example" not in form
    assert "stay with Northshire Police, which made the visit" in form
    data = {
        **FORM,
        "title": "Premises visit: car wash, NE1",
        "summary": "Six workers, living on site, no identity documents.",
        "full_text": "The manager answered for the workers; he gave no name.",
        "source_description": "Visit",
        "source_evaluation": "1",
        "intelligence_assessment": "A",
    }
    response = client.post(f"/intelligence/visits/{visit.pk}/start-report/", data)
    report = IntelligenceReport.objects.get()
    assert response["Location"] == f"/intelligence/{report.pk}/"
    visit.refresh_from_db()
    assert visit.report == report
    assert report.originating_agency.name == "Labour Inspectorate"
    assert report.status == ReportStatus.SUBMITTED
    # The visit now leads to the report; a second report from it is refused.
    assert client.get(f"/intelligence/visits/{visit.pk}/start-report/").status_code == 302
    # The police read the sanitised report, not its full text.
    police_page = text(login(analyst).get(f"/intelligence/{report.pk}/"))
    assert report.summary in police_page and "he gave no name" not in police_page


# --- Query budget -------------------------------------------------------------------------


def test_the_list_answers_in_the_same_number_of_queries_for_3_or_12_reports(
    login, analyst, police_officer, inspector, make_report
):
    def make(n: int) -> None:
        for i in range(n):
            make_report(
                analyst if i % 2 else police_officer,
                title=f"Report {i} car wash",
                handling_code="C" if i % 3 == 0 else "P",
                handling_conditions="Call first." if i % 3 == 0 else "",
                entities=[{"kind": "vehicle", "value": f"AB{i:02d} CDE"}],
            )

    def count(url: str) -> int:
        client = login(inspector)
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured)

    def count_search() -> int:
        client = login(inspector)
        client.post("/intelligence/", {"q": "car wash", "exploitation_type": "labour"})
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                "/intelligence/", {"q": "car wash", "exploitation_type": "labour"}
            )
        assert response.status_code == 200 and "Report 0 car wash" in text(response)
        return len(captured)

    urls = ("/intelligence/", "/intelligence/?tlp=AMBER&area=NE")
    make(3)
    few = {url: count(url) for url in urls} | {"search": count_search()}
    make(9)
    many = {url: count(url) for url in urls} | {"search": count_search()}
    assert few == many
    assert text(login(inspector).get("/intelligence/")).count("Conditions apply") == 4
