"""The intelligence API end to end: what each reader gets (absent, not null), writing and
re-grading, the conditions, search and filters, matches, operations and visits."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from agencies.models import Agency, User
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from intelligence import operations
from intelligence.models import GradingChange, IntelligenceReport, Operation, PremisesVisit

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/intelligence/"
MATCHES = "/api/v1/intelligence/matches/"
OPERATIONS = "/api/v1/operations/"
CONDITIONS = "Not to be disclosed to the employer; police contact before any visit."
TODAY = timezone.localdate()
FULL_ONLY = (
    "full_text",
    "source_description",
    "author",
    "tlp_recipients",
    "sharing_group",
    "grading_changes",
    "updated_at",
    "archived_at",
)

BODY: dict[str, Any] = {
    "title": "Car wash workers sleeping on site",
    "summary": "Six workers appear to live at the car wash and hand over their wages.",
    "full_text": "Informant Zebedee says the manager takes passports.",
    "source_description": "Registered informant Quillfeather, met twice.",
    "source_evaluation": "2",
    "intelligence_assessment": "B",
    "handling_code": "P",
    "tlp": "AMBER",
    "distribution": "partnership",
    "exploitation_types": ["labour"],
    "area": "ne1",
}


def detail(report: Any) -> str:
    return f"{REPORTS}{report if isinstance(report, int) else report.pk}/"


def write(client: Any, **fields: Any) -> Any:
    return client.post(REPORTS, {**BODY, **fields}, format="json")


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- reading: what is absent ----------------------------------------------------------


def test_the_source_is_absent_outside_the_originating_agency(
    api: Any, analyst: User, police_officer: User, immigration_analyst: User, partnership: Any
) -> None:
    created = write(api(analyst), status="submitted")
    assert created.status_code == 201, created.content
    report_id = created.json()["id"]

    own = api(police_officer).get(detail(report_id)).json()
    assert own["level"] == "full" and own["must_acknowledge"] is False
    assert own["full_text"] == BODY["full_text"]
    assert own["source_description"] == BODY["source_description"]
    assert own["author"] == {"id": analyst.pk, "username": analyst.username}
    assert own["sharing_group"] is None and own["archived_at"] is None  # present, empty

    partner = api(immigration_analyst).get(detail(report_id))
    assert partner.status_code == 200
    data = partner.json()
    assert data["level"] == "summary"
    assert data["summary"] == BODY["summary"]
    assert data["grading"] == "2/B/P"
    assert data["originating_agency"]["name"] == "Northshire Police"
    for name in FULL_ONLY:
        assert name not in data, name
    assert "Zebedee" not in partner.content.decode()
    assert "Quillfeather" not in partner.content.decode()


def test_lists_and_search_never_carry_the_full_text_or_the_source(
    api: Any, make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    make_report(
        analyst,
        full_text="Informant Zebedee says so.",
        source_description="Informant Quillfeather.",
    )
    for reader in (analyst, immigration_analyst):
        for params in ({}, {"q": "car wash"}):
            response = api(reader).get(REPORTS, params)
            assert response.status_code == 200
            [row] = response.json()["results"]
            assert not set(FULL_ONLY) & set(row)
            body = response.content.decode()
            assert "Zebedee" not in body and "Quillfeather" not in body
        # Words only the full text or the source hold find nothing.
        assert ids(api(reader).get(REPORTS, {"q": "Zebedee"})) == []
        assert ids(api(reader).get(REPORTS, {"q": "Quillfeather"})) == []


def test_a_report_outside_the_audience_is_404_and_audited(
    api: Any, make_report: Any, analyst: User, outside_analyst: User, prosecutor: User
) -> None:
    report = make_report(analyst)
    client = api(outside_analyst)
    assert client.get(detail(report)).status_code == 404
    assert client.patch(detail(report), {"title": "X"}, format="json").status_code == 404
    assert client.post(f"{detail(report)}acknowledge-conditions/").status_code == 404
    denied = AuditEvent.objects.for_target(report).filter(action=AuthAction.ACCESS_DENIED)
    assert denied.filter(actor=outside_analyst).count() == 3
    # A role that never uses intelligence is refused before any report is looked up
    # (403, as in the browser): the same answer for a report that does not exist.
    for url in (detail(report), f"{REPORTS}999999/"):
        client = api(prosecutor)
        assert client.get(url).status_code == 403
        assert client.patch(url, {"title": "X"}, format="json").status_code == 403
        assert client.post(f"{url}acknowledge-conditions/").status_code == 403
    assert not denied.filter(actor=prosecutor).exists()
    assert api(analyst).get(f"{REPORTS}999999/").status_code == 404
    assert api(analyst).get(f"{REPORTS}abc/").status_code == 404
    assert api(None).get(detail(report)).status_code == 401


# --- the conditions of a C report ----------------------------------------------------


def test_a_c_report_is_read_after_its_conditions_are_acknowledged(
    api: Any, make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    report = make_report(
        analyst,
        title="Nail bar on Grey Street",
        summary="Two women sleep above the salon; the owner keeps their passports.",
        handling_code="C",
        handling_conditions=CONDITIONS,
        entities=[{"kind": "vehicle", "value": "AB12 CDE"}],
    )
    client = api(immigration_analyst)
    first = client.get(detail(report)).json()
    assert first["must_acknowledge"] is True and first["level"] == "conditions"
    assert first["handling_conditions"] == CONDITIONS
    assert first["title"] == "Nail bar on Grey Street"
    for name in ("summary", "entities", "linked_cases"):
        assert name not in first
    [row] = client.get(REPORTS).json()["results"]
    assert row["must_acknowledge"] is True and "summary" not in row
    assert ids(client.get(REPORTS, {"q": "passports salon"})) == []
    assert ids(client.get(REPORTS, {"q": "nail"})) == [report.pk]

    acknowledged = client.post(f"{detail(report)}acknowledge-conditions/")
    assert acknowledged.status_code == 200, acknowledged.content
    data = acknowledged.json()
    assert data["must_acknowledge"] is False and data["level"] == "summary"
    assert data["summary"] == report.summary
    assert data["entities"] == [{"kind": "vehicle", "value": "AB12 CDE", "normalised": "AB12CDE"}]
    assert ids(client.get(REPORTS, {"q": "passports salon"})) == [report.pk]
    [row] = client.get(REPORTS).json()["results"]
    assert row["summary"] == report.summary and row["must_acknowledge"] is False


def test_acknowledging_a_report_without_conditions_is_a_400(
    api: Any, make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    report = make_report(analyst)
    refused = api(immigration_analyst).post(f"{detail(report)}acknowledge-conditions/")
    assert refused.status_code == 400
    assert refused.json() == {
        "handling_conditions": ["This report has no handling conditions to acknowledge."]
    }


# --- writing --------------------------------------------------------------------------


def test_create_with_entities_answers_the_creators_full_view(
    api: Any, analyst: User, partnership: Any
) -> None:
    created = write(
        api(analyst),
        entities=[
            {"kind": "phone", "value": "07911 123456"},
            {"kind": "postcode", "value": "ne1 4xf"},
        ],
        status="submitted",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == "submitted" and data["submitted_at"]
    assert data["level"] == "full" and data["full_text"] == BODY["full_text"]
    assert data["area"] == "NE1"
    assert data["entities"] == [
        {"kind": "phone", "value": "07911 123456", "normalised": "+447911123456"},
        {"kind": "postcode", "value": "ne1 4xf", "normalised": "NE1 4XF"},
    ]
    report = IntelligenceReport.objects.get(pk=data["id"])
    assert report.author == analyst and report.status == "submitted"


def test_a_draft_by_default(api: Any, caseworker: User, partnership: Any) -> None:
    created = write(api(caseworker))
    assert created.status_code == 201
    assert created.json()["status"] == "draft" and created.json()["submitted_at"] is None


def test_an_invalid_phone_is_a_400_naming_the_value_and_nothing_is_written(
    api: Any, analyst: User, partnership: Any
) -> None:
    refused = write(
        api(analyst),
        entities=[
            {"kind": "vehicle", "value": "AB12 CDE"},
            {"kind": "phone", "value": "0791"},
        ],
        status="submitted",
    )
    assert refused.status_code == 400
    [message] = refused.json()["entities"]
    assert message.startswith("Entity 2: “0791” is not a valid phone number.")
    assert not IntelligenceReport.objects.exists()


def test_bad_input_is_a_400_with_field_errors(api: Any, analyst: User, partnership: Any) -> None:
    client = api(analyst)
    missing = client.post(REPORTS, {"summary": "Only a summary"}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()) == {
        "title",
        "source_evaluation",
        "intelligence_assessment",
        "handling_code",
        "tlp",
        "distribution",
    }
    wrong = write(client, tlp="PURPLE", entities=[{"kind": "gun", "value": "x"}])
    assert wrong.status_code == 400
    assert wrong.json()["tlp"][0].startswith("“PURPLE” is not a TLP colour: choose one of CLEAR")
    assert "“gun” is not a kind of entity" in str(wrong.json()["entities"])
    # The services' own rules come back as field errors too.
    no_conditions = write(client, handling_code="C")
    assert no_conditions.json() == {
        "handling_conditions": ["Handling code C needs the conditions written."]
    }
    archived = write(client, status="archived")
    assert archived.status_code == 400 and "status" in archived.json()
    unsubmittable = write(client, summary="", status="submitted")
    assert unsubmittable.json() == {
        "summary": ["Write the sanitised summary other agencies will read."]
    }
    assert not IntelligenceReport.objects.exists()


def test_roles_that_do_not_write_intelligence_are_refused(
    api: Any, prosecutor: User, agency_admin: User, manager: User, partnership: Any
) -> None:
    for user in (prosecutor, agency_admin, manager):
        assert write(api(user)).status_code == 403
        assert api(user).get(REPORTS).status_code == 403
    assert (
        AuditEvent.objects.filter(action=AuthAction.ACCESS_FORBIDDEN, actor=prosecutor).count() == 2
    )
    assert not IntelligenceReport.objects.exists()


# --- changing, re-grading, submitting, archiving ---------------------------------------


def test_a_regrade_needs_a_reason_and_keeps_the_history(
    api: Any, make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    report = make_report(analyst)
    client = api(analyst)
    unexplained = client.patch(detail(report), {"tlp": "GREEN"}, format="json")
    assert unexplained.status_code == 400
    assert unexplained.json() == {"regrade_reason": ["Say why the grading changes: tlp."]}

    regraded = client.patch(
        detail(report),
        {
            "tlp": "GREEN",
            "source_evaluation": "1",
            "intelligence_assessment": "B",  # unchanged: not part of the re-grade
            "regrade_reason": "Corroborated by the inspection.",
            "summary": "Six workers live at the car wash.",
        },
        format="json",
    )
    assert regraded.status_code == 200, regraded.content
    data = regraded.json()
    assert data["tlp"] == "GREEN" and data["grading"] == "1/B/P"
    assert data["summary"] == "Six workers live at the car wash."
    [change] = data["grading_changes"]
    assert change["reason"] == "Corroborated by the inspection."
    assert (change["old_tlp"], change["new_tlp"]) == ("AMBER", "GREEN")
    assert (change["old_source_evaluation"], change["new_source_evaluation"]) == ("2", "1")
    assert change["changed_by"] == analyst.username
    # Another agency reads the new grading, not its history.
    partner = api(immigration_analyst).get(detail(report)).json()
    assert partner["grading"] == "1/B/P" and "grading_changes" not in partner


def test_a_regrade_to_red_names_its_readers(
    api: Any,
    make_report: Any,
    analyst: User,
    immigration_analyst: User,
    immigration: Agency,
    prosecution: Agency,
    inspector: User,
) -> None:
    report = make_report(analyst)
    client = api(analyst)
    unnamed = client.patch(
        detail(report), {"tlp": "RED", "regrade_reason": "Live operation"}, format="json"
    )
    assert unnamed.status_code == 400
    assert unnamed.json() == {
        "tlp_recipients": ["Name the agencies that may read a TLP:RED report."]
    }
    named = client.patch(
        detail(report),
        {"tlp": "RED", "tlp_recipients": [immigration.pk], "regrade_reason": "Live operation"},
        format="json",
    )
    assert named.status_code == 200, named.content
    assert named.json()["tlp_recipients"] == [
        {"id": immigration.pk, "name": "Northshire Immigration Enforcement"}
    ]
    assert api(immigration_analyst).get(detail(report)).status_code == 200
    assert api(inspector).get(detail(report)).status_code == 404  # a partner not named
    assert GradingChange.objects.get(report=report).new_tlp == "RED"


def test_a_patch_happens_whole_or_not_at_all(api: Any, make_report: Any, analyst: User) -> None:
    report = make_report(analyst)
    refused = api(analyst).patch(
        detail(report),
        {
            "tlp": "GREEN",
            "regrade_reason": "Corroborated.",
            "entities": [{"kind": "phone", "value": "12"}],
        },
        format="json",
    )
    assert refused.status_code == 400 and "entities" in refused.json()
    report.refresh_from_db()
    assert report.tlp == "AMBER"
    assert not GradingChange.objects.exists()


def test_a_drafts_grading_is_simply_edited(api: Any, make_report: Any, analyst: User) -> None:
    draft = make_report(analyst, submit=False)
    changed = api(analyst).patch(detail(draft), {"tlp": "GREEN"}, format="json")
    assert changed.status_code == 200 and changed.json()["tlp"] == "GREEN"
    assert changed.json()["grading_changes"] == []


def test_submit_archive_and_illegal_moves(api: Any, make_report: Any, analyst: User) -> None:
    draft = make_report(analyst, submit=False)
    client = api(analyst)
    submitted = client.patch(detail(draft), {"status": "submitted"}, format="json")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    back = client.patch(detail(draft), {"status": "draft"}, format="json")
    assert back.status_code == 409
    assert back.json() == {"detail": "A submitted report does not go back to draft."}
    archived = client.patch(
        detail(draft), {"status": "archived", "archive_reason": "Superseded"}, format="json"
    )
    assert archived.status_code == 200 and archived.json()["archived_at"]
    again = client.patch(detail(draft), {"title": "New"}, format="json")
    assert again.status_code == 409


def test_only_the_originating_agency_changes_a_report(
    api: Any, make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    report = make_report(analyst)
    refused = api(immigration_analyst).patch(detail(report), {"title": "Mine now"}, format="json")
    assert refused.status_code == 403
    assert (
        AuditEvent.objects.for_target(report)
        .filter(action=AuthAction.ACCESS_FORBIDDEN, actor=immigration_analyst)
        .exists()
    )
    report.refresh_from_db()
    assert report.title == BODY["title"]


def test_a_contributor_changes_their_report_but_does_not_regrade_it(
    api: Any, make_report: Any, caseworker: User
) -> None:
    report = make_report(caseworker)
    client = api(caseworker)
    assert client.patch(detail(report), {"area": "NE2"}, format="json").json()["area"] == "NE2"
    refused = client.patch(
        detail(report), {"tlp": "GREEN", "regrade_reason": "Because"}, format="json"
    )
    assert refused.status_code == 403
    assert not GradingChange.objects.exists()


def test_put_is_not_allowed(api: Any, make_report: Any, analyst: User) -> None:
    report = make_report(analyst)
    assert api(analyst).put(detail(report), BODY, format="json").status_code == 405


# --- search and filters ---------------------------------------------------------------


def test_filters_through_the_api(
    api: Any, make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    labour = make_report(analyst, source_evaluation="1", area="NE1")
    sexual = make_report(
        analyst,
        exploitation_types=["sexual"],
        tlp="GREEN",
        intelligence_assessment="C",
        area="Northshire",
    )
    conditioned = make_report(
        analyst, handling_code="C", handling_conditions=CONDITIONS, area="NE10"
    )
    IntelligenceReport.objects.filter(pk=labour.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=40)
    )
    client = api(immigration_analyst)
    assert ids(client.get(REPORTS, {"source_evaluation": "1"})) == [labour.pk]
    assert ids(client.get(REPORTS, {"intelligence_assessment": "C"})) == [sexual.pk]
    assert ids(client.get(REPORTS, {"handling_code": "C"})) == [conditioned.pk]
    assert ids(client.get(REPORTS, {"tlp": "GREEN"})) == [sexual.pk]
    assert ids(client.get(REPORTS, {"exploitation_type": "labour"})) == [
        conditioned.pk,
        labour.pk,
    ]
    assert ids(client.get(REPORTS, {"area": "ne1"})) == [labour.pk]
    assert ids(client.get(REPORTS, {"area": "north"})) == [sexual.pk]
    last_month = (TODAY - datetime.timedelta(days=30)).isoformat()
    assert ids(client.get(REPORTS, {"submitted_from": last_month})) == [
        conditioned.pk,
        sexual.pk,
    ]
    assert ids(client.get(REPORTS, {"submitted_to": last_month})) == [labour.pk]
    # Both titles say "car wash"; the conditioned report ranks by its title alone.
    assert ids(client.get(REPORTS, {"q": "car wash", "tlp": "AMBER"})) == [
        labour.pk,
        conditioned.pk,
    ]


def test_invalid_filters_are_a_400(api: Any, immigration_analyst: User) -> None:
    refused = api(immigration_analyst).get(
        REPORTS, {"tlp": "PURPLE", "submitted_from": "2026-04-02", "submitted_to": "2026-04-01"}
    )
    assert refused.status_code == 400
    assert refused.json()["tlp"][0].startswith("“PURPLE” is not a TLP colour")
    assert refused.json()["submitted_to"] == ["The end date is before the start date."]


def test_each_search_is_audited_once_without_the_words(
    api: Any, make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    make_report(analyst)
    api(immigration_analyst).get(REPORTS, {"q": "Kowalski", "tlp": "AMBER"})
    [event] = AuditEvent.objects.filter(action="intelligence.searched")
    assert event.actor == immigration_analyst
    assert event.detail == {
        "filters": {"tlp": "AMBER"},
        "text_filters": ["q"],
        "results": 0,
        "report_ids": [],
    }


@pytest.mark.parametrize("params", [{}, {"q": "car wash"}, {"tlp": "AMBER", "area": "NE1"}])
def test_the_list_answers_in_the_same_number_of_queries_for_3_or_12_reports(
    api: Any,
    make_report: Any,
    analyst: User,
    immigration_analyst: User,
    django_assert_num_queries: Any,
    params: dict[str, str],
) -> None:
    client = api(immigration_analyst)

    def reports(n: int) -> None:
        for i in range(n):
            if i % 3 == 0:
                make_report(analyst, handling_code="C", handling_conditions=CONDITIONS)
            else:
                make_report(analyst)

    def listed() -> list[int]:
        response = client.get(REPORTS, params)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    reports(3)
    listed()  # warm the per-process caches
    # The session and the user (with the membership); the page's count and rows; the
    # search's audit event (the page's count is its count); the session saved again
    # (and its savepoint); the second factor the session was verified by (django-otp).
    with django_assert_num_queries(9):
        few = listed()
    reports(9)
    with django_assert_num_queries(9):
        many = listed()
    assert (len(few), len(many)) == (3, 12)


def test_a_contributor_lists_only_what_they_wrote(
    api: Any, make_report: Any, analyst: User, caseworker: User, other_caseworker: User
) -> None:
    make_report(analyst)
    own = make_report(caseworker)
    assert ids(api(caseworker).get(REPORTS)) == [own.pk]
    assert ids(api(other_caseworker).get(REPORTS)) == []


# --- matches --------------------------------------------------------------------------


PHONE = [{"kind": "phone", "value": "07911 123456"}]


@pytest.fixture
def matched(make_report: Any, analyst: User, immigration_analyst: User) -> tuple[Any, Any]:
    """Two reports, by the police and then the immigration service, naming the same
    phone, each AMBER to the partnership: each agency may read the other's, both are told."""
    police_report = make_report(
        analyst,
        title="Police title: minibus driver",
        summary="Police summary: the driver collects workers.",
        entities=[{"kind": "phone", "value": "+44 7911 123456"}],
    )
    immigration_report = make_report(
        immigration_analyst,
        title="Immigration title: tenancy concern",
        summary="Immigration summary: nine people at one flat.",
        entities=PHONE,
    )
    return police_report, immigration_report


def test_the_match_inbox_shows_each_side_its_own_report_and_nothing_of_the_other(
    api: Any, matched: tuple[Any, Any], analyst: User, immigration_analyst: User
) -> None:
    police_report, immigration_report = matched

    police_view = api(analyst).get(MATCHES)
    assert police_view.status_code == 200, police_view.content
    [row] = police_view.json()["results"]
    assert row["kind"] == "phone"
    assert row["own_report"] == police_report.pk
    assert row["own_report_title"] == police_report.title
    assert row["own_value"] == "+44 7911 123456"
    assert row["own_side"] == "existing"
    assert "other_agency" not in row and "other_report" not in row
    body = police_view.content.decode()
    assert "Immigration" not in body

    partner_view = api(immigration_analyst).get(MATCHES)
    [row] = partner_view.json()["results"]
    assert row["own_report"] == immigration_report.pk
    assert row["own_value"] == "07911 123456"
    assert row["own_side"] == "new"
    body = partner_view.content.decode()
    assert "Police title" not in body and "Northshire Police" not in body
    assert AuditEvent.objects.filter(
        action="intelligence.matches_listed", actor=immigration_analyst
    ).exists()


def test_opening_a_match_names_the_other_agency_and_links_its_report(
    api: Any,
    matched: tuple[Any, Any],
    analyst: User,
    immigration_analyst: User,
    police: Agency,
    immigration: Agency,
) -> None:
    police_report, immigration_report = matched
    police.intelligence_contact = "intel@northshire.police.example"
    police.save()
    [row] = api(immigration_analyst).get(MATCHES).json()["results"]
    opened = api(immigration_analyst).get(f"{MATCHES}{row['id']}/").json()
    assert opened["other_agency"] == {
        "id": police.pk,
        "name": "Northshire Police",
        "intelligence_contact": "intel@northshire.police.example",
    }
    assert opened["other_agency_told"] is True
    assert opened["other_report"] == police_report.pk
    assert "Police summary" not in str(opened)
    opened = api(analyst).get(f"{MATCHES}{row['id']}/").json()
    assert opened["other_agency"] == {
        "id": immigration.pk,
        "name": "Northshire Immigration Enforcement",
        "intelligence_contact": "",
    }
    assert opened["other_report"] == immigration_report.pk


def test_the_match_inbox_is_for_contributors_only(
    api: Any,
    matched: tuple[Any, Any],
    prosecutor: User,
    agency_admin: User,
    outside_analyst: User,
    immigration_caseworker: User,
) -> None:
    for user in (prosecutor, agency_admin):
        assert api(user).get(MATCHES).status_code == 403
    assert ids(api(outside_analyst).get(MATCHES)) == []
    # A colleague who did not write the immigration service's report: nothing for them.
    assert ids(api(immigration_caseworker).get(MATCHES)) == []


# --- operations and visits ------------------------------------------------------------


@pytest.fixture
def operation(police_officer: User, immigration: Agency, partnership: Any) -> Operation:
    return operations.operation_create(
        actor=police_officer,
        name="Operation Clearwater",
        starts_on=TODAY - datetime.timedelta(days=7),
        partner_agencies=[immigration],
    )


def visits_of(operation: Operation) -> str:
    return f"{OPERATIONS}{operation.pk}/visits/"


VISIT = {
    "premises_type": "car_wash",
    "postcode_district": "ne1",
    "visited_on": TODAY.isoformat(),
    "workers_present": 6,
    "indicators": ["living_on_site", "low_or_no_pay"],
    "outcome": "potential_victims",
    "notes": "Worker Ion P. said the boss keeps his passport.",
}


def test_operations_are_listed_for_the_lead_and_partners_and_created_by_leaders(
    api: Any,
    analyst: User,
    immigration_analyst: User,
    outside_analyst: User,
    caseworker: User,
    prosecutor: User,
    immigration: Agency,
    partnership: Any,
) -> None:
    created = api(analyst).post(
        OPERATIONS,
        {
            "name": "Operation Harvest",
            "starts_on": "2026-01-05",
            "partner_agencies": [immigration.pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["lead_agency"]["name"] == "Northshire Police"
    assert data["partners"] == [
        {"id": immigration.pk, "name": "Northshire Immigration Enforcement"}
    ]
    assert ids(api(immigration_analyst).get(OPERATIONS)) == [data["id"]]
    assert ids(api(outside_analyst).get(OPERATIONS)) == []
    assert api(prosecutor).get(OPERATIONS).status_code == 403
    refused = api(caseworker).post(
        OPERATIONS, {"name": "Outreach", "starts_on": "2026-01-05"}, format="json"
    )
    assert refused.status_code == 403
    backwards = api(analyst).post(
        OPERATIONS,
        {"name": "Operation Dusk", "starts_on": "2026-02-01", "ends_on": "2026-01-01"},
        format="json",
    )
    assert backwards.status_code == 400
    assert backwards.json() == {"ends_on": ["An operation cannot end before it starts."]}


def test_visits_of_an_operation(
    api: Any,
    operation: Operation,
    police_officer: User,
    immigration_analyst: User,
    outside_analyst: User,
    prosecutor: User,
) -> None:
    recorded = api(immigration_analyst).post(visits_of(operation), VISIT, format="json")
    assert recorded.status_code == 201, recorded.content
    data = recorded.json()
    assert data["operation"] == operation.pk and data["postcode_district"] == "NE1"
    assert data["notes"] == VISIT["notes"]  # the visiting agency reads its notes

    listed = api(police_officer).get(visits_of(operation))
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert row["id"] == data["id"]
    assert row["agency"]["name"] == "Northshire Immigration Enforcement"
    assert "notes" not in row  # the lead agency does not read the visiting agency's notes
    assert "Ion" not in listed.content.decode()

    assert api(outside_analyst).get(visits_of(operation)).status_code == 404
    assert api(outside_analyst).post(visits_of(operation), VISIT, format="json").status_code == 404
    assert (
        AuditEvent.objects.for_target(operation)
        .filter(action=AuthAction.ACCESS_DENIED, actor=outside_analyst)
        .count()
        == 2
    )
    assert api(prosecutor).get(visits_of(operation)).status_code == 403
    assert api(police_officer).get(f"{OPERATIONS}999999/visits/").status_code == 404
    assert PremisesVisit.objects.count() == 1


def test_a_visit_with_bad_input_is_a_400(
    api: Any, operation: Operation, police_officer: User
) -> None:
    refused = api(police_officer).post(
        visits_of(operation),
        {**VISIT, "postcode_district": "Leeds", "premises_type": "castle"},
        format="json",
    )
    assert refused.status_code == 400
    errors = refused.json()
    assert errors["premises_type"][0].startswith("“castle” is not a type of premises")
    future = api(police_officer).post(
        visits_of(operation),
        {**VISIT, "visited_on": (TODAY + datetime.timedelta(days=1)).isoformat()},
        format="json",
    )
    assert future.json() == {"visited_on": ["The visit cannot be in the future."]}
    district = api(police_officer).post(
        visits_of(operation), {**VISIT, "postcode_district": "Leeds"}, format="json"
    )
    assert district.json()["postcode_district"][0].startswith(
        "“Leeds” is not a UK postcode district"
    )
    assert not PremisesVisit.objects.exists()
