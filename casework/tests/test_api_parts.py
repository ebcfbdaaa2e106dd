"""One rule, two doors: the API and the pages answer alike for the parts of a case.

Reading a part of a visible case the caller may not read (identity, location, needs,
consents, notes, documents, who can see it) is 404 at both doors, as if it were absent,
and the refused read is audited (``access.denied``). Acting on a visible case in a way
the caller may not (add a need, record consent, upload, close...) is 403 at both doors,
before the body is read or a nested id looked up; changing a part the caller may not
even read (the identity, the location, a need) is 404.

The people: Northshire Police's officer and analyst see Harbour's case through an
accepted crime-report referral (its summary and flags only); after the case moved to
the Council, Harbour's caseworker keeps read-only history (needs, consents, notes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agencies.models import Role, User
from agencies.tests.factories import member
from audit.models import AuditEvent
from casework import consents, services, transfers
from casework.models import Case
from referrals import services as referrals

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("partnership", "private_root")]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def parts(case: Case, caseworker: User) -> dict[str, Any]:
    """One of each part on Harbour's case."""
    services.location_set(
        actor=caseworker, case=case, accommodation_type="safe_house", address="1 Quay St"
    )
    return {
        "need": services.need_add(actor=caseworker, case=case, category="healthcare"),
        "consent": consents.consent_record(
            actor=caseworker, case=case, scope="police_contact", method="verbal"
        ),
        "note": services.note_add(
            actor=caseworker, case=case, body="Visit", visibility="case_team"
        ),
        "flag": services.flag_raise(actor=caseworker, case=case, kind="self_harm"),
        "document": services.document_upload(
            actor=caseworker,
            case=case,
            uploaded_file=SimpleUploadedFile("scan.png", PNG),
            kind="photo",
            purpose="support",
        ),
    }


@pytest.fixture
def shared_with_police(case: Case, caseworker: User, police, police_officer: User) -> Case:
    """Harbour reported the case to Northshire Police, which accepted: the police see its
    summary and flags, nothing else."""
    referral = referrals.referral_send(
        actor=caseworker, case=case, to_agency=police, kind="police_crime_report", reason="Report"
    )
    referrals.referral_accept(actor=police_officer, referral=referral)
    return case


@pytest.fixture
def led_by_the_council(case: Case, parts, case_manager: User, council) -> Case:
    """Harbour handed the lead to the Council: Harbour keeps read-only history."""
    council_manager = member(council, Role.CASE_MANAGER, username="council-manager")
    transfer = transfers.transfer_propose(
        actor=case_manager, case=case, to_agency=council, reason="Moved to the city"
    )
    transfers.transfer_accept(actor=council_manager, transfer=transfer)
    return case


@dataclass(frozen=True)
class Door:
    method: str
    path: str  # under /api/v1/cases/<pk>/ or /cases/<pk>/, with {need} etc.
    data: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Situation:
    what: str
    api: Door
    page: Door
    status: int


# What the police (summary only) get at each door: reading a part is 404, acting is 403.
POLICE = [
    Situation("read the identity", Door("get", "identity/"), Door("get", "identity/"), 404),
    Situation(
        "change the identity",
        Door("put", "identity/", (("given_name", "Ana"),)),
        Door("post", "identity/", (("given_name", "Ana"),)),
        404,
    ),
    Situation("read the location", Door("get", "location/"), Door("get", "location/"), 404),
    Situation(
        "move the person",
        Door("put", "location/", (("address", "2 Hill Rd"), ("accommodation_type", "other"))),
        Door("post", "location/", (("address", "2 Hill Rd"), ("accommodation_type", "other"))),
        404,
    ),
    Situation(
        "change a need",
        Door("patch", "needs/{need}/", (("status", "met"),)),
        Door("post", "needs/{need}/", (("status", "met"),)),
        404,
    ),
    Situation(
        "add a need",
        Door("post", "needs/", (("category", "transport"),)),
        Door("post", "needs/new/", (("category", "transport"),)),
        403,
    ),
    Situation(
        "withdraw a consent",
        Door("post", "consents/{consent}/withdraw/", (("reason", "x"),)),
        Door("post", "consents/{consent}/withdraw/", (("reason", "x"),)),
        404,
    ),
    Situation(
        "record a consent",
        Door("post", "consents/", (("scope", "evidence_use"), ("method", "written"))),
        Door("post", "consents/new/", (("scope", "evidence_use"), ("method", "written"))),
        403,
    ),
    Situation(
        "add a note",
        Door("post", "notes/", (("body", "Hi"), ("visibility", "case_team"))),
        Door("post", "notes/new/", (("body", "Hi"), ("visibility", "case_team"))),
        403,
    ),
    Situation(
        "raise a flag",
        Door("post", "flags/", (("kind", "other"),)),
        Door("post", "flags/new/", (("kind", "other"),)),
        403,
    ),
    Situation(
        "clear a flag",
        Door("post", "flags/{flag}/clear/"),
        Door("post", "flags/{flag}/clear/"),
        403,
    ),
    Situation("upload a document", Door("post", "documents/"), Door("post", "documents/new/"), 403),
    Situation(
        "download a document",
        Door("get", "documents/{document}/download/"),
        Door("get", "documents/{document}/download/"),
        404,
    ),
    Situation(
        "change the summary",
        Door("patch", "", (("risk_level", "high"),)),
        Door("post", "edit/", (("risk_level", "high"),)),
        403,
    ),
    Situation(
        "close the case",
        Door("post", "close/", (("reason", "support_complete"),)),
        Door("post", "status/", (("action", "close"), ("reason", "support_complete"))),
        403,
    ),
    Situation("see who can see it", Door("get", "access/"), Door("get", "access/"), 404),
]

# What Harbour, the former lead, gets: it reads its history but changes nothing, and the
# identity and location moved on with the lead.
FORMER_LEAD = [
    Situation(
        "change a need it still sees",
        Door("patch", "needs/{need}/", (("status", "met"),)),
        Door("post", "needs/{need}/", (("status", "met"),)),
        403,
    ),
    Situation(
        "withdraw a consent it still sees",
        Door("post", "consents/{consent}/withdraw/", (("reason", "x"),)),
        Door("post", "consents/{consent}/withdraw/", (("reason", "x"),)),
        403,
    ),
    Situation(
        "change the identity it no longer sees",
        Door("put", "identity/", (("given_name", "Ana"),)),
        Door("post", "identity/", (("given_name", "Ana"),)),
        404,
    ),
    Situation("read the location", Door("get", "location/"), Door("get", "location/"), 404),
    Situation("see who can see it", Door("get", "access/"), Door("get", "access/"), 404),
]


def _path(door: Door, parts: dict[str, Any]) -> str:
    return door.path.format(**{key: part.pk for key, part in parts.items()})


def _denied(case: Case) -> int:
    return AuditEvent.objects.filter(action="access.denied", case_id=case.pk).count()


def _answers(api, login, user: User, case: Case, parts, situation: Situation) -> tuple[int, int]:
    """The status at each door, checking that every 404 was audited."""
    before = _denied(case)
    api_door, page_door = situation.api, situation.page
    at_api = getattr(api(user), api_door.method)(
        f"/api/v1/cases/{case.pk}/{_path(api_door, parts)}", dict(api_door.data), format="json"
    )
    at_page = getattr(login(user), page_door.method)(
        f"/cases/{case.pk}/{_path(page_door, parts)}", dict(page_door.data)
    )
    audited = _denied(case) - before
    expected_audits = [at_api.status_code, at_page.status_code].count(404)
    assert audited == expected_audits, f"{situation.what}: {audited} refused reads audited"
    return at_api.status_code, at_page.status_code


@pytest.mark.parametrize("situation", POLICE, ids=[s.what for s in POLICE])
def test_the_police_get_the_same_answer_at_both_doors(
    api, login, shared_with_police, parts, police_officer, situation
):
    assert _answers(api, login, police_officer, shared_with_police, parts, situation) == (
        situation.status,
        situation.status,
    )


@pytest.mark.parametrize("situation", FORMER_LEAD, ids=[s.what for s in FORMER_LEAD])
def test_a_former_lead_gets_the_same_answer_at_both_doors(
    api, login, led_by_the_council, parts, caseworker, situation
):
    assert _answers(api, login, caseworker, led_by_the_council, parts, situation) == (
        situation.status,
        situation.status,
    )


@pytest.mark.parametrize(
    "path", ["identity/", "location/", "needs/", "consents/", "notes/", "documents/", "audit/"]
)
def test_an_analyst_reading_a_hidden_part_gets_an_audited_404(
    api, shared_with_police, parts, analyst, path
):
    response = api(analyst).get(f"/api/v1/cases/{shared_with_police.pk}/{path}")
    assert response.status_code == 404
    # The same body as for a case that does not exist: nothing says the part is there.
    assert response.json() == api(analyst).get("/api/v1/cases/999999/").json()
    assert AuditEvent.objects.filter(
        action="access.denied", case_id=shared_with_police.pk, actor=analyst
    ).exists()


def test_the_police_still_read_what_the_referral_shares(api, shared_with_police, parts, analyst):
    """The summary and its flags, at both doors; the parts above stay hidden."""
    client = api(analyst)
    assert client.get(f"/api/v1/cases/{shared_with_police.pk}/").status_code == 200
    assert client.get(f"/api/v1/cases/{shared_with_police.pk}/flags/").json()["count"] == 1


def test_a_bad_body_from_a_caller_who_may_not_act_is_still_403(
    api, shared_with_police, police_officer
):
    """Who may act is decided before what they sent (as the pages do): a body the
    route would refuse does not turn a 403 into a 400."""
    client = api(police_officer)
    base = f"/api/v1/cases/{shared_with_police.pk}/"
    for path in ("needs/", "consents/", "notes/", "flags/", "documents/", "close/"):
        assert client.post(base + path, {}, format="json").status_code == 403, path
    assert client.patch(base, {"risk_level": "extreme"}, format="json").status_code == 403


def test_a_nested_id_of_another_case_or_none_is_the_same_404(
    api, login, case, parts, caseworker, other_agency_caseworker
):
    theirs = services.case_create(actor=other_agency_caseworker)
    their_need = services.need_add(actor=other_agency_caseworker, case=theirs, category="transport")
    before = _denied(theirs)
    for need_id in (their_need.pk, 999999, 10**30):
        at_api = api(caseworker).patch(
            f"/api/v1/cases/{case.pk}/needs/{need_id}/", {"status": "met"}, format="json"
        )
        at_page = login(caseworker).get(f"/cases/{case.pk}/needs/{need_id}/")
        assert (at_api.status_code, at_page.status_code) == (404, 404), need_id
    # The need of a case Harbour may not see was asked for, at each door: on record.
    assert _denied(theirs) == before + 2
    their_need.refresh_from_db()
    assert their_need.status == "identified"
