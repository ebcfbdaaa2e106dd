"""Consent, transfer of the lead, and the grants they move."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agencies import access
from audit.models import AuditEvent
from casework import consents, services, transfers
from casework.models import Case, NeedStatus
from core.errors import IllegalTransition

pytestmark = pytest.mark.django_db


def can(user, perm, case):
    user.refresh_from_db()
    return access.can(user, perm, case)


def test_withdrawing_consent_revokes_every_grant_it_justified(
    case, caseworker, council, other_agency_caseworker
):
    consent = consents.consent_record(
        actor=caseworker, case=case, scope="share_identity", agency=council, method="written"
    )
    # A later issue's referral does this; the engine is the same.
    access.grant(
        actor=caseworker,
        obj=case,
        perms=["casework.view_case", "casework.view_case_identity"],
        reason=consent,
        agency=council,
    )
    assert can(other_agency_caseworker, "casework.view_case_identity", case)

    consents.consent_withdraw(actor=caseworker, consent=consent, reason="changed her mind")

    assert not can(other_agency_caseworker, "casework.view_case_identity", case)
    assert not can(other_agency_caseworker, "casework.view_case", case)
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None and consent.withdrawn_by == caseworker
    event = AuditEvent.objects.get(action="consent.withdrawn")
    assert event.detail["grants_revoked"] == 2
    with pytest.raises(IllegalTransition):
        consents.consent_withdraw(actor=caseworker, consent=consent)


def test_consent_rules(case, child_case, caseworker, council):
    with pytest.raises(ValidationError) as error:
        consents.consent_record(
            actor=caseworker, case=case, scope="share_identity", method="written"
        )
    assert "agency" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        consents.consent_record(
            actor=caseworker, case=case, scope="police_contact", method="written", agency=council
        )
    assert "agency" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        consents.consent_record(
            actor=caseworker, case=case, scope="nrm_referral", method="safeguarding_basis"
        )
    assert {"method", "basis_reason"} <= set(error.value.message_dict)
    with pytest.raises(ValidationError) as error:
        consents.consent_record(
            actor=caseworker, case=case, scope="nrm_referral", method="verbal_interpreter"
        )
    assert "language" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        consents.consent_record(
            actor=caseworker,
            case=case,
            scope="nrm_referral",
            method="written",
            given_at=timezone.now() + datetime.timedelta(days=1),
        )
    assert "given_at" in error.value.message_dict

    basis = consents.consent_record(
        actor=caseworker,
        case=child_case,
        scope="nrm_referral",
        method="safeguarding_basis",
        basis_reason="Child: referred under the safeguarding duty.",
    )
    assert basis.is_active


def test_lead_transfer_moves_grants_and_leaves_read_only_history(
    case, caseworker, case_manager, council, other_agency_caseworker, partnership
):
    from agencies.models import Role
    from agencies.tests.factories import member

    council_manager = member(council, Role.CASE_MANAGER, username="council-manager")
    services.location_set(
        actor=caseworker, case=case, accommodation_type="safe_house", address="1 Quay St"
    )

    transfer = transfers.transfer_propose(
        actor=case_manager, case=case, to_agency=council, reason="Moved to the council area"
    )
    assert can(council_manager, "casework.view_case", case)  # to decide
    assert not can(council_manager, "casework.view_case_identity", case)
    with pytest.raises(PermissionDenied):
        transfers.transfer_accept(
            actor=other_agency_caseworker, transfer=transfer
        )  # a caseworker, not a manager
    with pytest.raises(IllegalTransition):
        transfers.transfer_propose(actor=case_manager, case=case, to_agency=council, reason="again")

    transfers.transfer_accept(actor=council_manager, transfer=transfer)

    case.refresh_from_db()
    assert case.lead_agency == council
    assert can(council_manager, "casework.view_case_location", case)
    assert can(other_agency_caseworker, "casework.change_case_needs", case)
    # Harbour keeps read-only history: summary, needs, notes; never location or changes.
    assert can(caseworker, "casework.view_case", case)
    assert can(caseworker, "casework.view_case_needs", case)
    assert not can(caseworker, "casework.view_case_location", case)
    assert not can(caseworker, "casework.view_case_identity", case)
    assert not can(caseworker, "casework.change_case", case)
    with pytest.raises(PermissionDenied):
        services.need_add(actor=caseworker, case=case, category="healthcare")
    with pytest.raises(IllegalTransition):
        transfers.transfer_decline(actor=council_manager, transfer=transfer)


def test_declined_transfer_takes_back_the_summary(case, case_manager, council, partnership):
    from agencies.models import Role
    from agencies.tests.factories import member

    council_manager = member(council, Role.CASE_MANAGER, username="council-manager")
    transfer = transfers.transfer_propose(
        actor=case_manager, case=case, to_agency=council, reason="Moving"
    )
    transfers.transfer_decline(actor=council_manager, transfer=transfer, note="No capacity")
    assert not can(council_manager, "casework.view_case", case)
    case.refresh_from_db()
    assert case.lead_agency.name == "Harbour Trust"


def test_needs_keep_their_status_history(case, caseworker, council):
    need = services.need_add(
        actor=caseworker,
        case=case,
        category="safe_accommodation",
        target_date=timezone.localdate() - datetime.timedelta(days=1),
    )
    assert need.urgency == 1 and need.owner_agency == case.lead_agency and need.is_overdue
    services.need_update(
        actor=caseworker, need=need, status=NeedStatus.IN_PROGRESS, owner_agency=council
    )
    services.need_update(actor=caseworker, need=need, status=NeedStatus.MET)
    assert [(h.from_status, h.to_status) for h in need.history.all()] == [
        ("", "identified"),
        ("identified", "in_progress"),
        ("in_progress", "met"),
    ]
    assert all(h.changed_by == caseworker for h in need.history.all())
    assert not need.is_overdue


def test_note_edits_keep_revisions_and_only_the_author_edits(case, caseworker, case_manager):
    note = services.note_add(
        actor=caseworker, case=case, body="First visit.", visibility="lead_agency"
    )
    services.note_edit(actor=caseworker, note=note, body="First visit at the safe house.")
    assert [r.body for r in note.revisions.all()] == ["First visit."]
    with pytest.raises(PermissionDenied):
        services.note_edit(actor=case_manager, note=note, body="Rewritten")


def test_identity_phone_is_normalised_and_bad_input_is_a_field_error(case, caseworker):
    identity = services.identity_save(actor=caseworker, case=case, phone="07700 900123")
    assert identity.phone == "+447700900123"
    with pytest.raises(ValidationError) as error:
        services.identity_save(actor=caseworker, case=case, phone="not a phone")
    assert "phone" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.identity_save(
            actor=caseworker,
            case=case,
            date_of_birth=timezone.localdate() + datetime.timedelta(days=2),
        )
    assert "date_of_birth" in error.value.message_dict
    event = AuditEvent.objects.filter(action="identity.changed").first()
    assert event.detail == {"fields": ["phone"]}  # names of fields, never the values


def test_location_history_is_kept(case, caseworker):
    services.location_set(
        actor=caseworker, case=case, accommodation_type="safe_house", address="1 Quay St"
    )
    services.location_set(
        actor=caseworker, case=case, accommodation_type="local_authority", address="2 Hill Rd"
    )
    locations = list(case.locations.order_by("recorded_at"))
    assert [loc.ended_at is None for loc in locations] == [False, True]


def test_flags_raise_and_clear(case, caseworker, other_agency_caseworker):
    flag = services.flag_raise(
        actor=caseworker, case=case, kind="trafficker_looking", note="Seen outside"
    )
    assert list(Case.objects.get(pk=case.pk).flags.active()) == [flag]
    with pytest.raises(PermissionDenied):
        services.flag_clear(actor=other_agency_caseworker, flag=flag)
    services.flag_clear(actor=caseworker, flag=flag)
    assert not Case.objects.get(pk=case.pk).flags.active().exists()


def test_a_former_lead_reads_its_own_lead_notes_but_not_its_successors(
    case, caseworker, case_manager, council, partnership
):
    from agencies.models import Role
    from agencies.tests.factories import member
    from casework import reads

    council_manager = member(council, Role.CASE_MANAGER, username="council-manager")
    services.note_add(
        actor=caseworker, case=case, body="Harbour's private note", visibility="lead_agency"
    )
    services.note_add(actor=caseworker, case=case, body="Shared note", visibility="case_team")
    transfer = transfers.transfer_propose(
        actor=case_manager, case=case, to_agency=council, reason="Moving"
    )
    transfers.transfer_accept(actor=council_manager, transfer=transfer)
    case.refresh_from_db()
    services.note_add(
        actor=council_manager, case=case, body="Council's private note", visibility="lead_agency"
    )

    caseworker.refresh_from_db()
    council_manager.refresh_from_db()
    harbour_sees = set(reads.notes(caseworker, case).values_list("body", flat=True))
    council_sees = set(reads.notes(council_manager, case).values_list("body", flat=True))
    assert harbour_sees == {"Harbour's private note", "Shared note"}
    assert council_sees == {"Harbour's private note", "Shared note", "Council's private note"}


def test_a_proposed_transfer_tells_the_receiving_case_managers(
    case, case_manager, council, other_agency_caseworker, notification_worker, partnership
):
    from agencies.models import Role
    from agencies.tests.factories import member
    from notifications.models import Notification

    council_manager = member(council, Role.CASE_MANAGER, username="council-manager")
    transfers.transfer_propose(actor=case_manager, case=case, to_agency=council, reason="Moving")
    notification_worker()
    told = Notification.objects.filter(kind="transfer.proposed")
    assert [n.recipient_id for n in told] == [council_manager.pk]
    assert told.get().message == "Harbour Trust proposes that your agency lead a case"
