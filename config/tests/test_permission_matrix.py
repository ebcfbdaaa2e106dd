"""The permission matrix: every URL pattern, HTML and API, with the status each role gets.

``test_every_route_is_covered`` fails when a route is added without expectations (or
an expectation outlives its route). Later issues add their routes to ``MATRIX``.

Roles are the demo partnership's: people at Harbour Trust (the charity most stories
start from), the police, the prosecutors, the Council's partnership manager, an officer
of a force outside the partnership, and an anonymous visitor.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Agency, AgencyKind, Partnership, Role, SharingGroup, User
from agencies.second_factor import devices_of
from agencies.tests.factories import PASSWORD, AgencyFactory, code_for, member, verify_session

ROLES = [
    "anonymous",
    "caseworker",
    "case_manager",
    "agency_admin",
    "officer",
    "analyst",
    "prosecutor",
    "partnership_manager",
    "outsider",
]
SIGNED_IN = [r for r in ROLES if r != "anonymous"]


@dataclass
class World:
    agencies: dict[str, Agency]
    users: dict[str, User]
    partnership: Partnership
    sharing_group: SharingGroup
    colleague: User  # a caseworker at Harbour Trust, managed by its agency admin
    case: Any = None  # led by Harbour Trust, with one of everything
    parts: dict[str, Any] = field(default_factory=dict)
    transfer_case: Any = None  # led by Harbour Trust, a transfer to the Council pending


def build_world() -> World:
    harbour = AgencyFactory(name="Harbour Trust", kind=AgencyKind.CHARITY)
    council = AgencyFactory(name="Northshire Council", kind=AgencyKind.SOCIAL_SERVICES)
    police = AgencyFactory(name="Northshire Police", kind=AgencyKind.POLICE)
    cps = AgencyFactory(name="Crown Prosecution", kind=AgencyKind.PROSECUTION)
    south = AgencyFactory(name="Southshire Police", kind=AgencyKind.POLICE)
    partnership = Partnership.objects.create(name="Northshire", starts_on="2024-04-01")
    partnership.agencies.set([harbour, council, police, cps])
    group = SharingGroup.objects.create(name="Labour cell", owner=police)
    group.members.set([police, harbour])
    users = {
        "caseworker": member(harbour, Role.CASEWORKER, username="caseworker"),
        "case_manager": member(harbour, Role.CASE_MANAGER, username="case_manager"),
        "agency_admin": member(harbour, Role.AGENCY_ADMIN, username="agency_admin"),
        "officer": member(police, Role.OFFICER, username="officer"),
        "analyst": member(police, Role.ANALYST, username="analyst"),
        "prosecutor": member(cps, Role.PROSECUTOR, username="prosecutor"),
        "partnership_manager": member(
            council, Role.PARTNERSHIP_MANAGER, username="partnership_manager"
        ),
        "outsider": member(south, Role.OFFICER, username="outsider"),
    }
    colleague = member(harbour, Role.CASEWORKER, username="colleague")
    agencies = {
        "harbour": harbour,
        "council": council,
        "police": police,
        "cps": cps,
        "south": south,
    }
    world = World(agencies, users, partnership, group, colleague)
    build_case(world)
    build_duplicates(world)
    build_evidence(world)
    build_intelligence(world)
    build_dashboards(world)
    return world


def build_duplicates(world: World) -> None:
    """A person Harbour and the Council both know (issue 16): a possible match on a case of
    Harbour's of its own, so the main case stays as it is."""
    from casework import services

    person = {
        "given_name": "Ana",
        "family_name": "Novák",
        "date_of_birth": datetime.date(1990, 3, 3),
    }
    case = services.case_create(actor=world.users["caseworker"], identity=person)
    council_caseworker = member(world.agencies["council"], Role.CASEWORKER, username="council_cw")
    services.case_create(actor=council_caseworker, identity=person)
    world.parts["duplicate_case"] = case
    world.parts["possible_duplicate"] = case.possible_duplicates.get()


def build_dashboards(world: World) -> None:
    """One export of the partnership manager's, built (so its file exists)."""
    from dashboards import exports
    from dashboards.models import ExportJob

    job = ExportJob.objects.create(
        requested_by=world.users["partnership_manager"],
        scope_kind="partnership",
        scope_id=world.partnership.pk,
        filters={},
    )
    exports.export_build(job_id=job.pk)
    world.parts["export_job"] = job


def build_referrals(world: World, case: Any) -> None:
    """An NRM referral on the main case; two referrals to the police on a second case
    (one waiting, one accepted), so the main case stays Harbour's alone."""
    from casework import consents
    from casework import services as casework
    from referrals import nrm_services
    from referrals import services as referrals

    cw, officer = world.users["caseworker"], world.users["officer"]
    consents.consent_record(actor=cw, case=case, scope="nrm_referral", method="written")
    world.parts["nrm"] = nrm_services.nrm_refer(actor=cw, case=case)
    # Another of Harbour's cases, whose negative RG decision is being reconsidered.
    reconsidered = casework.case_create(actor=cw)
    consents.consent_record(actor=cw, case=reconsidered, scope="nrm_referral", method="written")
    negative = nrm_services.nrm_refer(actor=cw, case=reconsidered)
    nrm_services.nrm_update(
        actor=cw, nrm=negative, rg_decision="negative", rg_decided_on=timezone.localdate()
    )
    world.parts["reconsideration"] = nrm_services.nrm_reconsideration_request(
        actor=cw,
        nrm=negative,
        requested_on=timezone.localdate(),
        requested_by="person",
        grounds="New evidence",
    )
    referral_case = casework.case_create(actor=cw)
    police = world.agencies["police"]
    world.parts["referral"] = referrals.referral_send(
        actor=cw, case=referral_case, to_agency=police, kind="police_crime_report", reason="Report"
    )
    accepted = referrals.referral_send(
        actor=cw, case=referral_case, to_agency=police, kind="other", reason="Help"
    )
    world.parts["accepted_referral"] = referrals.referral_accept(actor=officer, referral=accepted)


def build_evidence(world: World) -> None:
    """On the case shared with the police (an accepted referral): a statement the person
    agreed may be evidence, one pending and one approved request; on a case of its own,
    a break-glass opened by Harbour's case manager (nobody else gains sight of a case)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casework import consents, services
    from casework.evidence import break_glass
    from casework.evidence import services as evidence_services

    cw, officer = world.users["caseworker"], world.users["officer"]
    shared = world.parts["referral"].case
    statement = services.document_upload(
        actor=cw,
        case=shared,
        uploaded_file=SimpleUploadedFile("s.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        kind="statement",
        purpose="evidence",
    )
    consents.consent_record(actor=cw, case=shared, scope="evidence_use", method="written")
    item = [{"kind": "document", "id": statement.pk}]

    def ask() -> Any:
        return evidence_services.evidence_request_create(
            actor=officer, case=shared, purpose="Op Harvest", legal_basis="MSA 2015", items=item
        )

    world.parts["shared_case"] = shared
    world.parts["evidence_items"] = item
    world.parts["evidence_request"] = ask()
    approved = ask()
    evidence_services.evidence_request_approve(
        actor=cw, request=approved, items=item, victim_consulted=True
    )
    world.parts["approved_evidence"] = approved
    bg_case = services.case_create(actor=cw)
    world.parts["bg_case"] = bg_case
    world.parts["break_glass"] = break_glass.break_glass_open(
        actor=world.users["case_manager"],
        case=bg_case,
        grounds="threat_to_life",
        reason="Threat to life",
    )


def build_case(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casework import consents, services, transfers

    cw = world.users["caseworker"]
    case = services.case_create(
        actor=cw,
        exploitation_types=["labour"],
        identity={"given_name": "Ana", "family_name": "Hoxha"},
    )
    services.location_set(actor=cw, case=case, accommodation_type="safe_house", address="1 Quay St")
    world.parts = {
        "need": services.need_add(actor=cw, case=case, category="healthcare"),
        "consent": consents.consent_record(
            actor=cw, case=case, scope="police_contact", method="verbal"
        ),
        "note": services.note_add(actor=cw, case=case, body="Visit", visibility="case_team"),
        "flag": services.flag_raise(actor=cw, case=case, kind="self_harm"),
        "document": services.document_upload(
            actor=cw,
            case=case,
            uploaded_file=SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
            kind="photo",
            purpose="support",
        ),
    }
    world.case = case
    build_referrals(world, case)
    world.transfer_case = services.case_create(actor=cw)
    world.parts["transfer"] = transfers.transfer_propose(
        actor=cw, case=world.transfer_case, to_agency=world.agencies["council"], reason="Moving"
    )


Statuses = dict[str, int | frozenset[int]]


def only(allowed: dict[str, int], others: int, anonymous: int) -> Statuses:
    """``allowed`` roles get their status, every other signed-in role ``others``."""
    result: Statuses = {role: allowed.get(role, others) for role in SIGNED_IN}
    result["anonymous"] = anonymous
    return result


def everyone(status: int, anonymous: int) -> Statuses:
    return only({}, status, anonymous)


@dataclass
class Expect:
    method: str
    statuses: Statuses
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    data: Callable[[World, str], dict[str, Any]] = lambda w, role: {}
    api: bool = False
    note: str = ""
    query: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


HTML_LOGIN = 302  # anonymous visitors of signed-in pages are sent to the login page
API_ANON = 401  # the API answers anonymous callers 401 (WWW-Authenticate: Token)
ADMIN_ONLY = {"agency_admin": 200}

member_pk = lambda w: {"pk": w.colleague.membership.pk}  # noqa: E731

MATRIX: dict[str, list[Expect]] = {
    # --- pages ------------------------------------------------------------------
    "home": [Expect("GET", everyone(200, HTML_LOGIN))],
    "healthz": [
        Expect(
            "GET",
            everyone(frozenset({200, 503}), frozenset({200, 503})),
            note="public; 503 without Redis",
        )
    ],
    "livez": [Expect("GET", everyone(200, 200), note="public; no database, no Redis")],
    "login": [
        Expect("GET", everyone(302, 200), note="signed-in users are sent home"),
        Expect(
            "POST",
            everyone(302, 302),
            data=lambda w, role: {
                "username": role if role != "anonymous" else "caseworker",
                "password": PASSWORD,
            },
        ),
    ],
    "logout": [Expect("POST", everyone(302, 302)), Expect("GET", everyone(405, 405))],
    "password_change": [Expect("GET", everyone(200, HTML_LOGIN))],
    "password_change_done": [Expect("GET", everyone(200, HTML_LOGIN))],
    "password_reset": [
        Expect("GET", everyone(200, 200)),
        Expect("POST", everyone(302, 302), data=lambda w, r: {"email": "x@example.org"}),
    ],
    "password_reset_done": [Expect("GET", everyone(200, 200))],
    "password_reset_confirm": [
        Expect(
            "GET",
            everyone(200, 200),
            kwargs=lambda w: {"uidb64": "MQ", "token": "bad-token"},
            note="an invalid link says so",
        )
    ],
    "password_reset_complete": [Expect("GET", everyone(200, 200))],
    "agencies:member_list": [Expect("GET", only(ADMIN_ONLY, 403, HTML_LOGIN))],
    "agencies:member_create": [
        Expect("GET", only(ADMIN_ONLY, 403, HTML_LOGIN)),
        Expect(
            "POST",
            only({"agency_admin": 302}, 403, HTML_LOGIN),
            data=lambda w, r: {
                "username": "newbie",
                "email": "newbie@example.org",
                "role": "caseworker",
            },
        ),
    ],
    "agencies:member_detail": [
        Expect("GET", only(ADMIN_ONLY, 403, HTML_LOGIN), kwargs=member_pk),
        Expect(
            "GET",
            only({"agency_admin": 404}, 403, HTML_LOGIN),
            kwargs=lambda w: {"pk": w.users["officer"].membership.pk},
            note="another agency's member",
        ),
        Expect(
            "POST",
            only({"agency_admin": 302}, 403, HTML_LOGIN),
            kwargs=member_pk,
            data=lambda w, r: {"role": "case_manager"},
        ),
    ],
    "agencies:member_deactivate": [
        Expect("POST", only({"agency_admin": 302}, 403, HTML_LOGIN), kwargs=member_pk),
        Expect(
            "POST",
            only({"agency_admin": 404}, 403, HTML_LOGIN),
            kwargs=lambda w: {"pk": w.users["officer"].membership.pk},
        ),
        Expect("GET", only({}, 405, HTML_LOGIN), kwargs=member_pk),
    ],
    "agencies:member_reactivate": [
        Expect("POST", only({"agency_admin": 302}, 403, HTML_LOGIN), kwargs=member_pk),
        Expect(
            "POST",
            only({"agency_admin": 404}, 403, HTML_LOGIN),
            kwargs=lambda w: {"pk": w.users["officer"].membership.pk},
        ),
    ],
    "agencies:member_second_factor_reset": [
        Expect("GET", only(ADMIN_ONLY, 403, HTML_LOGIN), kwargs=member_pk, note="confirm"),
        Expect("POST", only({"agency_admin": 302}, 403, HTML_LOGIN), kwargs=member_pk),
        Expect(
            "POST",
            only({"agency_admin": 404}, 403, HTML_LOGIN),
            kwargs=lambda w: {"pk": w.users["officer"].membership.pk},
            note="another agency's member",
        ),
    ],
    # --- API ----------------------------------------------------------------------
    "api:root": [Expect("GET", everyone(200, API_ANON), api=True)],
    "api:token": [
        Expect(
            "POST",
            everyone(201, API_ANON),
            api=True,
            data=lambda w, role: {
                "username": role,
                "password": PASSWORD if role != "anonymous" else "wrong",
                "otp": code_for(w.users[role]) if role != "anonymous" else "123456",
            },
            note="password and second factor (issue 15)",
        ),
        Expect(
            "POST",
            everyone(API_ANON, API_ANON),
            api=True,
            data=lambda w, role: {"username": role, "password": PASSWORD},
            note="without otp: nothing is issued",
        ),
        Expect(
            "DELETE",
            everyone(API_ANON, API_ANON),
            api=True,
            note="revokes the token used; sessions have none",
        ),
    ],
    # --- the second step of signing in (issue 15) ------------------------------------
    # The matrix's users have passed it: the page sends them on; anonymous visitors sign
    # in first.
    "admin_login": [Expect("GET", everyone(403, HTML_LOGIN), note="Concord's sign-in; not staff")],
    "security": [Expect("GET", everyone(200, HTML_LOGIN), note="one's own second factors")],
    "security_device_remove": [
        Expect(
            "POST",
            everyone(404, HTML_LOGIN),
            data=lambda w, r: {"device": "otp_totp.totpdevice/999999999"},
            note="a device that is not theirs",
        ),
        Expect(
            "POST",
            everyone(302, HTML_LOGIN),
            data=lambda w, r: {
                "device": "" if r == "anonymous" else devices_of(w.users[r])[0].persistent_id
            },
            note="their only app: refused, told why",
        ),
        Expect("GET", everyone(405, HTML_LOGIN)),
    ],
    "two_factor_verify": [Expect("GET", everyone(302, HTML_LOGIN), note="verified: on")],
    "two_factor_setup": [Expect("GET", everyone(200, HTML_LOGIN), note="add a device")],
    "two_factor_recovery_codes": [
        Expect("GET", everyone(200, HTML_LOGIN), note="first codes issued and shown"),
        Expect("POST", everyone(200, HTML_LOGIN), note="new codes replace the old"),
    ],
    "otp_webauthn:credential-registration-begin": [
        Expect("POST", everyone(200, 403), note="options to add a passkey; signed in only")
    ],
    "otp_webauthn:credential-registration-complete": [
        Expect("POST", everyone(400, 403), note="no ceremony begun: invalid state")
    ],
    "otp_webauthn:credential-authentication-begin": [
        Expect("POST", everyone(200, 403), note="a second factor, never a first")
    ],
    "otp_webauthn:credential-authentication-complete": [
        Expect("POST", everyone(400, 403), note="no ceremony begun: invalid state")
    ],
    "otp_webauthn:js-i18n-catalog": [Expect("GET", everyone(200, 200), note="public")],
    "api:me": [Expect("GET", everyone(200, API_ANON), api=True)],
    "api:agency-list": [Expect("GET", everyone(200, API_ANON), api=True)],
    "api:agency-detail": [
        Expect(
            "GET",
            everyone(200, API_ANON),
            api=True,
            kwargs=lambda w: {"pk": w.agencies["police"].pk},
        )
    ],
    "api:partnership-list": [Expect("GET", everyone(200, API_ANON), api=True)],
    "api:partnership-detail": [
        Expect(
            "GET",
            only({"outsider": 404}, 200, API_ANON),
            api=True,
            kwargs=lambda w: {"pk": w.partnership.pk},
        )
    ],
    "api:sharinggroup-list": [Expect("GET", everyone(200, API_ANON), api=True)],
    "api:sharinggroup-detail": [
        Expect(
            "GET",
            only(
                {
                    r: 200
                    for r in ("caseworker", "case_manager", "agency_admin", "officer", "analyst")
                },
                404,
                API_ANON,
            ),
            api=True,
            kwargs=lambda w: {"pk": w.sharing_group.pk},
            note="membership visible to members only",
        )
    ],
    "api:member-list": [
        Expect("GET", only(ADMIN_ONLY, 403, API_ANON), api=True),
        Expect(
            "POST",
            only({"agency_admin": 201}, 403, API_ANON),
            api=True,
            data=lambda w, r: {
                "username": "newbie",
                "email": "newbie@example.org",
                "role": "caseworker",
            },
        ),
    ],
    "api:member-detail": [
        Expect("GET", only(ADMIN_ONLY, 403, API_ANON), api=True, kwargs=member_pk),
        Expect(
            "GET",
            only({"agency_admin": 404}, 403, API_ANON),
            api=True,
            kwargs=lambda w: {"pk": w.users["officer"].membership.pk},
            note="another agency's member",
        ),
        Expect(
            "PATCH",
            only(ADMIN_ONLY, 403, API_ANON),
            api=True,
            kwargs=member_pk,
            data=lambda w, r: {"role": "case_manager"},
        ),
        Expect(
            "PUT",
            only({}, 405, API_ANON),
            api=True,
            kwargs=member_pk,
            note="role changes are PATCH",
        ),
    ],
    "api:member-deactivate": [
        Expect("POST", only(ADMIN_ONLY, 403, API_ANON), api=True, kwargs=member_pk),
        Expect(
            "POST",
            only({"agency_admin": 404}, 403, API_ANON),
            api=True,
            kwargs=lambda w: {"pk": w.users["officer"].membership.pk},
        ),
    ],
    "api:member-reset-second-factor": [
        Expect("POST", only(ADMIN_ONLY, 403, API_ANON), api=True, kwargs=member_pk),
        Expect(
            "POST",
            only({"agency_admin": 404}, 403, API_ANON),
            api=True,
            kwargs=lambda w: {"pk": w.users["officer"].membership.pk},
        ),
        Expect("GET", only({}, 405, API_ANON), api=True, kwargs=member_pk),
    ],
    "api:member-reactivate": [
        Expect("POST", only(ADMIN_ONLY, 403, API_ANON), api=True, kwargs=member_pk),
        Expect(
            "POST",
            only({"agency_admin": 404}, 403, API_ANON),
            api=True,
            kwargs=lambda w: {"pk": w.users["officer"].membership.pk},
        ),
    ],
    "schema": [Expect("GET", everyone(200, API_ANON), api=True)],
    "api-docs": [Expect("GET", everyone(200, API_ANON), api=True)],
}

# --- casework API ---------------------------------------------------------------------
# A case led by Harbour Trust: its caseworker and case manager hold the full set; every
# other role, its own agency admin included (no capability), gets 404 on every path.
CARE = {"caseworker": 200, "case_manager": 200}
case_pk = lambda w: {"pk": w.case.pk}  # noqa: E731
duplicate_pk = lambda w: {  # noqa: E731
    "pk": w.parts["duplicate_case"].pk,
    "hit_id": w.parts["possible_duplicate"].pk,
}


def care(status: int = 200, hidden: int = 404) -> Statuses:
    return only({"caseworker": status, "case_manager": status}, hidden, API_ANON)


def case_task(key: str = "") -> Callable[[World], dict[str, Any]]:
    """An open task of Harbour's (issue 17) on the main case, or on ``w.parts[key]``;
    opening it again returns the same task."""

    def kwargs(w: World) -> dict[str, Any]:
        from casework import case_tasks

        case = w.parts[key] if key else w.case
        with transaction.atomic():
            task = case_tasks.task_open(
                case=case, kind="turned_adult", due_on=datetime.date(2026, 12, 14)
            )
        return {"pk": case.pk, "task_id": task.pk}

    return kwargs


MATRIX.update(
    {
        "api:case-list": [
            Expect(
                "GET", everyone(200, API_ANON), api=True, note="empty for those who see no case"
            ),
            Expect(
                "POST",
                care(201, 403),
                api=True,
                data=lambda w, r: {"exploitation_types": ["labour"]},
            ),
        ],
        "api:case-detail": [
            Expect("GET", care(), api=True, kwargs=case_pk),
            Expect(
                "PATCH",
                care(),
                api=True,
                kwargs=case_pk,
                data=lambda w, r: {"risk_level": "medium"},
            ),
            Expect(
                "PUT", everyone(405, API_ANON), api=True, kwargs=case_pk, note="changes are PATCH"
            ),
        ],
        "api:case-identity": [
            Expect("GET", care(), api=True, kwargs=case_pk),
            Expect(
                "PUT", care(), api=True, kwargs=case_pk, data=lambda w, r: {"given_name": "Ana"}
            ),
        ],
        "api:case-location": [
            Expect("GET", care(), api=True, kwargs=case_pk),
            Expect(
                "PUT",
                care(),
                api=True,
                kwargs=case_pk,
                data=lambda w, r: {"address": "2 Hill Rd", "accommodation_type": "safe_house"},
            ),
        ],
        "api:case-needs": [
            Expect("GET", care(), api=True, kwargs=case_pk),
            Expect(
                "POST",
                care(201),
                api=True,
                kwargs=case_pk,
                data=lambda w, r: {"category": "transport"},
            ),
        ],
        "api:case-need": [
            Expect(
                "PATCH",
                care(),
                api=True,
                kwargs=lambda w: {"pk": w.case.pk, "need_id": w.parts["need"].pk},
                data=lambda w, r: {"status": "met"},
            ),
        ],
        "api:case-consents": [
            Expect("GET", care(), api=True, kwargs=case_pk),
            Expect(
                "POST",
                care(201),
                api=True,
                kwargs=case_pk,
                data=lambda w, r: {"scope": "evidence_use", "method": "written"},
            ),
        ],
        "api:case-withdraw-consent": [
            Expect(
                "POST",
                care(),
                api=True,
                kwargs=lambda w: {"pk": w.case.pk, "consent_id": w.parts["consent"].pk},
            ),
        ],
        "api:case-notes": [
            Expect("GET", care(), api=True, kwargs=case_pk),
            Expect(
                "POST",
                care(201),
                api=True,
                kwargs=case_pk,
                data=lambda w, r: {"body": "Called", "visibility": "lead_agency"},
            ),
        ],
        "api:case-flags": [
            Expect("GET", care(), api=True, kwargs=case_pk),
            Expect(
                "POST", care(201), api=True, kwargs=case_pk, data=lambda w, r: {"kind": "other"}
            ),
        ],
        "api:case-clear-flag": [
            Expect(
                "POST",
                care(),
                api=True,
                kwargs=lambda w: {"pk": w.case.pk, "flag_id": w.parts["flag"].pk},
            ),
        ],
        "api:case-documents": [
            Expect("GET", care(), api=True, kwargs=case_pk),
            Expect(
                "POST",
                care(400),
                api=True,
                kwargs=case_pk,
                note="allowed; no file is a field error",
            ),
        ],
        "api:case-document-download": [
            Expect(
                "GET",
                care(),
                api=True,
                kwargs=lambda w: {"pk": w.case.pk, "doc_id": w.parts["document"].pk},
            ),
        ],
        "api:case-close": [
            Expect(
                "POST",
                care(),
                api=True,
                kwargs=case_pk,
                data=lambda w, r: {"reason": "support_complete"},
            ),
        ],
        "api:case-transfer": [
            Expect(
                "POST",
                care(201),
                api=True,
                kwargs=case_pk,
                data=lambda w, r: {"to_agency": w.agencies["council"].pk, "reason": "Moving"},
            ),
        ],
        "api:case-answer-transfer": [
            Expect(
                "POST",
                care(),
                api=True,
                kwargs=lambda w: {
                    "pk": w.transfer_case.pk,
                    "transfer_id": w.parts["transfer"].pk,
                    "decision": "withdraw",
                },
            ),
            Expect(
                "POST",
                care(403),
                api=True,
                kwargs=lambda w: {
                    "pk": w.transfer_case.pk,
                    "transfer_id": w.parts["transfer"].pk,
                    "decision": "accept",
                },
                note="only the receiving agency's case managers accept",
            ),
        ],
        "api:case-access": [Expect("GET", care(), api=True, kwargs=case_pk)],
        "api:case-audit": [Expect("GET", care(), api=True, kwargs=case_pk)],
        "api:case-tasks": [Expect("GET", care(), api=True, kwargs=case_pk)],
        "api:case-task-done": [
            Expect("POST", care(), api=True, kwargs=case_task(), note="the lead agency's task")
        ],
        "api:case-possible-duplicates": [
            Expect(
                "GET",
                care(),
                api=True,
                kwargs=lambda w: {"pk": w.parts["duplicate_case"].pk},
                note="a possible match at the Council: its agency and contact only",
            )
        ],
        "api:case-dismiss-possible-duplicate": [
            Expect(
                "POST",
                care(),
                api=True,
                kwargs=duplicate_pk,
                data=lambda w, r: {"reason": "Not the same person"},
            ),
            Expect(
                "POST",
                care(400),
                api=True,
                kwargs=duplicate_pk,
                note="no reason: a field error",
            ),
        ],
    }
)


# --- casework pages -------------------------------------------------------------------


def care_page(status: int = 200, hidden: int = 404) -> Statuses:
    return only({"caseworker": status, "case_manager": status}, hidden, HTML_LOGIN)


def part(key: str, name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.case.pk, name: w.parts[key].pk}


NEW_CASE = {"risk_level": "standard", "gender": "unknown", "how_identified": "other"}

MATRIX.update(
    {
        "casework:case_list": [
            Expect("GET", everyone(200, HTML_LOGIN), note="empty for those who see none")
        ],
        "casework:case_create": [
            Expect("GET", care_page(200, 403)),
            Expect("POST", care_page(302, 403), data=lambda w, r: NEW_CASE),
        ],
        "casework:my_needs": [Expect("GET", care_page(200, 403))],
        "casework:case_detail": [Expect("GET", care_page(), kwargs=case_pk)],
        "casework:case_edit": [Expect("GET", care_page(), kwargs=case_pk)],
        "casework:evidence_list": [
            Expect("GET", everyone(200, HTML_LOGIN), note="own requests, or to decide")
        ],
        "casework:evidence_request_new": [
            Expect(
                "GET",
                only(
                    {
                        "officer": 200,
                        "caseworker": 403,
                        "case_manager": 403,
                        "analyst": 403,
                    },
                    404,
                    HTML_LOGIN,
                ),
                kwargs=lambda w: {"pk": w.parts["shared_case"].pk},
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
                only(
                    {"case_manager": 200, "agency_admin": 200, "partnership_manager": 200},
                    403,
                    HTML_LOGIN,
                ),
                note="the roles that review break-glass (issue 14)",
            )
        ],
        "casework:outcome_add": [
            Expect(
                "GET",
                only(
                    {"officer": 200, "caseworker": 403, "case_manager": 403, "analyst": 403},
                    404,
                    HTML_LOGIN,
                ),
                kwargs=lambda w: {"pk": w.parts["shared_case"].pk},
                note="officers and prosecutors who see the case record outcomes",
            )
        ],
        "casework:case_access": [
            Expect("GET", care_page(), kwargs=case_pk, note="lead agency's care roles")
        ],
        "casework:identity_edit": [Expect("GET", care_page(), kwargs=case_pk)],
        "casework:possible_duplicate_dismiss": [
            Expect("GET", care_page(), kwargs=duplicate_pk),
            Expect(
                "POST",
                care_page(302),
                kwargs=duplicate_pk,
                data=lambda w, r: {"reason": "Not the same person"},
            ),
            Expect(
                "POST",
                care_page(200),
                kwargs=duplicate_pk,
                note="no reason: the form again, with its error summary",
            ),
        ],
        "casework:location_edit": [Expect("GET", care_page(), kwargs=case_pk)],
        "casework:need_add": [Expect("GET", care_page(), kwargs=case_pk)],
        "casework:need_edit": [Expect("GET", care_page(), kwargs=part("need", "need_id"))],
        "casework:consent_add": [Expect("GET", care_page(), kwargs=case_pk)],
        "casework:consent_withdraw": [
            Expect(
                "POST",
                care_page(302),
                kwargs=part("consent", "consent_id"),
                data=lambda w, r: {"reason": "x"},
            )
        ],
        "casework:note_add": [
            Expect(
                "POST",
                care_page(302),
                kwargs=case_pk,
                data=lambda w, r: {"body": "Hi", "visibility": "case_team"},
            )
        ],
        "casework:note_edit": [
            Expect(
                "GET",
                only({"caseworker": 200, "case_manager": 403}, 404, HTML_LOGIN),
                kwargs=part("note", "note_id"),
                note="only the author edits",
            ),
        ],
        "casework:flag_add": [Expect("GET", care_page(), kwargs=case_pk)],
        "casework:flag_clear": [Expect("POST", care_page(302), kwargs=part("flag", "flag_id"))],
        "casework:document_upload": [Expect("GET", care_page(), kwargs=case_pk)],
        "casework:document_download": [
            Expect("GET", care_page(), kwargs=part("document", "doc_id"))
        ],
        "casework:case_status": [
            Expect(
                "POST", care_page(302), kwargs=case_pk, data=lambda w, r: {"action": "activate"}
            ),
            Expect("GET", only({}, 405, HTML_LOGIN), kwargs=case_pk),
        ],
        "casework:task_done": [
            Expect("POST", care_page(302), kwargs=case_task(), note="the lead agency's task"),
            Expect("GET", only({}, 405, HTML_LOGIN), kwargs=case_task()),
        ],
        "casework:transfer_propose": [
            Expect(
                "POST",
                care_page(302),
                kwargs=case_pk,
                data=lambda w, r: {"to_agency": w.agencies["council"].pk, "reason": "Moving"},
            ),
        ],
        "casework:transfer_answer": [
            Expect(
                "POST",
                care_page(302),
                kwargs=lambda w: {"pk": w.transfer_case.pk, "transfer_id": w.parts["transfer"].pk},
                data=lambda w, r: {"action": "withdraw"},
            ),
            Expect(
                "POST",
                care_page(403),
                kwargs=lambda w: {"pk": w.transfer_case.pk, "transfer_id": w.parts["transfer"].pk},
                data=lambda w, r: {"action": "accept"},
            ),
        ],
    }
)


# --- the parts of a case the police see (issue 14, item 7) ----------------------------
# The case Harbour shared with the police (an accepted referral): the officer and the
# analyst see its summary and flags, and the officer the statement an approved evidence
# request granted. A part they may not read is 404 at both doors (audited); acting on
# the case is 403 at both doors; changing a part they may not even read is 404.
shared_pk = lambda w: {"pk": w.parts["shared_case"].pk}  # noqa: E731


def police(care: int, officer: int, analyst: int, anonymous: int = API_ANON) -> Statuses:
    """The shared case: Harbour's care roles, the officer, the analyst; others 404."""
    statuses = {"caseworker": care, "case_manager": care, "officer": officer, "analyst": analyst}
    return only(statuses, 404, anonymous)


def police_page(care: int, officer: int, analyst: int) -> Statuses:
    return police(care, officer, analyst, HTML_LOGIN)


def shared_document(w: World) -> dict[str, Any]:
    return {"pk": w.parts["shared_case"].pk, "doc_id": w.parts["evidence_items"][0]["id"]}


SHARED_PARTS: dict[str, list[Expect]] = {
    "api:case-detail": [
        Expect("GET", police(200, 200, 200), api=True, kwargs=shared_pk),
        Expect(
            "PATCH",
            police(200, 403, 403),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"risk_level": "medium"},
        ),
    ],
    "api:case-identity": [
        Expect(
            "GET",
            police(404, 404, 404),
            api=True,
            kwargs=shared_pk,
            note="none recorded yet: the same 404 as for the police, who may not read it",
        ),
        Expect(
            "PUT",
            police(200, 404, 404),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"given_name": "Ana"},
            note="a part they may not read: 404, even to change it",
        ),
    ],
    "api:case-location": [Expect("GET", police(404, 404, 404), api=True, kwargs=shared_pk)],
    "api:case-needs": [
        Expect("GET", police(200, 404, 404), api=True, kwargs=shared_pk),
        Expect(
            "POST",
            police(201, 403, 403),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"category": "transport"},
        ),
    ],
    "api:case-consents": [
        Expect("GET", police(200, 404, 404), api=True, kwargs=shared_pk),
        Expect(
            "POST",
            police(201, 403, 403),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"scope": "police_contact", "method": "written"},
        ),
    ],
    "api:case-notes": [
        Expect(
            "GET",
            police(200, 200, 404),
            api=True,
            kwargs=shared_pk,
            note="the officer: only notes granted one by one (none here)",
        ),
        Expect(
            "POST",
            police(201, 403, 403),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"body": "Called", "visibility": "case_team"},
        ),
    ],
    "api:case-flags": [
        Expect("GET", police(200, 200, 200), api=True, kwargs=shared_pk),
        Expect(
            "POST",
            police(201, 403, 403),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"kind": "other"},
        ),
    ],
    "api:case-documents": [
        Expect(
            "GET",
            police(200, 200, 404),
            api=True,
            kwargs=shared_pk,
            note="the officer: the statement granted",
        ),
        Expect("POST", police(400, 403, 403), api=True, kwargs=shared_pk, note="no file: 400"),
    ],
    "api:case-document-download": [
        Expect("GET", police(200, 200, 404), api=True, kwargs=shared_document)
    ],
    "api:case-close": [
        Expect(
            "POST",
            police(200, 403, 403),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"reason": "support_complete"},
        )
    ],
    "api:case-possible-duplicates": [
        Expect(
            "GET",
            police(200, 404, 404),
            api=True,
            kwargs=shared_pk,
            note="the police see the case, not who the person is",
        )
    ],
    "api:case-access": [Expect("GET", police(200, 404, 404), api=True, kwargs=shared_pk)],
    "api:case-audit": [Expect("GET", police(200, 404, 404), api=True, kwargs=shared_pk)],
    "api:case-tasks": [
        Expect(
            "GET",
            police(200, 200, 200),
            api=True,
            kwargs=shared_pk,
            note="the police: their own agency's tasks (none)",
        )
    ],
    "api:case-task-done": [
        Expect(
            "POST",
            police(200, 404, 403),
            api=True,
            kwargs=case_task("shared_case"),
            note="Harbour's task: 404 to the officer; the analyst's role works no tasks",
        )
    ],
    "casework:task_done": [
        Expect(
            "POST",
            police_page(302, 404, 403),
            kwargs=case_task("shared_case"),
            note="as the API",
        )
    ],
    "casework:case_detail": [Expect("GET", police_page(200, 200, 200), kwargs=shared_pk)],
    "casework:case_edit": [Expect("GET", police_page(200, 403, 403), kwargs=shared_pk)],
    "casework:case_access": [Expect("GET", police_page(200, 404, 404), kwargs=shared_pk)],
    "casework:identity_edit": [Expect("GET", police_page(200, 404, 404), kwargs=shared_pk)],
    "casework:location_edit": [Expect("GET", police_page(200, 404, 404), kwargs=shared_pk)],
    "casework:need_add": [Expect("GET", police_page(200, 403, 403), kwargs=shared_pk)],
    "casework:consent_add": [Expect("GET", police_page(200, 403, 403), kwargs=shared_pk)],
    "casework:note_add": [
        Expect(
            "POST",
            police_page(302, 403, 403),
            kwargs=shared_pk,
            data=lambda w, r: {"body": "Hi", "visibility": "case_team"},
        )
    ],
    "casework:flag_add": [Expect("GET", police_page(200, 403, 403), kwargs=shared_pk)],
    "casework:document_upload": [Expect("GET", police_page(200, 403, 403), kwargs=shared_pk)],
    "casework:document_download": [
        Expect("GET", police_page(200, 200, 404), kwargs=shared_document)
    ],
    "casework:case_status": [
        Expect(
            "POST",
            police_page(302, 403, 403),
            kwargs=shared_pk,
            data=lambda w, r: {"action": "activate"},
        )
    ],
}
for _name, _rows in SHARED_PARTS.items():
    MATRIX[_name].extend(_rows)


# --- notifications --------------------------------------------------------------------
# Everyone has an inbox of their own; a notification of the caseworker's is 404 to
# everyone else (and marking it read there changes nothing).


def caseworker_notification(w: World) -> dict[str, Any]:
    from django.db import transaction

    from notifications.services import notification_event_expand, notify

    with transaction.atomic():
        event = notify(
            recipients=[w.users["caseworker"]],
            kind="case.matrix",
            target=w.case,
            message="A case needs your attention",
            url=f"/cases/{w.case.pk}/",
            dedup_key="matrix",
        )
    [notification_id] = notification_event_expand(event_id=event.pk)  # the worker's part
    return {"pk": notification_id}


MATRIX.update(
    {
        "notifications:inbox": [Expect("GET", everyone(200, HTML_LOGIN))],
        "notifications:mark_read": [
            Expect(
                "POST",
                only({"caseworker": 302}, 404, HTML_LOGIN),
                kwargs=caseworker_notification,
                note="back to the inbox",
            ),
            Expect("GET", only({}, 405, HTML_LOGIN), kwargs=caseworker_notification),
        ],
        "notifications:mark_all_read": [
            Expect("POST", everyone(302, HTML_LOGIN)),
            Expect("GET", only({}, 405, HTML_LOGIN)),
        ],
        "api:notification-list": [Expect("GET", everyone(200, API_ANON), api=True)],
        "api:notification-read": [
            Expect(
                "POST",
                only({"caseworker": 200}, 404, API_ANON),
                api=True,
                kwargs=caseworker_notification,
            ),
            Expect(
                "GET",
                only({}, 405, API_ANON),
                api=True,
                kwargs=caseworker_notification,
                note="POST only; refused before any lookup",
            ),
        ],
    }
)


# --- referrals and the NRM ------------------------------------------------------------
# A referral from Harbour Trust to Northshire Police: the referring caseworkers and the
# receiving officer see it; roles that never work with referrals (the police analyst, the
# Council's partnership manager, agency admins) get 403 before any id is looked up, at both
# doors; everyone else gets 404 (issue 14).
REFERRAL_PARTIES = {"caseworker": 200, "case_manager": 200, "officer": 200}


def evidence_pk(key: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.parts[key].pk}


def deciders(decider: int, officer: int) -> Statuses:
    """The lead agency's care roles decide; the officer who asked sees; others: 404."""
    return only({"caseworker": decider, "case_manager": decider, "officer": officer}, 404, API_ANON)


MATRIX.update(
    {
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
                only(
                    {"officer": 201, "case_manager": 201, "caseworker": 403},
                    404,
                    API_ANON,
                ),
                api=True,
                kwargs=case_pk,
                data=lambda w, r: {"grounds": "threat_to_life", "reason": "Threat to life, again"},
                note="a case the caller may not break the glass on (a role without the power, "
                "or outside the lead agency's partnership) is the 404 of a missing case; 403 "
                "only to a role without the power that sees the case (issue 14, item 6)",
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
                kwargs=lambda w: {"pk": w.parts["break_glass"].pk},
                note="as the page: its opener and its reviewer",
            )
        ],
        "api:break-glass-to-review": [
            Expect(
                "GET",
                only(
                    {"case_manager": 200, "agency_admin": 200, "partnership_manager": 200},
                    403,
                    API_ANON,
                ),
                api=True,
            )
        ],
        "api:break-glass-review": [
            Expect(
                "POST",
                only(
                    {"agency_admin": 200, "case_manager": 403, "partnership_manager": 404},
                    403,
                    API_ANON,
                ),
                api=True,
                kwargs=lambda w: {"pk": w.parts["break_glass"].pk},
                data=lambda w, r: {"note": "Justified"},
                note="as the page",
            )
        ],
        "api:case-outcomes": [
            Expect(
                "GET",
                only(
                    {"caseworker": 200, "case_manager": 200, "officer": 200, "analyst": 200},
                    404,
                    API_ANON,
                ),
                api=True,
                kwargs=lambda w: {"pk": w.parts["shared_case"].pk},
            ),
            Expect(
                "POST",
                only(
                    {"caseworker": 403, "case_manager": 403, "officer": 201, "analyst": 403},
                    404,
                    API_ANON,
                ),
                api=True,
                kwargs=lambda w: {"pk": w.parts["shared_case"].pk},
                data=lambda w, r: {"crime_recorded": True, "crime_reference": "NP/1"},
            ),
        ],
    }
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


MATRIX.update(
    {
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
        "api:referral-detail": [Expect("GET", parties(200, 200), api=True, kwargs=referral())],
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
            Expect("GET", nrm_work(200), api=True, kwargs=lambda w: {"case_pk": w.case.pk}),
            Expect(
                "POST",
                nrm_work(409),
                api=True,
                kwargs=lambda w: {"case_pk": w.case.pk},
                note="the case already has an NRM referral in progress (issue 17): the rule "
                "is checked first, so only those allowed learn the state; 201 is in "
                "referrals/tests/test_nrm.py",
            ),
        ],
        "api:case-nrm-detail": [
            Expect(
                "PATCH",
                nrm_work(200),
                api=True,
                kwargs=lambda w: {"case_pk": w.case.pk, "pk": w.parts["nrm"].pk},
                data=lambda w, r: {"competent_authority_reference": "CA-1"},
            ),
        ],
        "api:case-nrm-withdraw": [
            Expect(
                "POST",
                nrm_work(200),
                api=True,
                kwargs=lambda w: {"case_pk": w.case.pk, "pk": w.parts["nrm"].pk},
                data=lambda w, r: {"reason": "Going home"},
            ),
        ],
        "api:case-nrm-reconsiderations": [
            Expect(
                "POST",
                nrm_work(409),
                api=True,
                kwargs=lambda w: {"case_pk": w.case.pk, "pk": w.parts["nrm"].pk},
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
                kwargs=lambda w: {"case_pk": w.case.pk},
                note="the person consented to the referral: 409 (withdraw the consent first)",
            ),
        ],
        "api:case-duty-to-notify": [
            Expect(
                "POST",
                nrm_work(403),
                api=True,
                kwargs=lambda w: {"case_pk": w.case.pk},
                note="a charity has no duty to notify",
            ),
        ],
        "api:deadlines": [Expect("GET", everyone(200, API_ANON), api=True)],
        "referrals:inbox": [
            Expect(
                "GET",
                only(
                    {"analyst": 403, "partnership_manager": 403, "agency_admin": 403},
                    200,
                    HTML_LOGIN,
                ),
            ),
        ],
        "referrals:deadlines": [Expect("GET", everyone(200, HTML_LOGIN))],
        "referrals:referral_detail": [
            Expect("GET", parties(200, 200, HTML_LOGIN), kwargs=referral())
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
            Expect(
                "GET",
                only({**CARE, **NO_REFERRAL_WORK}, 404, HTML_LOGIN),
                kwargs=lambda w: {"case_pk": w.case.pk},
            ),
            Expect(
                "POST",
                only({"caseworker": 302, "case_manager": 302, **NO_REFERRAL_WORK}, 404, HTML_LOGIN),
                kwargs=lambda w: {"case_pk": w.case.pk},
                data=lambda w, r: {
                    "to_agency": w.agencies["council"].pk,
                    "kind": "health",
                    "urgency": "routine",
                    "reason": "GP",
                },
            ),
        ],
        "referrals:case_nrm": [
            Expect("GET", nrm_work(200, HTML_LOGIN), kwargs=lambda w: {"case_pk": w.case.pk}),
            Expect(
                "POST",
                nrm_work(302, HTML_LOGIN),
                kwargs=lambda w: {"case_pk": w.case.pk},
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
                kwargs=lambda w: {"case_pk": w.case.pk},
                data=lambda w, r: {
                    "action": "withdraw",
                    "nrm_id": w.parts["nrm"].pk,
                    "confirm": "on",
                },
                note="the person withdraws: api:case-nrm-withdraw",
            ),
        ],
    }
)


# --- intelligence (issue 7) ---------------------------------------------------------


def build_intelligence(world: World) -> None:
    """A report by the police analyst (partnership, AMBER); a C report by Harbour's case
    manager (partnership, AMBER: the police read it once they accept its conditions); an
    operation led by the police with Harbour as partner."""
    from intelligence import operations, reports

    analyst, case_manager = world.users["analyst"], world.users["case_manager"]
    common = {
        "summary": "Workers live on site.",
        "source_evaluation": "2",
        "intelligence_assessment": "B",
        "tlp": "AMBER",
        "distribution": "partnership",
    }
    report = reports.report_create(actor=analyst, title="Car wash", handling_code="P", **common)
    world.parts["report"] = reports.report_submit(actor=analyst, report=report)
    conditioned = reports.report_create(
        actor=case_manager,
        title="Nail bar",
        handling_code="C",
        handling_conditions="Police contact before any visit.",
        **common,
    )
    world.parts["c_report"] = reports.report_submit(actor=case_manager, report=conditioned)
    world.parts["operation"] = operations.operation_create(
        actor=world.users["officer"],
        name="Operation Clearwater",
        starts_on=timezone.localdate() - datetime.timedelta(days=7),
        partner_agencies=[world.agencies["harbour"]],
    )
    build_intelligence_pages(world)


INTELLIGENCE_READERS = {"officer": 200, "analyst": 200}
CONTRIBUTOR_ROLES = ("caseworker", "case_manager", "officer", "analyst", "outsider")


def contributors(status: int, others: int = 403, **overrides: int) -> Statuses:
    """Roles that write intelligence and take part in operations get ``status`` (the
    outsider too: an officer of another force has the role, just not the records)."""
    return only({**{r: status for r in CONTRIBUTOR_ROLES}, **overrides}, others, API_ANON)


report_pk = lambda w: {"pk": w.parts["report"].pk}  # noqa: E731
operation_pk = lambda w: {"pk": w.parts["operation"].pk}  # noqa: E731
REPORT_BODY = {
    "title": "Farm",
    "summary": "Pickers sleep in a barn.",
    "source_evaluation": "2",
    "intelligence_assessment": "B",
    "handling_code": "P",
    "tlp": "AMBER",
    "distribution": "partnership",
}

MATRIX.update(
    {
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
                kwargs=report_pk,
                note="partnership AMBER: read by intelligence roles of partners; 404 otherwise; "
                "roles that never use intelligence 403 first, as in the browser",
            ),
            Expect(
                "PATCH",
                contributors(404, officer=200, analyst=200),
                api=True,
                kwargs=report_pk,
                data=lambda w, r: {"title": "Hand car wash"},
                note="the police's own report",
            ),
            Expect("PUT", everyone(405, API_ANON), api=True, kwargs=report_pk, note="PATCH only"),
        ],
        "api:intelligence-report-acknowledge-conditions": [
            Expect(
                "POST",
                only({"officer": 200, "analyst": 200, "outsider": 404}, 403, API_ANON),
                api=True,
                kwargs=lambda w: {"pk": w.parts["c_report"].pk},
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
                contributors(201, caseworker=403),
                api=True,
                data=lambda w, r: {"name": "Operation Harvest", "starts_on": "2026-01-05"},
                note="officers, analysts and case managers lead operations",
            ),
        ],
        "api:operation-visits": [
            Expect(
                "GET",
                contributors(200, outsider=404),
                api=True,
                kwargs=operation_pk,
                note="the lead (police) and the partner (Harbour)",
            ),
            Expect(
                "POST",
                contributors(201, outsider=404),
                api=True,
                kwargs=operation_pk,
                data=lambda w, r: {
                    "premises_type": "car_wash",
                    "postcode_district": "NE1",
                    "visited_on": timezone.localdate().isoformat(),
                    "outcome": "no_concerns",
                },
            ),
        ],
    }
)


# --- Intelligence (issue 7): pages ----------------------------------------------------


def build_intelligence_pages(world: World) -> None:
    """What the pages need besides build_intelligence's report, c_report and operation: a
    police draft; a match the police are told of (Harbour's caseworker named the phone of
    a police-only report, which Harbour cannot read); a visit in the operation."""
    from intelligence import matching, operations, reports
    from intelligence.models import Match, MatchingJob

    analyst, cw = world.users["analyst"], world.users["caseworker"]
    base = {
        "source_evaluation": "2",
        "intelligence_assessment": "B",
        "handling_code": "P",
        "tlp": "AMBER",
        "distribution": "partnership",
        "summary": "Workers live on site.",
    }
    world.parts["draft"] = reports.report_create(actor=analyst, title="Draft", **base)
    phone = [{"kind": "phone", "value": "+44 7400 123456"}]
    police_only = reports.report_create(
        actor=analyst, title="Phone", **{**base, "distribution": "agency"}, entities=phone
    )
    harbour = reports.report_create(actor=cw, title="Same phone", **base, entities=phone)
    for actor, report in ((analyst, police_only), (cw, harbour)):
        reports.report_submit(actor=actor, report=report)
        # Matching is a worker's job after the commit, which this world's transaction
        # never reaches: done here after each submit, as the worker would.
        for job in MatchingJob.objects.filter(done_at__isnull=True).order_by("pk"):
            matching.report_match(job_id=job.pk)
    world.parts["match"] = Match.objects.get(existing_report=police_only)
    world.parts["visit"] = operations.visit_record(
        actor=world.users["officer"],
        operation=world.parts["operation"],
        premises_type="car_wash",
        postcode_district="NE1",
        visited_on=timezone.localdate(),
        outcome="potential_victims",
        indicators=["living_on_site"],
    )


# Roles that never use intelligence: agency admins, prosecutors, partnership managers.
NO_INTELLIGENCE = {"agency_admin": 403, "prosecutor": 403, "partnership_manager": 403}
INTEL_USERS = {"caseworker": 200, "case_manager": 200, "officer": 200, "analyst": 200}
POLICE_READ = {**NO_INTELLIGENCE, "officer": 200, "analyst": 200}  # others: 404
OPERATION_SEEN = {**NO_INTELLIGENCE, **INTEL_USERS}  # police lead, Harbour partners; outsider 404
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


def intel_pk(part: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.parts[part].pk}


MATRIX.update(
    {
        "intelligence:report_list": [
            Expect("GET", only({**NO_INTELLIGENCE, "outsider": 200}, 200, HTML_LOGIN)),
            Expect(
                "POST",
                only({**NO_INTELLIGENCE, "outsider": 200}, 200, HTML_LOGIN),
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
                only({**POLICE_READ, "caseworker": 403}, 404, HTML_LOGIN),
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
        "intelligence:match_list": [
            Expect("GET", only({**NO_INTELLIGENCE, "outsider": 200}, 200, HTML_LOGIN))
        ],
        "intelligence:match_detail": [
            Expect(
                "GET",
                only(POLICE_READ, 404, HTML_LOGIN),
                kwargs=intel_pk("match"),
                note="the police were told (their police-only report); Harbour was not",
            )
        ],
        "intelligence:operation_list": [
            Expect("GET", only({**NO_INTELLIGENCE, "outsider": 200}, 200, HTML_LOGIN))
        ],
        "intelligence:operation_create": [
            Expect(
                "GET",
                only({**NO_INTELLIGENCE, "caseworker": 403, "outsider": 200}, 200, HTML_LOGIN),
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
                only({"caseworker": 302, "case_manager": 302}, 403, HTML_LOGIN),
                kwargs=intel_pk("visit"),
                note="caseworkers and case managers of an agency in the operation",
            )
        ],
        "intelligence:visit_start_report": [
            Expect("GET", only(OPERATION_SEEN, 404, HTML_LOGIN), kwargs=intel_pk("visit"))
        ],
    }
)


# --- dashboards (issue 8) --------------------------------------------------------------

DASHBOARD_ROLES = {"partnership_manager": 200, "case_manager": 200}
partnership_pk = lambda w: {"pk": w.partnership.pk}  # noqa: E731
harbour_pk = lambda w: {"pk": w.agencies["harbour"].pk}  # noqa: E731
export_pk = lambda w: {"pk": w.parts["export_job"].pk}  # noqa: E731


def _table(kwargs: Callable[[World], dict[str, Any]]) -> Callable[[World], dict[str, Any]]:
    return lambda w: {**kwargs(w), "table_key": "cases_by_month"}


MATRIX.update(
    {
        "dashboards:list": [
            Expect(
                "GET",
                only(DASHBOARD_ROLES, 403, HTML_LOGIN),
                note="partnership and case managers; other roles open no dashboard",
            )
        ],
        **{
            f"dashboards:partnership_{name}": [
                Expect(
                    "GET",
                    only({"partnership_manager": 200}, 403, HTML_LOGIN),
                    kwargs=kwargs,
                    note="the partnership's managers; other roles 403 before any lookup, "
                    "as the API; another partnership's manager would get 404 (audited)",
                )
            ]
            for name, kwargs in (
                ("dashboard", partnership_pk),
                ("report", partnership_pk),
                ("csv", _table(partnership_pk)),
            )
        },
        **{
            f"dashboards:agency_{name}": [
                Expect(
                    "GET",
                    only(DASHBOARD_ROLES, 403, HTML_LOGIN),
                    kwargs=kwargs,
                    note="Harbour's case manager, and the manager of its partnership; roles "
                    "that open no dashboard 403, as the API",
                )
            ]
            for name, kwargs in (
                ("dashboard", harbour_pk),
                ("report", harbour_pk),
                ("csv", _table(harbour_pk)),
            )
        },
        "dashboards:partnership_export": [
            Expect(
                "POST", only({"partnership_manager": 302}, 403, HTML_LOGIN), kwargs=partnership_pk
            ),
            Expect("GET", only({}, 405, HTML_LOGIN), kwargs=partnership_pk),
        ],
        "dashboards:agency_export": [
            Expect(
                "POST",
                only({"partnership_manager": 302, "case_manager": 302}, 403, HTML_LOGIN),
                kwargs=harbour_pk,
            ),
            Expect("GET", only({}, 405, HTML_LOGIN), kwargs=harbour_pk),
        ],
        "dashboards:export_detail": [
            Expect(
                "GET",
                only({"partnership_manager": 200, "case_manager": 404}, 403, HTML_LOGIN),
                kwargs=export_pk,
                note="the requester only; roles that open no dashboard 403 before any lookup",
            )
        ],
        "dashboards:export_download": [
            Expect(
                "GET",
                only({"partnership_manager": 200, "case_manager": 404}, 403, HTML_LOGIN),
                kwargs=export_pk,
                note="the requester only (audited); roles that open no dashboard 403",
            )
        ],
    }
)


MATRIX.update(
    {
        "api:dashboard-partnership": [
            Expect(
                "GET",
                only({"partnership_manager": 200}, 403, API_ANON),
                api=True,
                kwargs=lambda w: {"partnership_id": w.partnership.pk},
                note="a case manager's role never opens a partnership's: 403, as the page",
            )
        ],
        "api:dashboard-agency": [
            Expect(
                "GET",
                only({"partnership_manager": 200, "case_manager": 200}, 403, API_ANON),
                api=True,
                kwargs=lambda w: {"agency_id": w.agencies["harbour"].pk},
                note="Harbour's own case manager; the partnership's manager",
            )
        ],
    }
)


@pytest.fixture(autouse=True)
def _private_documents(settings: Any, tmp_path: Any) -> Any:
    from django.utils.functional import empty

    from casework.storage import private_storage

    settings.CONCORD_PRIVATE_ROOT = tmp_path
    private_storage._wrapped = empty
    yield
    private_storage._wrapped = empty


# The Django admin is for superusers only: no Concord role is staff. Its routes are
# covered by one rule, checked on every one of them: a redirect into the admin's login
# (admin:logout sends non-staff to the admin index, which does the same). The admin's
# login is Concord's own sign-in (config.views.admin_login): anonymous callers are sent
# to it, signed-in non-staff get 403.
ADMIN_LOGIN = "admin:login"


def route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                if pattern.namespace and namespace:
                    inner = f"{namespace}:{pattern.namespace}"
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                if pattern.name is None and namespace == "admin":
                    continue  # the admin's legacy "<object_id>/" redirect to the change page
                assert pattern.name, f"unnamed URL pattern {pattern.pattern} cannot be covered"
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_route_is_covered():
    routes = route_names()
    uncovered = sorted(r for r in routes - set(MATRIX) if not r.startswith("admin:"))
    stale = sorted(set(MATRIX) - routes)
    assert not uncovered, f"routes without permission-matrix expectations: {uncovered}"
    assert not stale, f"expectations for routes that no longer exist: {stale}"
    for name, expectations in MATRIX.items():
        for expect in expectations:
            assert set(expect.statuses) == set(ROLES), (
                f"{name} {expect.method}: one status per role"
            )


CASES = [
    (name, i) for name, expectations in sorted(MATRIX.items()) for i in range(len(expectations))
]


class _Rollback(Exception):
    pass


def _client(role: str, world: World, api: bool) -> Client:
    client: Client = APIClient() if api else Client()
    if role != "anonymous":
        client.force_login(world.users[role])
        verify_session(client, world.users[role])
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "index"), CASES, ids=[f"{n}[{i}]" for n, i in CASES])
def test_route_answers_each_role_as_expected(name: str, index: int) -> None:
    expect = MATRIX[name][index]
    world = build_world()
    url = reverse(name, kwargs=expect.kwargs(world))
    mismatches = []
    for role in ROLES:
        try:
            with transaction.atomic():
                client = _client(role, world, expect.api)
                data = expect.data(world, role)
                call = getattr(client, expect.method.lower())
                response = call(url, data, format="json") if expect.api else call(url, data)
                wanted = expect.statuses[role]
                allowed = wanted if isinstance(wanted, frozenset) else {wanted}
                if response.status_code not in allowed:
                    mismatches.append(f"{role}: got {response.status_code}, expected {wanted}")
                raise _Rollback
        except _Rollback:
            pass
    assert not mismatches, f"{expect.method} {url}: " + "; ".join(mismatches)


def _reverse_admin(name: str) -> str:
    """Any admin URL, its parameters filled with placeholders (the check runs first)."""
    _, admin_resolver = get_resolver().namespace_dict["admin"]
    (_format, params), *_ = admin_resolver.reverse_dict.getlist(name.removeprefix("admin:"))[0][0]
    placeholders = {"app_label": "agencies"}
    return reverse(name, kwargs={param: placeholders.get(param, "1") for param in params})


@pytest.mark.django_db
def test_admin_routes_are_for_superusers_only():
    world = build_world()
    admin_routes = sorted(r for r in route_names() if r.startswith("admin:"))
    assert len(admin_routes) > 20
    mismatches = []
    for name in admin_routes:
        try:
            url = _reverse_admin(name)
        except Exception as error:  # a route we cannot build a URL for is a failure too
            mismatches.append(f"{name}: cannot reverse ({error})")
            continue
        for role in ROLES:
            response = _client(role, world, api=False).get(url)
            expected, into = 302, "/admin/"
            if name == ADMIN_LOGIN:
                expected, into = (302, "/accounts/login/") if role == "anonymous" else (403, "")
            if response.status_code != expected or (
                expected == 302 and not response["Location"].startswith(into)
            ):
                mismatches.append(f"{name} as {role}: {response.status_code}")
    assert not mismatches, "; ".join(mismatches)
