"""The permission matrix's rows for intelligence: reports, matches, operations
and their visits, pages and API. A report by the police analyst (partnership, AMBER); a C
report by Harbour's case manager; an operation led by the police with Harbour as partner.
See ``tests/permission_matrix.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from tests.permission_matrix import (
    API_ANON,
    HTML_LOGIN,
    Expect,
    Rows,
    Statuses,
    World,
    check,
    each_row,
    everyone,
    only,
)

CONTRIBUTOR_ROLES = (
    "caseworker",
    "case_manager",
    "officer",
    "analyst",
    "partner_caseworker",
    "outsider",
)


def contributors(status: int, others: int = 403, **overrides: int) -> Statuses:
    """Roles that write intelligence and take part in operations get ``status`` (the
    outsider and the Council's caseworker too: they have the role, just not these
    records)."""
    return only({**{r: status for r in CONTRIBUTOR_ROLES}, **overrides}, others, API_ANON)


def intel_pk(part: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.parts[part].pk}


REPORT_BODY = {
    "title": "Farm",
    "summary": "Pickers sleep in a barn.",
    "source_evaluation": "2",
    "intelligence_assessment": "B",
    "handling_code": "P",
    "tlp": "AMBER",
    "distribution": "partnership",
}
NEW_REPORT = {
    "title": "Nail bar",
    "summary": "Cash only.",
    "source_evaluation": "3",
    "intelligence_assessment": "D",
    "handling_code": "P",
    "tlp": "GREEN",
    "distribution": "all",
    "action": "draft",
}
# Roles that never use intelligence: agency admins, prosecutors, partnership managers.
NO_INTELLIGENCE = {"agency_admin": 403, "prosecutor": 403, "partnership_manager": 403}
INTEL_USERS = {"caseworker": 200, "case_manager": 200, "officer": 200, "analyst": 200}
POLICE_READ = {**NO_INTELLIGENCE, "officer": 200, "analyst": 200}  # others: 404
# The police lead the operation and Harbour is its partner; the Council and the outsider
# are not in it: 404.
OPERATION_SEEN = {**NO_INTELLIGENCE, **INTEL_USERS}

ROWS: Rows = {
    # --- the API ------------------------------------------------------------------------
    "api:intelligence-report-list": [
        Expect(
            "GET",
            contributors(200),
            api=True,
            note="search; a contributor who does not read intelligence finds their own",
        ),
        Expect("POST", contributors(201), api=True, data=lambda w, r: REPORT_BODY),
    ],
    "api:intelligence-report-detail": [
        Expect(
            "GET",
            contributors(404, officer=200, analyst=200),
            api=True,
            kwargs=intel_pk("report"),
            note="partnership AMBER: read by intelligence roles of partners; 404 otherwise; "
            "roles that never use intelligence 403 first, as in the browser",
        ),
        Expect(
            "PATCH",
            contributors(404, officer=200, analyst=200),
            api=True,
            kwargs=intel_pk("report"),
            data=lambda w, r: {"title": "Hand car wash"},
            note="the police's own report",
        ),
        Expect(
            "PUT", everyone(405, API_ANON), api=True, kwargs=intel_pk("report"), note="PATCH only"
        ),
    ],
    "api:intelligence-report-acknowledge-conditions": [
        Expect(
            "POST",
            only({"officer": 200, "analyst": 200, "outsider": 404}, 403, API_ANON),
            api=True,
            kwargs=intel_pk("c_report"),
            note="Harbour's C report: the police accept; roles that read no other agency's "
            "intelligence 403 first, as in the browser",
        )
    ],
    "api:intelligence-report-matches": [Expect("GET", contributors(200), api=True)],
    "api:intelligence-report-match-detail": [
        Expect(
            "GET",
            contributors(404, officer=200, analyst=200),
            api=True,
            kwargs=lambda w: {"match_pk": w.parts["match"].pk},
            note="opening a match names the agency: the police were told; Harbour was not",
        )
    ],
    "api:operation-list": [
        Expect("GET", contributors(200), api=True),
        Expect(
            "POST",
            contributors(201, caseworker=403, partner_caseworker=403),
            api=True,
            data=lambda w, r: {"name": "Operation Harvest", "starts_on": "2026-01-05"},
            note="officers, analysts and case managers lead operations",
        ),
    ],
    "api:operation-visits": [
        Expect(
            "GET",
            contributors(200, outsider=404, partner_caseworker=404),
            api=True,
            kwargs=intel_pk("operation"),
            note="the lead (police) and the partner (Harbour)",
        ),
        Expect(
            "POST",
            contributors(201, outsider=404, partner_caseworker=404),
            api=True,
            kwargs=intel_pk("operation"),
            data=lambda w, r: {
                "premises_type": "car_wash",
                "postcode_district": "NE1",
                "visited_on": timezone.localdate().isoformat(),
                "outcome": "no_concerns",
            },
        ),
    ],
    # --- the pages ----------------------------------------------------------------------
    "intelligence:report_list": [
        Expect("GET", only(NO_INTELLIGENCE, 200, HTML_LOGIN)),
        Expect(
            "POST",
            only(NO_INTELLIGENCE, 200, HTML_LOGIN),
            data=lambda w, r: {"q": "car wash", "tlp": "AMBER"},
            note="the search is posted, so its words never travel in a URL",
        ),
    ],
    "intelligence:report_create": [
        Expect("GET", only(NO_INTELLIGENCE, 200, HTML_LOGIN)),
        Expect(
            "POST",
            only(NO_INTELLIGENCE, 302, HTML_LOGIN),
            data=lambda w, r: NEW_REPORT,
            note="a draft for the writer's own agency",
        ),
    ],
    "intelligence:report_detail": [
        Expect(
            "GET",
            only(POLICE_READ, 404, HTML_LOGIN),
            kwargs=intel_pk("report"),
            note="contributors read only their own reports; outside the partnership: 404",
        )
    ],
    "intelligence:report_edit": [
        Expect("GET", only(POLICE_READ, 404, HTML_LOGIN), kwargs=intel_pk("report"))
    ],
    "intelligence:report_regrade": [
        Expect(
            "GET",
            only({**POLICE_READ, "caseworker": 403, "partner_caseworker": 403}, 404, HTML_LOGIN),
            kwargs=intel_pk("report"),
            note="caseworkers never re-grade; case managers do, on their own agency's",
        )
    ],
    "intelligence:report_submit": [
        Expect(
            "POST",
            only({**NO_INTELLIGENCE, "officer": 302, "analyst": 302}, 404, HTML_LOGIN),
            kwargs=intel_pk("draft"),
        ),
        Expect("GET", only({}, 405, HTML_LOGIN), kwargs=intel_pk("draft")),
    ],
    "intelligence:report_archive": [
        Expect(
            "POST",
            only({**NO_INTELLIGENCE, "officer": 302, "analyst": 302}, 404, HTML_LOGIN),
            kwargs=intel_pk("report"),
        )
    ],
    "intelligence:report_acknowledge": [
        Expect(
            "POST",
            only(
                {
                    **NO_INTELLIGENCE,
                    "caseworker": 403,
                    "case_manager": 403,
                    "partner_caseworker": 403,
                    "officer": 302,
                    "analyst": 302,
                },
                404,
                HTML_LOGIN,
            ),
            kwargs=intel_pk("c_report"),
            note="readers of another agency's C report; contributors read no others",
        )
    ],
    "intelligence:match_list": [Expect("GET", only(NO_INTELLIGENCE, 200, HTML_LOGIN))],
    "intelligence:match_detail": [
        Expect(
            "GET",
            only(POLICE_READ, 404, HTML_LOGIN),
            kwargs=intel_pk("match"),
            note="the police were told (their police-only report); Harbour was not",
        )
    ],
    "intelligence:operation_list": [Expect("GET", only(NO_INTELLIGENCE, 200, HTML_LOGIN))],
    "intelligence:operation_create": [
        Expect(
            "GET",
            only(
                {**NO_INTELLIGENCE, "caseworker": 403, "partner_caseworker": 403}, 200, HTML_LOGIN
            ),
        )
    ],
    "intelligence:operation_detail": [
        Expect("GET", only(OPERATION_SEEN, 404, HTML_LOGIN), kwargs=intel_pk("operation"))
    ],
    "intelligence:visit_create": [
        Expect("GET", only(OPERATION_SEEN, 404, HTML_LOGIN), kwargs=intel_pk("operation"))
    ],
    "intelligence:visit_detail": [
        Expect("GET", only(OPERATION_SEEN, 404, HTML_LOGIN), kwargs=intel_pk("visit"))
    ],
    "intelligence:visit_start_case": [
        Expect(
            "POST",
            only(
                {"caseworker": 302, "case_manager": 302, "partner_caseworker": 404}, 403, HTML_LOGIN
            ),
            kwargs=intel_pk("visit"),
            note="caseworkers and case managers of an agency in the operation; one of an "
            "agency outside it does not see the visit: 404; roles that open no case 403 first",
        )
    ],
    "intelligence:visit_start_report": [
        Expect("GET", only(OPERATION_SEEN, 404, HTML_LOGIN), kwargs=intel_pk("visit"))
    ],
}


@pytest.mark.django_db
@each_row(ROWS)
def test_route_answers_each_role_as_expected(matrix_world: World, name: str, index: int) -> None:
    check(name, ROWS[name][index], matrix_world)
