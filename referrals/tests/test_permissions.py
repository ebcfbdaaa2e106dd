"""The permission matrix's rows for referrals and the NRM (pages and API).

A referral from Harbour Trust to Northshire Police: the referring caseworkers and the
receiving officer see it; roles that never work with referrals (the police analyst, the
Council's partnership manager, agency admins) get 403 before any id is looked up, at both
doors; everyone else gets 404. See ``tests/permission_matrix.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from agencies.models import Partnership
from tests.permission_matrix import (
    API_ANON,
    CARE,
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


def referral(key: str = "referral") -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.parts[key].pk}


# Roles that never hold referrals.view_referral (nor make referrals): 403, as the inbox.
NO_REFERRAL_WORK = {"analyst": 403, "partnership_manager": 403, "agency_admin": 403}
# Roles that never work with the NRM (no referrals.*_nrmreferral): 403 likewise.
NO_NRM_WORK = {**NO_REFERRAL_WORK, "prosecutor": 403}


def parties(sender: int, receiver: int, anonymous: int = API_ANON) -> Statuses:
    return only(
        {"caseworker": sender, "case_manager": sender, "officer": receiver, **NO_REFERRAL_WORK},
        404,
        anonymous,
    )


def nrm_work(status: int, anonymous: int = API_ANON) -> Statuses:
    """Harbour's care roles (the lead and the referrer); roles without NRM work 403; the
    rest do not see the case: 404."""
    return only({"caseworker": status, "case_manager": status, **NO_NRM_WORK}, 404, anonymous)


def council_parties(sender: int, receiver: int, anonymous: int = API_ANON) -> Statuses:
    """The health referral Harbour sent the Council, which its caseworker accepted."""
    return only(
        {
            "caseworker": sender,
            "case_manager": sender,
            "partner_caseworker": receiver,
            **NO_REFERRAL_WORK,
        },
        404,
        anonymous,
    )


def shared_nrm_readers(anonymous: int) -> Statuses:
    """The case Harbour shared with the police and the Council: every role that sees it
    and works with the NRM reads its NRM referrals (none yet); roles without NRM work
    403; the rest do not see the case: 404."""
    readers = {**CARE, "officer": 200, "partner_caseworker": 200}
    return only({**readers, **NO_NRM_WORK}, 404, anonymous)


main_case = lambda w: {"case_pk": w.case.pk}  # noqa: E731
shared_case = lambda w: {"case_pk": w.parts["shared_case"].pk}  # noqa: E731
main_nrm = lambda w: {"case_pk": w.case.pk, "pk": w.parts["nrm"].pk}  # noqa: E731

ROWS: Rows = {
    # --- the API ------------------------------------------------------------------------
    "api:referral-list": [
        Expect(
            "GET",
            only(NO_REFERRAL_WORK, 200, API_ANON),
            api=True,
            note="to or from the caller's agency; roles without referrals 403, as the inbox",
        ),
        Expect(
            "POST",
            only({"caseworker": 201, "case_manager": 201, **NO_REFERRAL_WORK}, 400, API_ANON),
            api=True,
            data=lambda w, r: {
                "case": w.case.pk,
                "to_agency": w.agencies["council"].pk,
                "kind": "health",
                "reason": "GP",
            },
            note="a case id in the body the caller does not see: 400 'no such case'",
        ),
    ],
    "api:referral-detail": [
        Expect("GET", parties(200, 200), api=True, kwargs=referral()),
        Expect(
            "GET",
            council_parties(200, 200),
            api=True,
            kwargs=referral("council_referral"),
            note="the Council's caseworker took it on; the police are no party to it",
        ),
    ],
    "api:referral-accept": [Expect("POST", parties(403, 200), api=True, kwargs=referral())],
    "api:referral-decline": [
        Expect(
            "POST",
            parties(403, 200),
            api=True,
            kwargs=referral(),
            data=lambda w, r: {"reason": "No"},
        )
    ],
    "api:referral-withdraw": [Expect("POST", parties(200, 403), api=True, kwargs=referral())],
    "api:referral-complete": [
        Expect("POST", parties(403, 200), api=True, kwargs=referral("accepted_referral"))
    ],
    "api:case-nrm-list": [
        Expect("GET", nrm_work(200), api=True, kwargs=main_case),
        Expect(
            "POST",
            nrm_work(409),
            api=True,
            kwargs=main_case,
            note="the case already has an NRM referral in progress: the rule "
            "is checked first, so only those allowed learn the state; 201 is in "
            "referrals/tests/test_nrm.py",
        ),
        Expect(
            "GET",
            shared_nrm_readers(API_ANON),
            api=True,
            kwargs=shared_case,
            note="the case shared with the police and the Council: those who see it and work "
            "with the NRM (access.md)",
        ),
    ],
    "api:case-nrm-detail": [
        Expect(
            "PATCH",
            nrm_work(200),
            api=True,
            kwargs=main_nrm,
            data=lambda w, r: {"competent_authority_reference": "CA-1"},
        ),
    ],
    "api:case-nrm-withdraw": [
        Expect(
            "POST",
            nrm_work(200),
            api=True,
            kwargs=main_nrm,
            data=lambda w, r: {"reason": "Going home"},
        ),
    ],
    "api:case-nrm-reconsiderations": [
        Expect(
            "POST",
            nrm_work(409),
            api=True,
            kwargs=main_nrm,
            data=lambda w, r: {
                "requested_on": timezone.localdate().isoformat(),
                "requested_by": "person",
                "grounds": "New evidence",
            },
            note="the RG decision is pending: nothing to reconsider yet (the rule first)",
        ),
    ],
    "api:case-nrm-reconsideration-outcome": [
        Expect(
            "POST",
            nrm_work(200),
            api=True,
            kwargs=lambda w: {
                "case_pk": w.parts["reconsideration"].nrm.case_id,
                "pk": w.parts["reconsideration"].nrm_id,
                "rid": w.parts["reconsideration"].pk,
            },
            data=lambda w, r: {
                "outcome": "overturned",
                "outcome_on": timezone.localdate().isoformat(),
            },
        ),
    ],
    "api:case-nrm-declined": [
        Expect(
            "POST",
            nrm_work(409),
            api=True,
            kwargs=main_case,
            note="the person consented to the referral: 409 (withdraw the consent first)",
        ),
    ],
    "api:case-duty-to-notify": [
        Expect(
            "POST",
            nrm_work(403),
            api=True,
            kwargs=main_case,
            note="a charity has no duty to notify",
        ),
    ],
    "api:deadlines": [Expect("GET", everyone(200, API_ANON), api=True)],
    # --- the pages ----------------------------------------------------------------------
    "referrals:inbox": [Expect("GET", only(NO_REFERRAL_WORK, 200, HTML_LOGIN))],
    "referrals:deadlines": [Expect("GET", everyone(200, HTML_LOGIN))],
    "referrals:referral_detail": [
        Expect("GET", parties(200, 200, HTML_LOGIN), kwargs=referral()),
        Expect(
            "GET",
            council_parties(200, 200, HTML_LOGIN),
            kwargs=referral("council_referral"),
            note="as the API",
        ),
    ],
    "referrals:referral_answer": [
        Expect(
            "POST",
            parties(403, 302, HTML_LOGIN),
            kwargs=referral(),
            data=lambda w, r: {"action": "accept"},
        ),
    ],
    "referrals:referral_create": [
        Expect("GET", only({**CARE, **NO_REFERRAL_WORK}, 404, HTML_LOGIN), kwargs=main_case),
        Expect(
            "POST",
            only({"caseworker": 302, "case_manager": 302, **NO_REFERRAL_WORK}, 404, HTML_LOGIN),
            kwargs=main_case,
            data=lambda w, r: {
                "to_agency": w.agencies["council"].pk,
                "kind": "health",
                "urgency": "routine",
                "reason": "GP",
            },
        ),
    ],
    "referrals:case_nrm": [
        Expect("GET", nrm_work(200, HTML_LOGIN), kwargs=main_case),
        Expect(
            "POST",
            nrm_work(302, HTML_LOGIN),
            kwargs=main_case,
            data=lambda w, r: {
                "action": "decision",
                "nrm_id": w.parts["nrm"].pk,
                "competent_authority_reference": "CA-1",
                "rg_decision": "pending",
                "cg_decision": "pending",
            },
            note="a decision on Harbour's NRM record: the PATCH of api:case-nrm-detail",
        ),
        Expect(
            "POST",
            nrm_work(302, HTML_LOGIN),
            kwargs=main_case,
            data=lambda w, r: {
                "action": "withdraw",
                "nrm_id": w.parts["nrm"].pk,
                "confirm": "on",
            },
            note="the person withdraws: api:case-nrm-withdraw",
        ),
        Expect(
            "GET",
            shared_nrm_readers(HTML_LOGIN),
            kwargs=shared_case,
            note="as the API",
        ),
    ],
}


@pytest.fixture
def _in_partnership(matrix_world: World) -> Partnership:
    """The world's partnership, in force, instead of the one this app's conftest makes
    for every test (its agencies would be the world's again)."""
    return matrix_world.partnership


@pytest.mark.django_db
@each_row(ROWS)
def test_route_answers_each_role_as_expected(matrix_world: World, name: str, index: int) -> None:
    check(name, ROWS[name][index], matrix_world)
