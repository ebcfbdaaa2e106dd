"""The permission matrix's rows for evidence requests, break-glass and justice outcomes
(pages and API): the police ask for evidence on the case Harbour shared with them, and
Harbour's care roles decide; Harbour's case manager broke the glass on a case of its own;
see ``tests/permission_matrix.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.permission_matrix import (
    API_ANON,
    HTML_LOGIN,
    Expect,
    Rows,
    Statuses,
    World,
    case_pk,
    check,
    each_row,
    everyone,
    only,
)

shared_pk = lambda w: {"pk": w.parts["shared_case"].pk}  # noqa: E731
break_glass_pk = lambda w: {"pk": w.parts["break_glass"].pk}  # noqa: E731


def evidence_pk(key: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.parts[key].pk}


def deciders(decider: int, officer: int) -> Statuses:
    """The lead agency's care roles decide; the officer who asked sees; others: 404."""
    return only({"caseworker": decider, "case_manager": decider, "officer": officer}, 404, API_ANON)


# Those who see the shared case but do not enforce the law: the lead's care roles, the
# analyst, and the Council's caseworker (an accepted health referral).
SEE_BUT_DO_NOT_ENFORCE = {
    "caseworker": 403,
    "case_manager": 403,
    "analyst": 403,
    "partner_caseworker": 403,
}
REVIEWERS = {"case_manager": 200, "agency_admin": 200, "partnership_manager": 200}

ROWS: Rows = {
    # --- the pages ----------------------------------------------------------------------
    "casework:evidence_list": [
        Expect("GET", everyone(200, HTML_LOGIN), note="own requests, or to decide")
    ],
    "casework:evidence_request_new": [
        Expect(
            "GET",
            only({"officer": 200, **SEE_BUT_DO_NOT_ENFORCE}, 404, HTML_LOGIN),
            kwargs=shared_pk,
            note="officers who see the case ask; other roles who see it: 403",
        )
    ],
    "casework:evidence_request": [
        Expect(
            "GET",
            only({"caseworker": 200, "case_manager": 200, "officer": 200}, 404, HTML_LOGIN),
            kwargs=lambda w: {
                "pk": w.parts["shared_case"].pk,
                "request_id": w.parts["evidence_request"].pk,
            },
            note="the officer who asked and the lead agency's care roles",
        )
    ],
    "casework:break_glass_open": [
        Expect(
            "GET",
            only({"officer": 200, "case_manager": 200, "outsider": 200}, 403, HTML_LOGIN),
            note="a role's power: officers and case managers",
        ),
        Expect(
            "POST",
            only({"officer": 302, "case_manager": 302, "outsider": 200}, 403, HTML_LOGIN),
            data=lambda w, r: {
                # Not the case the case manager's glass is open on: a second opening
                # of that one is refused while it is open (409, a form error).
                "reference": w.case.reference,
                "grounds": "threat_to_life",
                # A reason of its own: the case manager broke this glass for "Threat to
                # life" within the hour, and the same reason again is refused.
                "reason": "Threat to life, seen again",
                "confirm": "on",
            },
            note="outside the lead agency's partnership: the form says no such case",
        ),
    ],
    "casework:break_glass": [
        Expect(
            "GET",
            only({"case_manager": 200, "agency_admin": 200}, 404, HTML_LOGIN),
            kwargs=lambda w: {"bg_id": w.parts["break_glass"].pk},
            note="the opener (Harbour's only case manager) and its reviewer (Harbour's "
            "agency admin: the breaker never reviews their own); 404 to the rest",
        ),
        Expect(
            "POST",
            only(
                {"agency_admin": 302, "case_manager": 403, "partnership_manager": 404},
                403,
                HTML_LOGIN,
            ),
            kwargs=lambda w: {"bg_id": w.parts["break_glass"].pk},
            data=lambda w, r: {"note": "Justified"},
            note="its reviewer records the review; the opener sees it but may not; a "
            "role that never reviews: 403 before the lookup",
        ),
    ],
    "casework:break_glass_reviews": [
        Expect(
            "GET",
            only(REVIEWERS, 403, HTML_LOGIN),
            note="the roles that review break-glass",
        )
    ],
    "casework:outcome_add": [
        Expect(
            "GET",
            only({"officer": 200, **SEE_BUT_DO_NOT_ENFORCE}, 404, HTML_LOGIN),
            kwargs=shared_pk,
            note="officers and prosecutors who see the case record outcomes",
        )
    ],
    # --- the API ------------------------------------------------------------------------
    "api:evidence-request-list": [
        Expect("GET", everyone(200, API_ANON), api=True, note="own, or to decide"),
        Expect(
            "POST",
            only({"officer": 201, "outsider": 400}, 403, API_ANON),
            api=True,
            data=lambda w, r: {
                "case": w.parts["shared_case"].pk,
                "purpose": "Op Harvest",
                "legal_basis": "MSA 2015",
                "items": w.parts["evidence_items"],
            },
            note="officers who see the case; another force: 400 'no such case'",
        ),
    ],
    "api:evidence-request-detail": [
        Expect("GET", deciders(200, 200), api=True, kwargs=evidence_pk("evidence_request"))
    ],
    "api:evidence-request-approve": [
        Expect(
            "POST",
            deciders(200, 403),
            api=True,
            kwargs=evidence_pk("evidence_request"),
            data=lambda w, r: {"items": w.parts["evidence_items"], "victim_consulted": True},
        )
    ],
    "api:evidence-request-decline": [
        Expect(
            "POST",
            deciders(200, 403),
            api=True,
            kwargs=evidence_pk("evidence_request"),
            data=lambda w, r: {"reason": "Not ready"},
        )
    ],
    "api:evidence-request-withdraw": [
        Expect("POST", deciders(403, 200), api=True, kwargs=evidence_pk("evidence_request"))
    ],
    "api:evidence-request-revoke": [
        Expect(
            "POST",
            deciders(200, 403),
            api=True,
            kwargs=evidence_pk("approved_evidence"),
            data=lambda w, r: {"reason": "Unwell"},
        )
    ],
    "api:case-break-glass": [
        Expect(
            "POST",
            only({"officer": 201, "case_manager": 201, "caseworker": 403}, 404, API_ANON),
            api=True,
            kwargs=case_pk,
            data=lambda w, r: {"grounds": "threat_to_life", "reason": "Threat to life, again"},
            note="a case the caller may not break the glass on (a role without the power, "
            "or outside the lead agency's partnership) is the 404 of a missing case; 403 "
            "only to a role without the power that sees the case",
        )
    ],
    "api:break-glass-list": [
        Expect("GET", everyone(200, API_ANON), api=True, note="scoped: each their own"),
    ],
    "api:break-glass-detail": [
        Expect(
            "GET",
            only({"case_manager": 200, "agency_admin": 200}, 404, API_ANON),
            api=True,
            kwargs=break_glass_pk,
            note="as the page: its opener and its reviewer",
        )
    ],
    "api:break-glass-to-review": [Expect("GET", only(REVIEWERS, 403, API_ANON), api=True)],
    "api:break-glass-review": [
        Expect(
            "POST",
            only(
                {"agency_admin": 200, "case_manager": 403, "partnership_manager": 404},
                403,
                API_ANON,
            ),
            api=True,
            kwargs=break_glass_pk,
            data=lambda w, r: {"note": "Justified"},
            note="as the page",
        )
    ],
    "api:case-outcomes": [
        Expect(
            "GET",
            only({role: 200 for role in SEE_BUT_DO_NOT_ENFORCE} | {"officer": 200}, 404, API_ANON),
            api=True,
            kwargs=shared_pk,
            note="every role that sees the case reads what justice did",
        ),
        Expect(
            "POST",
            only({"officer": 201, **SEE_BUT_DO_NOT_ENFORCE}, 404, API_ANON),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"crime_recorded": True, "crime_reference": "NP/1"},
        ),
    ],
}


@pytest.mark.django_db
@each_row(ROWS)
def test_route_answers_each_role_as_expected(matrix_world: World, name: str, index: int) -> None:
    check(name, ROWS[name][index], matrix_world)
