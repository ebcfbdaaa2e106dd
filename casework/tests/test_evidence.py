"""Evidence access requests and break-glass: consent gating per item, partial approval,
expiry, revocation (by the lead and by consent withdrawal), who may see what."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from agencies import access
from agencies.models import Role, User
from agencies.tests.factories import member
from audit.models import AuditEvent
from casework import consents, reads, services
from casework.evidence import break_glass
from casework.evidence import reads as evidence_reads
from casework.evidence import services as evidence_services
from casework.models import (
    BreakGlassGrounds,
    CaseNote,
    CaseUserGrant,
    Document,
    DocumentUserGrant,
    EvidenceRequestStatus,
)
from casework.permissions import (
    VIEW_CASE,
    VIEW_CASENOTE,
    VIEW_DOCUMENT,
    VIEW_IDENTITY,
    VIEW_LOCATION,
)
from core.errors import IllegalTransition

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]
THREAT = BreakGlassGrounds.THREAT_TO_LIFE

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
Status = EvidenceRequestStatus


def fresh(user: User) -> User:
    from agencies.backends import MembershipBackend

    return MembershipBackend().get_user(user.pk)


@pytest.fixture
def shared(case, police, partnership):
    """The case shared with Northshire Police (as an accepted crime-report referral does)."""
    access.grant(actor=None, obj=case, perms=[VIEW_CASE], reason=case, agency=police)
    return case


@pytest.fixture
def material(shared, caseworker):
    statement = services.document_upload(
        actor=caseworker,
        case=shared,
        uploaded_file=SimpleUploadedFile("s.png", PNG),
        kind="statement",
        purpose="evidence",
    )
    medical = services.document_upload(
        actor=caseworker,
        case=shared,
        uploaded_file=SimpleUploadedFile("m.png", PNG),
        kind="medical",
        purpose="support",
    )
    team_note = services.note_add(
        actor=caseworker, case=shared, body="Told us about the farm", visibility="case_team"
    )
    lead_note = services.note_add(
        actor=caseworker, case=shared, body="Kept to Harbour", visibility="lead_agency"
    )
    return {"statement": statement, "medical": medical, "note": team_note, "lead": lead_note}


def consent(caseworker, case, scope, agency=None):
    return consents.consent_record(
        actor=caseworker, case=case, scope=scope, method="written", agency=agency
    )


def ask(officer, case, items, **extra):
    return evidence_services.evidence_request_create(
        actor=officer,
        case=case,
        purpose="Operation Harvest",
        crime_reference="NP/2026/0042",
        legal_basis="Criminal investigation; Modern Slavery Act 2015 s.1",
        items=items,
        **extra,
    )


def docs_seen(user, case) -> set[int]:
    return set(reads.documents(fresh(user), case).values_list("pk", flat=True))


def test_an_officer_asks_and_the_lead_agency_is_told(
    shared, material, police_officer, caseworker, case_manager, notification_worker
):
    request = ask(police_officer, shared, [{"kind": "document", "id": material["statement"].pk}])
    assert request.status == Status.PENDING and request.agency == police_officer.membership.agency
    notification_worker()
    told = {n.recipient for n in caseworker.notifications.all()} | {
        n.recipient for n in case_manager.notifications.all()
    }
    assert told == {caseworker, case_manager}
    assert AuditEvent.objects.filter(action="evidence.requested", case_id=shared.pk).exists()


def test_only_officers_who_see_the_case_may_ask(
    shared, material, case, caseworker, outside_officer, police
):
    item = [{"kind": "document", "id": material["statement"].pk}]
    with pytest.raises(PermissionDenied):
        ask(caseworker, shared, item)
    with pytest.raises(Http404):
        ask(outside_officer, shared, item)  # another force: the case does not exist for it


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "at least one item"),
        ([{"kind": "weapon"}], "needs a kind"),
        ([{"kind": "document", "id": 999999}], "no such document"),
        ([{"kind": "identity"}, {"kind": "identity"}], "asked for twice"),
    ],
)
def test_a_request_names_real_items_of_the_case(shared, police_officer, items, message):
    with pytest.raises(ValidationError, match=message):
        ask(police_officer, shared, items)


def test_notes_kept_to_the_lead_agency_cannot_be_asked_for(shared, material, police_officer):
    with pytest.raises(ValidationError, match="visible to the case team"):
        ask(police_officer, shared, [{"kind": "note", "id": material["lead"].pk}])


def test_approval_needs_each_items_consent_and_the_persons_readiness(
    shared, material, police_officer, caseworker, police
):
    items = [
        {"kind": "document", "id": material["statement"].pk},
        {"kind": "identity"},
        {"kind": "meeting"},
    ]
    request = ask(police_officer, shared, items)
    with pytest.raises(ValidationError, match="consulted"):
        evidence_services.evidence_request_approve(
            actor=caseworker, request=request, items=items, victim_consulted=False
        )
    with pytest.raises(ValidationError) as refused:
        evidence_services.evidence_request_approve(
            actor=caseworker, request=request, items=items, victim_consulted=True
        )
    text = " ".join(refused.value.messages)
    assert "Use of statements and documents as evidence" in text
    assert "Contact by the police" in text
    assert "Share identity with a named agency, naming Northshire Police" in text

    # Identity consent naming another agency does not count for the police.
    consent(caseworker, shared, "share_identity", agency=caseworker.membership.agency)
    consent(caseworker, shared, "evidence_use")
    consent(caseworker, shared, "police_contact")
    with pytest.raises(ValidationError, match="naming Northshire Police"):
        evidence_services.evidence_request_approve(
            actor=caseworker, request=request, items=items, victim_consulted=True
        )
    request.refresh_from_db()
    assert request.status == Status.PENDING


def test_partial_approval_grants_the_officer_alone_exactly_the_approved_items(
    shared, material, police_officer, caseworker, police, notification_worker
):
    colleague = member(police, Role.OFFICER, username="colleague")
    consent(caseworker, shared, "evidence_use")
    request = ask(
        police_officer,
        shared,
        [
            {"kind": "document", "id": material["statement"].pk},
            {"kind": "document", "id": material["medical"].pk},
            {"kind": "note", "id": material["note"].pk},
            {"kind": "identity"},
        ],
    )
    evidence_services.evidence_request_approve(
        actor=caseworker,
        request=request,
        items=[
            {"kind": "document", "id": material["statement"].pk},
            {"kind": "note", "id": material["note"].pk},
        ],
        victim_consulted=True,
        note="Ready; statement and the note only",
    )
    request.refresh_from_db()
    assert request.status == Status.PARTLY_APPROVED
    assert request.expires_at - request.decided_at == datetime.timedelta(days=30)
    assert {(i.kind, i.approved) for i in request.items.all()} == {
        ("document", True),
        ("document", False),
        ("note", True),
        ("identity", False),
    }
    assert docs_seen(police_officer, shared) == {material["statement"].pk}
    notes = {n.pk for n in reads.notes(fresh(police_officer), shared)}
    assert notes == {material["note"].pk}
    assert VIEW_IDENTITY not in access.perms_for(fresh(police_officer), shared)

    # Not the whole force: a colleague who did not ask holds nothing.
    assert docs_seen(colleague, shared) == set()
    assert not Document.objects.visible_to(fresh(colleague), VIEW_DOCUMENT).exists()
    with pytest.raises(Http404):
        reads.document_for_download(fresh(colleague), shared, material["statement"].pk)

    # The download is on the record; an item not approved is 404.
    reads.document_for_download(fresh(police_officer), shared, material["statement"].pk)
    assert AuditEvent.objects.filter(action="document.downloaded", actor=police_officer).exists()
    with pytest.raises(Http404):
        reads.document_for_download(fresh(police_officer), shared, material["medical"].pk)
    notification_worker()
    assert police_officer.notifications.filter(kind="evidence.decided").exists()


def test_identity_reaches_the_officer_with_consent_naming_the_force(
    shared, police_officer, caseworker, police
):
    consent(caseworker, shared, "share_identity", agency=police)
    request = ask(police_officer, shared, [{"kind": "identity"}])
    evidence_services.evidence_request_approve(
        actor=caseworker, request=request, items=[{"kind": "identity"}], victim_consulted=True
    )
    identity = reads.identity(fresh(police_officer), shared)
    assert identity.family_name == "Hoxha"


def test_only_the_lead_agencys_care_roles_decide_and_only_once(
    shared, material, police_officer, caseworker, other_agency_caseworker
):
    consent(caseworker, shared, "evidence_use")
    item = [{"kind": "document", "id": material["statement"].pk}]
    request = ask(police_officer, shared, item)
    for outsider in (police_officer, other_agency_caseworker):
        with pytest.raises(PermissionDenied):
            evidence_services.evidence_request_approve(
                actor=outsider, request=request, items=item, victim_consulted=True
            )
    evidence_services.evidence_request_approve(
        actor=caseworker, request=request, items=item, victim_consulted=True
    )
    with pytest.raises(IllegalTransition):
        evidence_services.evidence_request_decline(
            actor=caseworker, request=request, reason="Changed"
        )


def test_approval_may_be_shorter_but_not_longer_than_the_limit(
    shared, material, police_officer, caseworker
):
    consent(caseworker, shared, "evidence_use")
    item = [{"kind": "document", "id": material["statement"].pk}]
    request = ask(police_officer, shared, item)
    with pytest.raises(ValidationError, match="at most 90 days"):
        evidence_services.evidence_request_approve(
            actor=caseworker,
            request=request,
            items=item,
            victim_consulted=True,
            expires_at=timezone.now() + datetime.timedelta(days=91),
        )
    week = timezone.now() + datetime.timedelta(days=7)
    evidence_services.evidence_request_approve(
        actor=caseworker, request=request, items=item, victim_consulted=True, expires_at=week
    )
    request.refresh_from_db()
    assert request.expires_at == week


def test_access_ends_at_expiry_and_beat_marks_it_expired(
    shared, material, police_officer, caseworker, notification_worker
):
    consent(caseworker, shared, "evidence_use")
    item = [{"kind": "document", "id": material["statement"].pk}]
    request = ask(police_officer, shared, item)
    evidence_services.evidence_request_approve(
        actor=caseworker, request=request, items=item, victim_consulted=True
    )
    request.refresh_from_db()

    # Three days before the end the officer is told, once.
    soon = request.expires_at - datetime.timedelta(days=2)
    assert evidence_services.evidence_requests_expire(now=soon) == 0
    evidence_services.evidence_requests_expire(now=soon + datetime.timedelta(minutes=15))
    notification_worker()
    assert police_officer.notifications.filter(kind="evidence.expiring").count() == 1
    # Beat runs every 15 minutes in the window: one warning on the record, not one a run.
    warned = AuditEvent.objects.filter(action="evidence.expiry_warned", case_id=shared.pk)
    assert warned.count() == 1
    request.refresh_from_db()
    assert request.expiry_warned_at == soon

    # Time moves past the end (the grants carry the request's expiry): the grant no longer
    # counts, even before beat runs...
    DocumentUserGrant.objects.filter(reason_id=request.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert docs_seen(police_officer, shared) == set()
    # ...and beat marks the request expired and removes its grants.
    later = request.expires_at + datetime.timedelta(minutes=1)
    assert evidence_services.evidence_requests_expire(now=later) == 1
    request.refresh_from_db()
    assert request.status == Status.EXPIRED
    assert not DocumentUserGrant.objects.filter(reason_id=request.pk).exists()
    assert evidence_services.evidence_requests_expire(now=later) == 0


def test_revocation_by_the_lead_and_by_consent_withdrawal_end_access_at_once(
    shared, material, police_officer, caseworker
):
    given = consent(caseworker, shared, "evidence_use")
    item = [{"kind": "document", "id": material["statement"].pk}]
    first = ask(police_officer, shared, item)
    evidence_services.evidence_request_approve(
        actor=caseworker, request=first, items=item, victim_consulted=True
    )
    evidence_services.evidence_request_revoke(
        actor=caseworker, request=first, reason="Victim unwell"
    )
    first.refresh_from_db()
    assert first.status == Status.REVOKED and first.end_reason == "Victim unwell"
    assert docs_seen(police_officer, shared) == set()

    second = ask(police_officer, shared, item)
    evidence_services.evidence_request_approve(
        actor=caseworker, request=second, items=item, victim_consulted=True
    )
    assert docs_seen(police_officer, shared) == {material["statement"].pk}
    consents.consent_withdraw(actor=caseworker, consent=given, reason="Changed her mind")
    second.refresh_from_db()
    assert second.status == Status.REVOKED
    assert docs_seen(police_officer, shared) == set()


def test_withdrawing_an_unrelated_consent_leaves_an_approval_standing(
    shared, material, police_officer, caseworker
):
    consent(caseworker, shared, "evidence_use")
    other = consent(caseworker, shared, "health_information")
    item = [{"kind": "document", "id": material["statement"].pk}]
    request = ask(police_officer, shared, item)
    evidence_services.evidence_request_approve(
        actor=caseworker, request=request, items=item, victim_consulted=True
    )
    consents.consent_withdraw(actor=caseworker, consent=other)
    request.refresh_from_db()
    assert request.status == Status.APPROVED


def test_the_officer_withdraws_a_pending_request_and_declines_need_a_reason(
    shared, material, police_officer, caseworker, police
):
    item = [{"kind": "document", "id": material["statement"].pk}]
    request = ask(police_officer, shared, item)
    colleague = member(police, Role.OFFICER, username="colleague")
    with pytest.raises(PermissionDenied):
        evidence_services.evidence_request_withdraw(actor=colleague, request=request)
    evidence_services.evidence_request_withdraw(actor=police_officer, request=request)
    assert request.status == Status.WITHDRAWN

    again = ask(police_officer, shared, item)
    with pytest.raises(ValidationError, match="why"):
        evidence_services.evidence_request_decline(actor=caseworker, request=again, reason=" ")
    evidence_services.evidence_request_decline(
        actor=caseworker, request=again, reason="Not ready yet"
    )
    again.refresh_from_db()
    assert again.status == Status.DECLINED and again.decision_note == "Not ready yet"


# --- Break-glass ----------------------------------------------------------------------


def test_break_glass_opens_identity_and_location_for_an_hour_and_tells_the_lead(
    case, police_officer, partnership, caseworker, case_manager, notification_worker
):
    services.location_set(
        actor=caseworker, case=case, accommodation_type="safe_house", address="1 Quay St"
    )
    with pytest.raises(ValidationError, match="life is at risk"):
        break_glass.break_glass_open(actor=police_officer, case=case, grounds=THREAT, reason="")
    event = break_glass.break_glass_open(
        actor=police_officer, case=case, grounds=THREAT, reason="Threat to life reported at 02:10"
    )
    assert event.expires_at - event.opened_at == datetime.timedelta(minutes=60)
    officer = fresh(police_officer)
    assert reads.identity(officer, case).family_name == "Hoxha"
    current, _history = reads.location(officer, case)
    assert current.address == "1 Quay St"
    notification_worker()
    assert case_manager.notifications.filter(kind="breakglass.opened").exists()
    assert not caseworker.notifications.filter(kind="breakglass.opened").exists()

    # An hour later it is closed again.
    CaseUserGrant.objects.filter(reason_id=event.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert not access.can(fresh(police_officer), VIEW_LOCATION, case)

    # Flagged until a case manager of the lead agency reviews it.
    with pytest.raises(PermissionDenied):
        break_glass.break_glass_review(actor=caseworker, event=event, note="Seen")
    with pytest.raises(ValidationError):
        break_glass.break_glass_review(actor=case_manager, event=event, note="")
    break_glass.break_glass_review(actor=case_manager, event=event, note="Justified: call logged")
    event.refresh_from_db()
    assert event.reviewed_by == case_manager and event.reviewed_at is not None
    with pytest.raises(IllegalTransition):
        break_glass.break_glass_review(actor=case_manager, event=event, note="Again")
    assert list(
        AuditEvent.objects.filter(case_id=case.pk, action__startswith="breakglass.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["breakglass.opened", "breakglass.reviewed"]


def test_break_glass_is_never_open_outside_the_partnership_or_to_other_roles(
    case, partnership, outside_officer, analyst, caseworker
):
    with pytest.raises(Http404):
        break_glass.break_glass_open(
            actor=outside_officer, case=case, grounds=THREAT, reason="Threat to life"
        )
    # A role without the power: the 404 of a missing case unless it sees the case (the
    # analyst), 403 to one that does (the lead's caseworker).
    with pytest.raises(Http404):
        break_glass.break_glass_open(actor=analyst, case=case, grounds=THREAT, reason="Threat")
    with pytest.raises(PermissionDenied):
        break_glass.break_glass_open(actor=caseworker, case=case, grounds=THREAT, reason="Threat")


@pytest.mark.usefixtures("case_manager")  # someone to review it
def test_break_glass_ends_with_the_partnership_agreement(case, partnership, police_officer):
    partnership.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    partnership.save(update_fields=["ends_on"])
    with pytest.raises(Http404):
        break_glass.break_glass_open(
            actor=police_officer, case=case, grounds=THREAT, reason="Threat to life"
        )
    partnership.ends_on = timezone.localdate()  # in force to the end of its last day
    partnership.save(update_fields=["ends_on"])
    assert break_glass.break_glass_open(
        actor=police_officer, case=case, grounds=THREAT, reason="Threat to life"
    )


def test_a_lead_case_manager_may_break_the_glass_on_their_own_case(
    case, case_manager, agency_admin
):
    event = break_glass.break_glass_open(
        actor=case_manager, case=case, grounds=THREAT, reason="Threat to life"
    )
    assert event.agency == case_manager.membership.agency
    # Never their own reviewer: the only case manager broke it, the admin reviews.
    assert evidence_reads.break_glass_reviewers(event).people == (agency_admin,)


def test_notes_granted_one_by_one_never_include_lead_agency_notes(
    shared, material, police_officer, caseworker
):
    consent(caseworker, shared, "evidence_use")
    item = [{"kind": "note", "id": material["note"].pk}]
    request = ask(police_officer, shared, item)
    evidence_services.evidence_request_approve(
        actor=caseworker, request=request, items=item, victim_consulted=True
    )
    # Even a grant on a lead-agency note (which the service never makes) shows nothing.
    access.grant(
        actor=None,
        obj=material["lead"],
        perms=[VIEW_CASENOTE],
        reason=request,
        user=police_officer,
    )
    seen = {n.pk for n in reads.notes(fresh(police_officer), shared)}
    assert seen == {material["note"].pk}
    assert CaseNote.objects.visible_to(fresh(police_officer), VIEW_CASENOTE).count() == 2
