"""Ids in the body of ``POST /api/v1/referrals/`` resolve through the caller's scoping:
an id that does not exist and one the caller may not see get the same
status and the same body, and the hidden one is audited. A role that never refers is
refused before any id is looked up."""

from __future__ import annotations

import pytest

from agencies import access
from agencies.models import NOT_A_CURRENT_PARTNER
from agencies.tests.factories import AgencyFactory
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from casework import services as casework
from casework.evidence import services as evidence_services
from casework.permissions import VIEW_CASE
from referrals.models import Referral

pytestmark = pytest.mark.django_db

NO_SUCH_CASE = {"case": ["There is no such case."]}
NO_SUCH_AGENCY = {"to_agency": [str(NOT_A_CURRENT_PARTNER)]}
NO_SUCH_OUTCOME = {"justice_outcome": ["There is no such justice outcome on this case."]}


@pytest.fixture
def councils_case(other_agency_caseworker):
    """A case the Council leads and Harbour Trust does not see."""
    return casework.case_create(actor=other_agency_caseworker, exploitation_types=["sexual"])


def _post(client, **fields):
    body = {"kind": "other", "reason": "Help", **fields}
    return client.post("/api/v1/referrals/", body, format="json")


def _denied(case_id) -> int:
    return AuditEvent.objects.filter(
        action=AuthAction.ACCESS_DENIED, target_type="casework.case", target_id=str(case_id)
    ).count()


def test_a_hidden_case_and_a_missing_case_are_the_same_400(
    api, caseworker, council, police, councils_case
):
    client = api(caseworker)
    hidden = _post(client, case=councils_case.pk, to_agency=police.pk)
    missing = _post(client, case=councils_case.pk + 1000, to_agency=police.pk)
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json() == NO_SUCH_CASE
    assert _denied(councils_case.pk) == 1  # the trail knows which one existed
    assert not Referral.objects.exists()


@pytest.mark.parametrize("bad", ["abc", "1.5", 10**30, -1, True, [1], None, ""])
def test_a_malformed_case_id_is_the_same_answer_never_a_500(api, caseworker, police, bad):
    answer = _post(api(caseworker), case=bad, to_agency=police.pk)
    assert answer.status_code == 400
    if bad is None or bad == "":
        assert set(answer.json()) == {"case"}  # required: DRF's own words
    else:
        assert answer.json() == NO_SUCH_CASE


def test_an_agency_missing_inactive_or_outside_the_partnership_is_one_answer(
    api, caseworker, case, outside_police
):
    closed = AgencyFactory(name="Closed Charity", active=False)
    client = api(caseworker)
    answers = [
        _post(client, case=case.pk, to_agency=agency_id)
        for agency_id in (999999, closed.pk, outside_police.pk, "abc", 10**30)
    ]
    assert [a.status_code for a in answers] == [400] * 5
    assert all(a.json() == NO_SUCH_AGENCY for a in answers)
    assert not Referral.objects.exists()


def test_an_outcome_of_a_hidden_case_and_a_missing_outcome_are_one_answer(
    api, caseworker, case, prosecution, police, police_officer, councils_case
):
    # An outcome the police recorded on the Council's case, which Harbour does not see.
    access.grant(
        actor=None, obj=councils_case, perms=[VIEW_CASE], reason=councils_case, agency=police
    )
    elsewhere = evidence_services.justice_outcome_record(
        actor=police_officer, case=councils_case, crime_recorded=True
    )
    client = api(caseworker)
    answers = [
        _post(
            client,
            case=case.pk,
            to_agency=prosecution.pk,
            kind="prosecution_file",
            justice_outcome=outcome_id,
        )
        for outcome_id in (elsewhere.pk, elsewhere.pk + 1000, "abc", 10**30)
    ]
    assert [a.status_code for a in answers] == [400] * 4
    assert all(a.json() == NO_SUCH_OUTCOME for a in answers)
    denied = AuditEvent.objects.filter(action=AuthAction.ACCESS_DENIED, actor=caseworker)
    assert list(denied.values_list("target_type", "target_id")) == [
        ("casework.justiceoutcome", str(elsewhere.pk))
    ]


@pytest.mark.parametrize("role_user", ["analyst", "manager", "agency_admin"])
def test_a_role_that_never_refers_is_refused_before_any_id_is_read(
    request, api, case, council, role_user
):
    user = request.getfixturevalue(role_user)
    client = api(user)
    seen = _post(client, case=case.pk, to_agency=council.pk)
    missing = _post(client, case=case.pk + 1000, to_agency=council.pk)
    assert seen.status_code == missing.status_code == 403
    assert seen.json() == missing.json()
    assert _denied(case.pk) == 0
