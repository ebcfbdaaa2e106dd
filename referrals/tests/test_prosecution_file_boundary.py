"""A file to prosecutors does not carry a case out of its lead agency's agreements.

Harbour Trust leads the case and shares the Northshire Partnership with Northshire Police
and the Crown Prosecution. Northshire Police also shares "Police-CPS South" with Southern
CPS, which has no agreement with Harbour. The police may send a file carrying their
outcome only to prosecutors who share a partnership in force with the police *and* with
Harbour, and only on the strength of their agency's own grants: a break-glass, which lets
one officer read for an hour, is never the basis of a lasting grant to another agency.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agencies import access
from agencies.models import NOT_A_CURRENT_PARTNER, Agency, AgencyKind, Partnership, Role, User
from agencies.tests.factories import AgencyFactory, member
from audit.models import AuditEvent
from casework.evidence import break_glass
from casework.evidence import services as evidence_services
from casework.models import BreakGlassGrounds, Case, CaseAgencyGrant, JusticeOutcome
from casework.permissions import VIEW_CASE
from referrals import services
from referrals.models import Referral, ReferralKind, ReferralStatus, respond_by_for

pytestmark = pytest.mark.django_db

REFUSED = {"to_agency": [str(NOT_A_CURRENT_PARTNER)]}


@pytest.fixture
def southern_cps(police: Agency) -> Agency:
    """Prosecutors in a partnership in force with Northshire Police, not with Harbour."""
    agency = AgencyFactory(
        name="Southern CPS", kind=AgencyKind.PROSECUTION, is_first_responder=False
    )
    south = Partnership.objects.create(name="Police-CPS South", starts_on="2024-01-01")
    south.agencies.set([police, agency])
    return agency


@pytest.fixture
def south_prosecutor(southern_cps: Agency) -> User:
    return member(southern_cps, Role.PROSECUTOR, username="south-prosecutor")


@pytest.fixture
def police_on_the_case(caseworker: User, case: Case, police_officer: User) -> JusticeOutcome:
    """Harbour reported the crime to the police, who took it on and recorded an outcome:
    the police see the case through their agency's grant."""
    report = services.referral_send(
        actor=caseworker,
        case=case,
        to_agency=police_officer.membership.agency,
        kind=ReferralKind.POLICE_CRIME_REPORT,
        reason="Forced labour at a car wash",
    )
    services.referral_accept(actor=police_officer, referral=report)
    return evidence_services.justice_outcome_record(
        actor=police_officer, case=case, crime_recorded=True, crime_reference="CR-1"
    )


def _file(api, officer, case, to_agency, outcome):
    return api(officer).post(
        "/api/v1/referrals/",
        {
            "case": case.pk,
            "to_agency": to_agency.pk,
            "kind": ReferralKind.PROSECUTION_FILE,
            "reason": "File for charging advice",
            "justice_outcome": outcome.pk,
        },
        format="json",
    )


def _grants_of(agency: Agency) -> int:
    return CaseAgencyGrant.objects.filter(group_id=agency.group_id).count()


def test_a_file_to_prosecutors_the_lead_has_no_agreement_with_is_refused_at_both_doors(
    api, login, case, police_officer, police_on_the_case, southern_cps, south_prosecutor
):
    answer = _file(api, police_officer, case, southern_cps, police_on_the_case)
    assert answer.status_code == 400
    assert answer.json() == REFUSED
    with pytest.raises(ValidationError) as error:
        services.referral_send(
            actor=police_officer,
            case=case,
            to_agency=southern_cps,
            kind=ReferralKind.PROSECUTION_FILE,
            reason="File",
            justice_outcome=police_on_the_case,
        )
    assert error.value.message_dict == REFUSED

    page = login(police_officer)
    form = page.get(f"/referrals/cases/{case.pk}/new/")
    assert form.status_code == 200
    offered = set(form.context["form"].fields["to_agency"].queryset)
    assert southern_cps not in offered
    assert offered == {Agency.objects.get(name="Crown Prosecution")}
    forged = page.post(
        f"/referrals/cases/{case.pk}/new/",
        {
            "to_agency": southern_cps.pk,
            "kind": ReferralKind.PROSECUTION_FILE,
            "urgency": "routine",
            "reason": "File",
            "justice_outcome": police_on_the_case.pk,
        },
    )
    assert forged.status_code == 200
    assert forged.context["form"].errors["to_agency"] == [str(NOT_A_CURRENT_PARTNER)]

    assert not Referral.objects.filter(to_agency=southern_cps).exists()
    assert _grants_of(southern_cps) == 0
    assert api(south_prosecutor).get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_a_file_to_prosecutors_partnered_with_both_is_still_accepted(
    api, case, police_officer, police_on_the_case, prosecution, prosecutor
):
    sent = _file(api, police_officer, case, prosecution, police_on_the_case)
    assert sent.status_code == 201, sent.json()
    accepted = api(prosecutor).post(f"/api/v1/referrals/{sent.json()['id']}/accept/")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == ReferralStatus.ACCEPTED
    assert api(prosecutor).get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_a_file_whose_prosecutors_left_the_lead_s_partnership_cannot_be_accepted(
    api, case, partnership, police_officer, police_on_the_case, southern_cps, south_prosecutor
):
    # Southern CPS was in Harbour's partnership when the file went, and left it before
    # answering; its own agreement with the police still stands.
    partnership.agencies.add(southern_cps)
    referral = services.referral_send(
        actor=police_officer,
        case=case,
        to_agency=southern_cps,
        kind=ReferralKind.PROSECUTION_FILE,
        reason="File",
        justice_outcome=police_on_the_case,
    )
    partnership.agencies.remove(southern_cps)

    answer = api(south_prosecutor).post(f"/api/v1/referrals/{referral.pk}/accept/")
    assert answer.status_code == 409
    detail = answer.json()["detail"]
    assert "and the agency that leads the case no longer share a partnership" in detail
    assert "Harbour" not in detail  # the receiver is not told who leads the case
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    assert _grants_of(southern_cps) == 0
    assert api(south_prosecutor).get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_the_break_glass_escalation_chain_is_refused_at_every_step(
    api,
    login,
    case,
    case_manager,
    police,
    police_officer,
    prosecution,
    southern_cps,
    south_prosecutor,
):
    """The reviewer's chain: break the glass, record an outcome, file it with prosecutors
    who partner the police but not Harbour, have them accept, let the glass expire."""
    break_glass.break_glass_open(
        actor=police_officer,
        case=case,
        grounds=BreakGlassGrounds.THREAT_TO_LIFE,
        reason="Reported held at an address tonight",
    )
    officer = User.objects.select_related("membership__agency").get(pk=police_officer.pk)
    assert access.can(officer, VIEW_CASE, case)  # for the hour, through the glass alone
    assert not access.agency_can(officer, VIEW_CASE, case)
    # An outcome in the police's name, as the outcome service allowed a break-glass
    # holder to record before its own fix (casework/evidence/services.py; not this module's step).
    outcome = JusticeOutcome.objects.create(case=case, recorded_by_agency=police)

    # The file: refused for the glass-holder, to third-agency prosecutors and to Harbour's
    # own partners alike, at both doors and in the service.
    for prosecutors in (southern_cps, prosecution):
        answer = _file(api, officer, case, prosecutors, outcome)
        assert answer.status_code == 403, answer.json()
        assert "break-glass" in answer.json()["detail"]
    with pytest.raises(PermissionDenied):
        services.referral_send(
            actor=officer,
            case=case,
            to_agency=prosecution,
            kind=ReferralKind.PROSECUTION_FILE,
            reason="File",
            justice_outcome=outcome,
        )
    assert login(officer).get(f"/referrals/cases/{case.pk}/new/").status_code == 403
    assert not Referral.objects.exists()

    # A file that got through before the fix cannot be accepted...
    forged = Referral.objects.create(
        case=case,
        from_agency=police,
        to_agency=southern_cps,
        kind=ReferralKind.PROSECUTION_FILE,
        reason="File",
        justice_outcome=outcome,
        sent_by=officer,
        respond_by=respond_by_for("routine", timezone.now(), "GB"),
    )
    answer = api(south_prosecutor).post(f"/api/v1/referrals/{forged.pk}/accept/")
    assert answer.status_code == 409
    assert _grants_of(southern_cps) == 0

    # ...and one accepted before the fix is ended by the next sweep.
    forged.status = ReferralStatus.ACCEPTED
    forged.save(update_fields=["status"])
    access.grant(
        actor=south_prosecutor,
        obj=case,
        perms=services.BASE_PERMISSIONS,
        reason=forged,
        agency=southern_cps,
    )
    assert api(south_prosecutor).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert services.sharing_end_outside_partnerships() == 1
    forged.refresh_from_db()
    assert forged.status == ReferralStatus.ENDED
    assert _grants_of(southern_cps) == 0
    assert api(south_prosecutor).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action="referral.ended").count() == 1
