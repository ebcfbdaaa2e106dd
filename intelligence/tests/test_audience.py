"""Who reads a report: distribution x TLP x relationship x role, in one SQL query."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest

from agencies.models import Agency, AgencyKind, Partnership, Role, SharingGroup, User
from agencies.tests.factories import AgencyFactory, member
from intelligence import audience, report_fields
from intelligence.audience import readable_reports
from intelligence.models import TLP, Distribution, IntelligenceReport, ReportStatus

DISTRIBUTIONS = list(Distribution.values)
TLPS = list(TLP.values)
RELATIONSHIPS = ["same_agency", "sharing_group", "partnership", "outside", "red_recipient"]
ROLES = [Role.ANALYST, Role.OFFICER, Role.CASEWORKER, Role.PARTNERSHIP_MANAGER]

# The requirement, as data: which relationships each distribution reaches...
DISTRIBUTION_REACHES = {
    "agency": {"same_agency"},
    "sharing_group": {"same_agency", "sharing_group", "red_recipient"},
    "partnership": {"same_agency", "partnership", "red_recipient"},
    "all": {"same_agency", "sharing_group", "partnership", "outside", "red_recipient"},
}
# ...and how each TLP narrows it (None: as the distribution).
TLP_NARROWS: dict[str, set[str] | None] = {
    "CLEAR": None,
    "GREEN": None,
    "AMBER": None,
    "AMBER+STRICT": {"same_agency"},
    "RED": {"same_agency", "red_recipient"},
}
READING_ROLES = {Role.ANALYST, Role.OFFICER}


def expected(relationship: str, role: str) -> set[tuple[str, str]]:
    if role not in READING_ROLES:
        return set()  # the author is the police analyst, not this user
    visible = set()
    for distribution, tlp in itertools.product(DISTRIBUTIONS, TLPS):
        reached = set(DISTRIBUTION_REACHES[distribution])
        if TLP_NARROWS[tlp] is not None:
            reached &= TLP_NARROWS[tlp]
        if relationship in reached:
            visible.add((distribution, tlp))
    return visible


def orm_report(author: User, agency: Agency, **fields: Any) -> IntelligenceReport:
    """A report written straight to the table, so that the SQL rule is tested on every
    combination, including those the services refuse to write (RED recipients outside
    the distribution)."""
    recipients = fields.pop("recipients", [])
    values: dict[str, Any] = {
        "originating_agency": agency,
        "author": author,
        "title": "t",
        "summary": "s",
        "source_evaluation": "1",
        "intelligence_assessment": "A",
        "handling_code": "P",
        "tlp": "AMBER",
        "distribution": "all",
        "status": ReportStatus.SUBMITTED,
        "review_on": datetime.date(2030, 1, 1),
        **fields,
    }
    report = IntelligenceReport.objects.create(**values)
    report.tlp_recipients.set(recipients)
    return report


@pytest.fixture
def world(
    police: Agency,
    outside_police: Agency,
    partnership: Partnership,
    analyst: User,
) -> dict[str, Any]:
    """Every (distribution, TLP) report by the police, and one agency per relationship.

    Agency kinds let every tested role exist there (officers only in enforcement kinds).
    """
    crime_unit = AgencyFactory(name="Regional Crime Unit", kind=AgencyKind.NATIONAL_AGENCY)
    border = AgencyFactory(name="Border Force North", kind=AgencyKind.IMMIGRATION)
    inspectorate = AgencyFactory(name="Labour Inspectorate", kind=AgencyKind.LABOUR_INSPECTORATE)
    partnership.agencies.add(border, inspectorate)
    group = SharingGroup.objects.create(name="Cell", owner=police)
    group.members.set([police, crime_unit, inspectorate])
    for distribution, tlp in itertools.product(DISTRIBUTIONS, TLPS):
        orm_report(
            analyst,
            police,
            distribution=distribution,
            tlp=tlp,
            sharing_group=group if distribution == "sharing_group" else None,
            recipients=[inspectorate] if tlp == "RED" else [],
        )
    return {
        "agencies": {
            "same_agency": police,
            "sharing_group": crime_unit,
            "partnership": border,
            "outside": outside_police,
            "red_recipient": inspectorate,
        },
        "group": group,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("relationship", RELATIONSHIPS)
def test_audience_matrix(world: dict[str, Any], relationship: str, role: str) -> None:
    reader = member(world["agencies"][relationship], role)
    visible = set(readable_reports(reader).values_list("distribution", "tlp"))
    assert visible == expected(relationship, role)


def test_the_matrix_is_not_trivial() -> None:
    # Guards the table above: every relationship reads something and misses something.
    for relationship in RELATIONSHIPS:
        seen = expected(relationship, Role.ANALYST)
        assert seen, relationship
        if relationship != "same_agency":
            assert len(seen) < len(DISTRIBUTIONS) * len(TLPS), relationship


def test_readable_reports_is_one_query(
    world: dict[str, Any], django_assert_num_queries: Any
) -> None:
    reader = member(world["agencies"]["red_recipient"], Role.ANALYST)
    with django_assert_num_queries(1):
        rows = list(readable_reports(reader))
    assert len(rows) == len(expected("red_recipient", Role.ANALYST))
    with django_assert_num_queries(1):
        assert IntelligenceReport.objects.visible_to(reader).count() == len(rows)


def test_drafts_and_archived_reports_stay_in_the_originating_agency(
    police: Agency,
    partnership: Partnership,
    analyst: User,
    police_officer: User,
    immigration: Agency,
) -> None:
    draft = orm_report(analyst, police, status=ReportStatus.DRAFT, tlp="CLEAR")
    archived = orm_report(analyst, police, status=ReportStatus.ARCHIVED, tlp="CLEAR")
    partner = member(immigration, Role.ANALYST)
    assert set(readable_reports(police_officer)) == {draft, archived}
    assert not readable_reports(partner).exists()


def test_contributors_read_their_own_reports_and_supervisors_their_agencys_submitted(
    make_report: Any,
    caseworker: User,
    other_caseworker: User,
    case_manager: User,
    analyst: User,
) -> None:
    own_draft = make_report(caseworker, submit=False)
    own_submitted = make_report(caseworker)
    colleagues = make_report(other_caseworker, distribution="all", tlp="CLEAR")
    police_report = make_report(analyst, distribution="all", tlp="CLEAR")
    assert set(readable_reports(caseworker)) == {own_draft, own_submitted}
    # The case manager supervises: their agency's submitted reports (to re-grade them),
    # never a caseworker's draft, never a partner's report.
    assert set(readable_reports(case_manager)) == {own_submitted, colleagues}
    # The police analyst reads the charity's submitted reports, never its drafts.
    assert set(readable_reports(analyst)) == {own_submitted, colleagues, police_report}


def test_prosecutors_managers_and_admins_read_no_intelligence(
    make_report: Any, analyst: User, prosecutor: User, manager: User, police: Agency
) -> None:
    make_report(analyst, distribution="all", tlp="CLEAR")
    admin = member(police, Role.AGENCY_ADMIN)
    for user in (prosecutor, manager, admin):
        assert not readable_reports(user).exists()


def test_an_ended_partnership_shares_nothing(
    make_report: Any, analyst: User, immigration_analyst: User, partnership: Partnership
) -> None:
    report = make_report(analyst, distribution="partnership")
    assert list(readable_reports(immigration_analyst)) == [report]
    partnership.ends_on = datetime.date.today() - datetime.timedelta(days=1)
    partnership.save()
    assert not readable_reports(immigration_analyst).exists()


def test_a_sharing_group_owner_reads_without_being_listed(
    make_report: Any, analyst: User, police: Agency, crime_unit: Agency
) -> None:
    group = SharingGroup.objects.create(name="Owned by the unit", owner=crime_unit)
    group.members.set([police])
    report = make_report(analyst, distribution="sharing_group", sharing_group=group)
    assert list(readable_reports(member(crime_unit, Role.OFFICER))) == [report]


def test_a_role_change_applies_at_once(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    make_report(analyst, distribution="all", tlp="GREEN")
    assert readable_reports(immigration_analyst).exists()
    immigration_analyst.membership.role = Role.CASEWORKER
    immigration_analyst.membership.save()
    assert not readable_reports(immigration_analyst).exists()


def test_inactive_users_and_superusers_without_membership_read_nothing(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    make_report(analyst, distribution="all", tlp="CLEAR")
    immigration_analyst.is_active = False
    assert not readable_reports(immigration_analyst).exists()
    root = User.objects.create_superuser("root", "root@example.org", "a-long-test-password-1")
    assert not readable_reports(root).exists()


def test_visible_to_refuses_other_permissions(analyst: User) -> None:
    with pytest.raises(ValueError, match="view_report"):
        IntelligenceReport.objects.visible_to(analyst, "intelligence.add_report")


def test_reader_fields(
    make_report: Any, analyst: User, immigration_analyst: User, outside_analyst: User
) -> None:
    report = make_report(analyst)
    assert audience.reader_fields(analyst, report) == audience.ALL_FIELDS
    partner_fields = audience.reader_fields(immigration_analyst, report)
    assert partner_fields == audience.SUMMARY_FIELDS
    assert not partner_fields & {"full_text", "source_description", "author"}
    assert audience.reader_fields(outside_analyst, report) == frozenset()
    assert audience.may_read_full(analyst, report)
    assert not audience.may_read_full(immigration_analyst, report)
    assert not audience.may_read_full(outside_analyst, report)


def test_service_and_audience_agree_on_the_api_field_names() -> None:
    api_fields = set(report_fields.REPORT_FIELDS) - {"review_on", "linked_cases"}
    assert api_fields <= audience.ALL_FIELDS
    assert {"full_text", "source_description"} <= audience.FULL_ONLY_FIELDS
