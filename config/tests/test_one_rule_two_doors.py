"""One rule, two doors: a page and its API twin answer alike for the same situation.

Each pair in ``TWINS`` names one row of the permission matrix at each door (the route,
the method, and which of that route's rows for the method). The matrix test checks every
row against the running app; this module checks that the two rows of a pair are about the
same record and that, role by role, they expect the same outcome. So a change that makes
one door answer differently fails here even when the matrix rows were updated to match.

Outcomes compare across doors: a signed-out visitor is sent to sign in (the page's 302
to the login, the API's 401); success is a page (200) or a redirect after a form (302) in
the browser, any 2xx in the API; a form that re-renders with its errors (200 after a POST)
is the API's 400; 403, 404, 405 and 409 are themselves.

Every HTML route of the apps that have an API is either paired or listed in ``NO_TWIN``
with the reason, so a new page has to say where its API twin is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.permission_matrix import (
    ROLES,
    Expect,
    build_world,
    matrix,
    route_names,
)

MATRIX = matrix()


@dataclass(frozen=True)
class Door:
    route: str
    method: str
    nth: int = 0  # which of the route's rows with this method

    def row(self) -> Expect:
        rows = [e for e in MATRIX[self.route] if e.method == self.method]
        assert len(rows) > self.nth, f"{self.route} has no row {self.nth} for {self.method}"
        return rows[self.nth]


TWINS: list[tuple[Door, Door]] = [
    # --- cases ------------------------------------------------------------------------
    (Door("casework:case_list", "GET"), Door("api:case-list", "GET")),
    (Door("casework:case_create", "POST"), Door("api:case-list", "POST")),
    (Door("casework:case_detail", "GET"), Door("api:case-detail", "GET")),
    (Door("casework:case_access", "GET"), Door("api:case-access", "GET")),
    (Door("casework:document_download", "GET"), Door("api:case-document-download", "GET")),
    (Door("casework:note_add", "POST"), Door("api:case-notes", "POST")),
    (Door("casework:consent_withdraw", "POST"), Door("api:case-withdraw-consent", "POST")),
    (Door("casework:flag_clear", "POST"), Door("api:case-clear-flag", "POST")),
    (Door("casework:transfer_propose", "POST"), Door("api:case-transfer", "POST")),
    (Door("casework:transfer_answer", "POST"), Door("api:case-answer-transfer", "POST")),
    (Door("casework:transfer_answer", "POST", 1), Door("api:case-answer-transfer", "POST", 1)),
    (
        Door("casework:possible_duplicate_dismiss", "POST"),
        Door("api:case-dismiss-possible-duplicate", "POST"),
    ),
    (
        Door("casework:possible_duplicate_dismiss", "POST", 1),
        Door("api:case-dismiss-possible-duplicate", "POST", 1),
    ),
    # --- evidence ---------------------------------------------------------------------
    (Door("casework:evidence_list", "GET"), Door("api:evidence-request-list", "GET")),
    (Door("casework:evidence_request", "GET"), Door("api:evidence-request-detail", "GET")),
    # --- notifications ----------------------------------------------------------------
    (Door("notifications:inbox", "GET"), Door("api:notification-list", "GET")),
    (Door("notifications:mark_read", "POST"), Door("api:notification-read", "POST")),
    (Door("notifications:mark_read", "GET"), Door("api:notification-read", "GET")),
    # --- agency users -----------------------------------------------------------------
    (Door("agencies:member_list", "GET"), Door("api:member-list", "GET")),
    (Door("agencies:member_create", "POST"), Door("api:member-list", "POST")),
    (Door("agencies:member_detail", "GET"), Door("api:member-detail", "GET")),
    (Door("agencies:member_detail", "GET", 1), Door("api:member-detail", "GET", 1)),
    (Door("agencies:member_detail", "POST"), Door("api:member-detail", "PATCH")),
    (Door("agencies:member_deactivate", "POST"), Door("api:member-deactivate", "POST")),
    (Door("agencies:member_deactivate", "POST", 1), Door("api:member-deactivate", "POST", 1)),
    (Door("agencies:member_reactivate", "POST"), Door("api:member-reactivate", "POST")),
    (
        Door("agencies:member_second_factor_reset", "POST"),
        Door("api:member-reset-second-factor", "POST"),
    ),
    (
        Door("agencies:member_second_factor_reset", "POST", 1),
        Door("api:member-reset-second-factor", "POST", 1),
    ),
    (Door("agencies:member_reactivate", "POST", 1), Door("api:member-reactivate", "POST", 1)),
    # --- the parts of a case shared with the police ------------------
    (Door("casework:case_detail", "GET", 1), Door("api:case-detail", "GET", 1)),
    (Door("casework:case_access", "GET", 1), Door("api:case-access", "GET", 1)),
    (Door("casework:note_add", "POST", 1), Door("api:case-notes", "POST", 1)),
    (Door("casework:need_add", "GET", 1), Door("api:case-needs", "POST", 1)),
    (Door("casework:consent_add", "GET", 1), Door("api:case-consents", "POST", 1)),
    (Door("casework:flag_add", "GET", 1), Door("api:case-flags", "POST", 1)),
    (Door("casework:identity_edit", "GET", 1), Door("api:case-identity", "PUT", 1)),
    (
        Door("casework:document_download", "GET", 1),
        Door("api:case-document-download", "GET", 1),
    ),
    (Door("casework:case_edit", "GET", 1), Door("api:case-detail", "PATCH", 1)),
    # --- ... and to the Council: parts of a case seen in part ------------------------------
    (Door("casework:consent_withdraw", "POST", 1), Door("api:case-withdraw-consent", "POST", 1)),
    (Door("casework:flag_clear", "POST", 1), Door("api:case-clear-flag", "POST", 1)),
    (
        Door("casework:document_download", "GET", 2),
        Door("api:case-document-download", "GET", 2),
    ),
    # --- case tasks --------------------------------------------------------
    (Door("casework:task_done", "POST"), Door("api:case-task-done", "POST")),
    (Door("casework:task_done", "POST", 1), Door("api:case-task-done", "POST", 1)),
    # --- break-glass --------------------------------------------------------------------
    (Door("casework:break_glass", "GET"), Door("api:break-glass-detail", "GET")),
    (Door("casework:break_glass", "POST"), Door("api:break-glass-review", "POST")),
    (Door("casework:break_glass_reviews", "GET"), Door("api:break-glass-to-review", "GET")),
    # --- referrals and the NRM ----------------------------------------------------------
    (Door("referrals:inbox", "GET"), Door("api:referral-list", "GET")),
    (Door("referrals:referral_detail", "GET"), Door("api:referral-detail", "GET")),
    (Door("referrals:referral_answer", "POST"), Door("api:referral-accept", "POST")),
    (Door("referrals:deadlines", "GET"), Door("api:deadlines", "GET")),
    (Door("referrals:case_nrm", "GET"), Door("api:case-nrm-list", "GET")),
    (Door("referrals:case_nrm", "POST"), Door("api:case-nrm-detail", "PATCH")),
    (Door("referrals:referral_detail", "GET", 1), Door("api:referral-detail", "GET", 1)),
    (Door("referrals:case_nrm", "GET", 1), Door("api:case-nrm-list", "GET", 1)),
    # --- intelligence -------------------------------------------------------------------
    (Door("intelligence:report_list", "GET"), Door("api:intelligence-report-list", "GET")),
    (Door("intelligence:report_create", "POST"), Door("api:intelligence-report-list", "POST")),
    (Door("intelligence:report_detail", "GET"), Door("api:intelligence-report-detail", "GET")),
    (
        Door("intelligence:report_acknowledge", "POST"),
        Door("api:intelligence-report-acknowledge-conditions", "POST"),
    ),
    (Door("intelligence:match_list", "GET"), Door("api:intelligence-report-matches", "GET")),
    (
        Door("intelligence:match_detail", "GET"),
        Door("api:intelligence-report-match-detail", "GET"),
    ),
    (Door("intelligence:operation_list", "GET"), Door("api:operation-list", "GET")),
    (Door("intelligence:operation_create", "GET"), Door("api:operation-list", "POST")),
    (Door("intelligence:operation_detail", "GET"), Door("api:operation-visits", "GET")),
    (Door("intelligence:visit_create", "GET"), Door("api:operation-visits", "POST")),
    # --- dashboards ---------------------------------------------------------------------
    (
        Door("dashboards:partnership_dashboard", "GET"),
        Door("api:dashboard-partnership", "GET"),
    ),
    (Door("dashboards:agency_dashboard", "GET"), Door("api:dashboard-agency", "GET")),
]

# HTML routes with no API twin, and why. Routes outside these apps (sign-in, password
# pages, health checks, the admin) are the platform's, not a domain record's.
NO_TWIN: dict[str, str] = {
    "casework:my_needs": "the caseworker's own needs across cases: a page of work, no record",
    "casework:break_glass_open": "names the case by its reference in a form; the API's "
    "POST /cases/<id>/break-glass/ by id (casework/tests/test_break_glass_doors.py)",
    "casework:case_status": "activate or close in one form: PATCH status and POST close/",
    "casework:document_upload": "the form for POST /cases/<id>/documents/ (a file to send)",
    "casework:evidence_request_new": "the case is in this URL and in the API's body "
    "(POST /evidence-requests/: 400 for a case the caller does not see)",
    "casework:location_edit": "the form for PUT /cases/<id>/location/",
    "casework:need_edit": "the form for PATCH /cases/<id>/needs/<need>/",
    "casework:note_edit": "an author's correction of their own note, not in the API yet",
    "casework:outcome_add": "the form for POST /cases/<id>/outcomes/",
    "referrals:referral_create": "the case is in this URL and in the API's body "
    "(POST /referrals/: 400 for a case the caller does not see)",
    "intelligence:report_edit": "the form for PATCH /intelligence/<id>/",
    "intelligence:report_regrade": "PATCH /intelligence/<id>/ with a new grading",
    "intelligence:report_submit": "PATCH /intelligence/<id>/ with status submitted",
    "intelligence:report_archive": "PATCH /intelligence/<id>/ with status archived",
    "intelligence:visit_detail": "read in GET /operations/<id>/visits/",
    "intelligence:visit_start_case": "a pre-filled case form: POST /cases/ is the twin",
    "intelligence:visit_start_report": "a pre-filled report form: POST /intelligence/",
    "dashboards:list": "the dashboards a user may open: links, no data",
    "dashboards:partnership_report": "the printable page of the partnership's JSON",
    "dashboards:agency_report": "the printable page of the agency's JSON",
    "dashboards:partnership_csv": "one table of the partnership's JSON as CSV",
    "dashboards:agency_csv": "one table of the agency's JSON as CSV",
    "dashboards:partnership_export": "a background export for download in the browser",
    "dashboards:agency_export": "a background export for download in the browser",
    "dashboards:export_detail": "a background export for download in the browser",
    "dashboards:export_download": "a background export for download in the browser",
    "notifications:mark_all_read": "a convenience of the inbox page",
}
TWINNED_APPS = ("casework", "referrals", "intelligence", "dashboards", "notifications", "agencies")


def _outcome(status: int, *, html: bool, method: str, role: str) -> str:
    if role == "anonymous" and status == (302 if html else 401):
        return "sign in"
    if html:
        if status == 302 or (status == 200 and method in ("GET", "HEAD")):
            return "ok"
        if status == 200:
            return "bad input"  # the form re-rendered with its errors
    elif 200 <= status < 300:
        return "ok"
    elif status == 400:
        return "bad input"
    return str(status)


def _outcomes(expect: Expect, role: str) -> frozenset[str]:
    wanted = expect.statuses[role]
    statuses = wanted if isinstance(wanted, frozenset) else {wanted}
    return frozenset(
        _outcome(s, html=not expect.api, method=expect.method, role=role) for s in statuses
    )


@pytest.mark.parametrize(
    ("page", "api"), TWINS, ids=[f"{p.route}={a.route}[{p.nth}]" for p, a in TWINS]
)
def test_a_page_and_its_api_twin_expect_the_same_outcome_for_every_role(
    page: Door, api: Door
) -> None:
    html_row, api_row = page.row(), api.row()
    assert not html_row.api and api_row.api, "a twin is one page and one API route"
    differ = [
        f"{role}: page {sorted(_outcomes(html_row, role))} / API {sorted(_outcomes(api_row, role))}"
        for role in ROLES
        if _outcomes(html_row, role) != _outcomes(api_row, role)
    ]
    assert not differ, f"{page.route} and {api.route} answer differently: " + "; ".join(differ)


@pytest.mark.django_db
def test_twins_are_about_the_same_record() -> None:
    world = build_world()
    differ = []
    for page, api in TWINS:
        # The record ids in each URL: one door may name the case as well as its part
        # (/cases/<id>/evidence/<request>/ and /evidence-requests/<request>/).
        page_ids = {v for v in page.row().kwargs(world).values() if isinstance(v, int)}
        api_ids = {v for v in api.row().kwargs(world).values() if isinstance(v, int)}
        if not (page_ids <= api_ids or api_ids <= page_ids):
            differ.append(f"{page.route} {sorted(page_ids)} / {api.route} {sorted(api_ids)}")
    assert not differ, "twins must name the same records: " + "; ".join(differ)


def test_every_page_has_a_twin_or_a_reason() -> None:
    twinned = {page.route for page, _ in TWINS}
    pages = sorted(
        name
        for name in route_names()
        if name.split(":")[0] in TWINNED_APPS and not name.startswith("api:")
    )
    missing = [name for name in pages if name not in twinned and name not in NO_TWIN]
    stale = sorted(set(NO_TWIN) - set(pages)) + sorted(twinned & set(NO_TWIN))
    assert not missing, f"pages with neither an API twin nor a reason: {missing}"
    assert not stale, f"NO_TWIN entries to remove: {stale}"
