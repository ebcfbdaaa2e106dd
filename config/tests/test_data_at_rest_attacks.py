"""Attacks on data at rest (cross-agency duplicate check, encryption at rest, audit roles),
kept as regression tests: each failed on the first build, for the reason its docstring
gives, and was fixed."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from agencies import access
from agencies.models import Agency, AgencyKind, Partnership, Role, User
from agencies.tests.factories import AgencyFactory, member
from audit import chain
from audit.record import record
from casework import duplicates, services
from casework.audit_actions import CaseAction
from casework.models import Case, Document, PossibleDuplicate
from casework.permissions import VIEW_CASE, VIEW_IDENTITY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("partnership")]

BORN = datetime.date(1990, 3, 3)
COUNCIL_CONTACT = "mash@council.example"


@pytest.fixture(autouse=True)
def council_contact(council: Agency) -> Agency:
    council.intelligence_contact = COUNCIL_CONTACT
    council.save(update_fields=["intelligence_contact"])
    return council


def open_case(actor: User, **identity: Any) -> Case:
    return services.case_create(
        actor=actor, exploitation_types=["labour"], identity=identity or None
    )


@pytest.fixture
def at_harbour(caseworker: User) -> Case:
    return open_case(caseworker, given_name="Ana", family_name="Novák", date_of_birth=BORN)


@pytest.fixture
def at_council(other_agency_caseworker: User, at_harbour: Case) -> Case:
    return open_case(
        other_agency_caseworker, given_name="ANA", family_name="NOVAK", date_of_birth=BORN
    )


# --- 1. Cross-agency duplicates ---------------------------------------------------------


def test_a_third_agency_outside_the_other_sides_partnerships_learns_the_hit(
    api, harbour, council, at_harbour, at_council
):
    """Harbour is also in a second partnership with Southshire Refuge, which the Council
    never signed. Harbour shares the person's identity with the Refuge (a referral with
    consent). The Refuge's caseworker reads Harbour's case's hits and learns that the
    Council, an agency it shares no agreement with, holds a case on this person, and the
    Council's mailbox. The "side" is the lead agency; any reader of the identity is served
    the lead agency's hits (``duplicates.for_case`` / ``_shown`` check only
    case.lead_agency <-> other lead, never the reader's agency)."""
    refuge = AgencyFactory(name="Southshire Refuge", kind=AgencyKind.CHARITY)
    south = Partnership.objects.create(name="Southshire Partnership", starts_on="2024-04-01")
    south.agencies.set([harbour, refuge])
    reader = member(refuge, Role.CASEWORKER, username="refuge-worker")
    access.grant(
        actor=None,
        obj=at_harbour,
        perms=[VIEW_CASE, VIEW_IDENTITY],
        reason=at_harbour,
        agency=refuge,
    )
    assert access.can(reader, VIEW_IDENTITY, at_harbour)
    response = api(reader).get(f"/api/v1/cases/{at_harbour.pk}/possible-duplicates/")
    body = response.content.decode()
    assert council.name not in body
    assert COUNCIL_CONTACT not in body


def test_the_other_sides_audit_trail_names_the_recorders_caseworker(
    api, other_agency_caseworker, caseworker, at_harbour, at_council
):
    """Each side is to learn the other *agency* and its team mailbox ("a team address,
    never a person's": ``duplicates._contact``). But ``find_for`` and ``dismiss`` record
    the other side's events with ``actor=`` the acting user of the *other* agency, and the
    case audit API (``CaseViewSet.audit`` -> ``AuditRowSerializer.actor``) serves that
    user's username to the other side: the Council learns who at Harbour (the person, and
    when they touched the identity) handles this victim; Harbour learns the same of the
    Council when it dismisses."""
    duplicates.dismiss(
        actor=caseworker,
        hit=PossibleDuplicate.objects.get(case=at_harbour),
        reason="Different mother's name",
    )
    # The Council's own case manager / caseworker reads their own case's trail.
    response = api(other_agency_caseworker).get(f"/api/v1/cases/{at_council.pk}/audit/")
    if response.status_code == 404:  # the caseworker may not read the trail: its manager
        manager = member(at_council.lead_agency, Role.CASE_MANAGER, username="council-cm")
        response = api(manager).get(f"/api/v1/cases/{at_council.pk}/audit/")
    assert response.status_code == 200
    rows = [
        r
        for r in response.json()["results"]
        if r["action"]
        in (CaseAction.POSSIBLE_DUPLICATE_FOUND, CaseAction.POSSIBLE_DUPLICATE_DISMISSED)
    ]
    assert rows
    assert all(r["actor"] != caseworker.username for r in rows), rows
    # And the other way round: Harbour's trail names the Council's caseworker.
    response = api(caseworker).get(f"/api/v1/cases/{at_harbour.pk}/audit/")
    if response.status_code == 404:
        manager = member(at_harbour.lead_agency, Role.CASE_MANAGER, username="harbour-cm")
        response = api(manager).get(f"/api/v1/cases/{at_harbour.pk}/audit/")
    ours = [
        r for r in response.json()["results"] if r["action"] == CaseAction.POSSIBLE_DUPLICATE_FOUND
    ]
    assert all(r["actor"] != other_agency_caseworker.username for r in ours), ours


# --- 2. Encryption at rest --------------------------------------------------------------


def test_a_documents_description_is_stored_in_clear(caseworker, at_harbour, private_root):
    """README "Keys for data at rest": everything that identifies a victim *and the free
    text written about them* is encrypted, document names included. ``original_name`` is
    (``Document.original_name`` in casework/models/documents.py), but
    ``Document.description``, the free text the uploader writes and the label the case
    page shows instead of the name, is a plain ``CharField`` (class Document): it lands in
    the table, in every backup and ``pg_dump``, in clear."""
    text = "Passport of Ana Novak, born 3 March 1990, kept by the site manager"
    document = services.document_upload(
        actor=caseworker,
        case=at_harbour,
        uploaded_file=SimpleUploadedFile(
            "scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png"
        ),
        kind="identity_document",
        purpose="support",
        description=text,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT description FROM {Document._meta.db_table} WHERE id = %s", [document.pk]
        )
        stored = cursor.fetchone()[0]
    assert "Novak" not in stored


# --- 3. Audit chain and the app role ----------------------------------------------------
# (The app role's own attempts are in audit/tests/test_db_roles.py; these use the test
# connection, which is the schema owner's: the rules hold for it too.)


def test_a_row_inserted_already_in_the_chain_is_refused_and_sealing_goes_on():
    from django.db import ProgrammingError, transaction

    record("test.before", detail={})
    chain.seal()
    refused = pytest.raises(ProgrammingError, match="start unsealed")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (occurred_at, action, target_type, target_id, "
            "request_id, detail, chain_hash) VALUES (now(), 'forged', '', '', '', '{}', %s)",
            ["f" * 64],
        )
    fresh = record("test.after", detail={})
    chain.seal()
    fresh.refresh_from_db()
    assert fresh.chain_seq is not None


def test_the_seal_function_refuses_a_place_far_ahead_and_sealing_goes_on():
    from django.db import ProgrammingError, transaction

    record("test.first", detail={})
    chain.seal()
    victim = record("test.unsealed", detail={})
    refused = pytest.raises(ProgrammingError, match="places must follow the head")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT audit_seal(%s::bigint[], %s::bigint[], %s::text[])",
            [[victim.pk], [2**63 - 1], ["0" * 64]],
        )
    chain.seal()
    victim.refresh_from_db()
    assert victim.chain_seq is not None
    assert chain.verify().ok
