"""The permission matrix's rows for a case seen in part ("sees the case but not this part of it").

Harbour Trust shared a case with the police (an accepted referral) and with the Council
(an accepted health referral). The officer and the analyst see its summary and flags, and
the officer the statement an approved evidence request granted; the Council's caseworker
sees its summary, flags and needs. Each holds that much and no more: a part they may not
read (identity, location, needs, consents, notes, documents not granted, the access list,
the audit) is 404 at both doors, as if it were absent (audited); changing a part they may
not even read is 404 too; acting on the case, or on a part they read but may not change,
is 403. Lists and pages they may open leave out what they may not read (``unread``).

Harbour's care roles read every part, so a 404 to the others is the refusal, not an
absence. See ``tests/permission_matrix.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from casework.tests.test_permissions import case_task
from tests.permission_matrix import (
    API_ANON,
    HTML_LOGIN,
    SHARED_SECRETS,
    Expect,
    Rows,
    Statuses,
    World,
    check,
    each_row,
    only,
)

shared_pk = lambda w: {"pk": w.parts["shared_case"].pk}  # noqa: E731


def shared(
    care: int, officer: int, analyst: int, partner: int, anonymous: int = API_ANON
) -> Statuses:
    """The shared case: Harbour's care roles, the officer, the analyst, the Council's
    caseworker; the others do not see it: 404."""
    statuses = {
        "caseworker": care,
        "case_manager": care,
        "officer": officer,
        "analyst": analyst,
        "partner_caseworker": partner,
    }
    return only(statuses, 404, anonymous)


def shared_page(care: int, officer: int, analyst: int, partner: int) -> Statuses:
    return shared(care, officer, analyst, partner, HTML_LOGIN)


def shared_part(key: str, name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.parts["shared_case"].pk, name: w.parts[key].pk}


def granted_document(w: World) -> dict[str, Any]:
    return {"pk": w.parts["shared_case"].pk, "doc_id": w.parts["evidence_items"][0]["id"]}


def secrets(*keys: str) -> Callable[[World], list[str]]:
    return lambda w: [SHARED_SECRETS[key] for key in keys]


# Those who see the case in part: its page shows them none of the parts they may not read
# (all of which it shows Harbour's care roles).
PARTIAL_SIGHT = ("officer", "analyst", "partner_caseworker")

ROWS: Rows = {
    # --- the API ------------------------------------------------------------------------
    "api:case-detail": [
        Expect(
            "GET",
            shared(200, 200, 200, 200),
            api=True,
            kwargs=shared_pk,
        ),
        Expect(
            "PATCH",
            shared(200, 403, 403, 403),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"risk_level": "medium"},
        ),
    ],
    "api:case-identity": [
        Expect(
            "GET",
            shared(200, 404, 404, 404),
            api=True,
            kwargs=shared_pk,
            note="the Council: no consent to share identity with it",
        ),
        Expect(
            "PUT",
            shared(200, 404, 404, 404),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"given_name": "Ana"},
            note="a part they may not read: 404, even to change it",
        ),
    ],
    "api:case-location": [
        Expect(
            "GET",
            shared(200, 404, 404, 404),
            api=True,
            kwargs=shared_pk,
            note="the Council: a health referral, not accommodation",
        ),
        Expect(
            "PUT",
            shared(200, 404, 404, 404),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"address": "2 Hill Rd", "accommodation_type": "safe_house"},
        ),
    ],
    "api:case-needs": [
        Expect(
            "GET",
            shared(200, 404, 404, 200),
            api=True,
            kwargs=shared_pk,
            note="a referral opens the needs; the police roles never read them",
        ),
        Expect(
            "POST",
            shared(201, 403, 403, 403),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"category": "transport"},
        ),
    ],
    "api:case-need": [
        Expect(
            "PATCH",
            shared(200, 404, 404, 403),
            api=True,
            kwargs=shared_part("shared_need", "need_id"),
            data=lambda w, r: {"status": "met"},
            note="the Council reads the need but may not change it",
        ),
    ],
    "api:case-consents": [
        Expect("GET", shared(200, 404, 404, 404), api=True, kwargs=shared_pk),
        Expect(
            "POST",
            shared(201, 403, 403, 403),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"scope": "police_contact", "method": "written"},
        ),
    ],
    "api:case-withdraw-consent": [
        Expect(
            "POST",
            shared(200, 404, 404, 404),
            api=True,
            kwargs=shared_part("shared_consent", "consent_id"),
            data=lambda w, r: {"reason": "Changed their mind"},
        ),
    ],
    "api:case-notes": [
        Expect(
            "GET",
            shared(200, 200, 404, 404),
            api=True,
            kwargs=shared_pk,
            unread={"officer": secrets("lead_note", "team_note")},
            note="the officer: only notes granted one by one (none here)",
        ),
        Expect(
            "POST",
            shared(201, 403, 403, 403),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"body": "Called", "visibility": "case_team"},
        ),
    ],
    "api:case-flags": [
        Expect("GET", shared(200, 200, 200, 200), api=True, kwargs=shared_pk),
        Expect(
            "POST",
            shared(201, 403, 403, 403),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"kind": "other"},
        ),
    ],
    "api:case-clear-flag": [
        Expect(
            "POST",
            shared(200, 403, 403, 403),
            api=True,
            kwargs=shared_part("shared_flag", "flag_id"),
            note="a flag they see but may not clear",
        ),
    ],
    "api:case-documents": [
        Expect(
            "GET",
            shared(200, 200, 404, 404),
            api=True,
            kwargs=shared_pk,
            unread={"officer": secrets("support_document")},
            note="the officer: the statement granted, not the support document",
        ),
        Expect("POST", shared(400, 403, 403, 403), api=True, kwargs=shared_pk, note="no file: 400"),
    ],
    "api:case-document-download": [
        Expect("GET", shared(200, 200, 404, 404), api=True, kwargs=granted_document),
        Expect(
            "GET",
            shared(200, 404, 404, 404),
            api=True,
            kwargs=shared_part("shared_support_document", "doc_id"),
            note="a document of the case not granted to the officer",
        ),
    ],
    "api:case-close": [
        Expect(
            "POST",
            shared(200, 403, 403, 403),
            api=True,
            kwargs=shared_pk,
            data=lambda w, r: {"reason": "support_complete"},
        )
    ],
    "api:case-possible-duplicates": [
        Expect(
            "GET",
            shared(200, 404, 404, 404),
            api=True,
            kwargs=shared_pk,
            note="they see the case, not who the person is",
        )
    ],
    "api:case-access": [Expect("GET", shared(200, 404, 404, 404), api=True, kwargs=shared_pk)],
    "api:case-audit": [Expect("GET", shared(200, 404, 404, 404), api=True, kwargs=shared_pk)],
    "api:case-tasks": [
        Expect(
            "GET",
            shared(200, 200, 200, 200),
            api=True,
            kwargs=shared_pk,
            note="the police and the Council: their own agency's tasks (none)",
        )
    ],
    "api:case-task-done": [
        Expect(
            "POST",
            shared(200, 404, 403, 404),
            api=True,
            kwargs=case_task("shared_case"),
            note="Harbour's task: 404 to the officer and the Council; the analyst's role "
            "works no tasks",
        )
    ],
    # --- the pages ----------------------------------------------------------------------
    "casework:task_done": [
        Expect(
            "POST",
            shared_page(302, 404, 403, 404),
            kwargs=case_task("shared_case"),
            note="as the API",
        )
    ],
    "casework:case_detail": [
        Expect(
            "GET",
            shared_page(200, 200, 200, 200),
            kwargs=shared_pk,
            unread={role: secrets(*SHARED_SECRETS) for role in PARTIAL_SIGHT},
            note="the summary, and for each part only what the role reads",
        )
    ],
    "casework:case_edit": [Expect("GET", shared_page(200, 403, 403, 403), kwargs=shared_pk)],
    "casework:case_access": [Expect("GET", shared_page(200, 404, 404, 404), kwargs=shared_pk)],
    "casework:identity_edit": [Expect("GET", shared_page(200, 404, 404, 404), kwargs=shared_pk)],
    "casework:location_edit": [Expect("GET", shared_page(200, 404, 404, 404), kwargs=shared_pk)],
    "casework:need_add": [Expect("GET", shared_page(200, 403, 403, 403), kwargs=shared_pk)],
    "casework:need_edit": [
        Expect(
            "GET",
            shared_page(200, 404, 404, 403),
            kwargs=shared_part("shared_need", "need_id"),
            note="as the API",
        )
    ],
    "casework:consent_add": [Expect("GET", shared_page(200, 403, 403, 403), kwargs=shared_pk)],
    "casework:consent_withdraw": [
        Expect(
            "POST",
            shared_page(302, 404, 404, 404),
            kwargs=shared_part("shared_consent", "consent_id"),
            data=lambda w, r: {"reason": "Changed their mind"},
        )
    ],
    "casework:note_add": [
        Expect(
            "POST",
            shared_page(302, 403, 403, 403),
            kwargs=shared_pk,
            data=lambda w, r: {"body": "Hi", "visibility": "case_team"},
        )
    ],
    "casework:note_edit": [
        Expect(
            "GET",
            only({"caseworker": 200, "case_manager": 403}, 404, HTML_LOGIN),
            kwargs=shared_part("shared_lead_note", "note_id"),
            note="a note kept to the lead agency: its author edits, the lead's case manager "
            "reads it; 404 to those who see the case but not its notes",
        )
    ],
    "casework:flag_add": [Expect("GET", shared_page(200, 403, 403, 403), kwargs=shared_pk)],
    "casework:flag_clear": [
        Expect(
            "POST",
            shared_page(302, 403, 403, 403),
            kwargs=shared_part("shared_flag", "flag_id"),
            note="as the API",
        )
    ],
    "casework:document_upload": [Expect("GET", shared_page(200, 403, 403, 403), kwargs=shared_pk)],
    "casework:document_download": [
        Expect("GET", shared_page(200, 200, 404, 404), kwargs=granted_document),
        Expect(
            "GET",
            shared_page(200, 404, 404, 404),
            kwargs=shared_part("shared_support_document", "doc_id"),
            note="as the API",
        ),
    ],
    "casework:case_status": [
        Expect(
            "POST",
            shared_page(302, 403, 403, 403),
            kwargs=shared_pk,
            data=lambda w, r: {"action": "activate"},
        )
    ],
}


@pytest.mark.django_db
@each_row(ROWS)
def test_route_answers_each_role_as_expected(matrix_world: World, name: str, index: int) -> None:
    check(name, ROWS[name][index], matrix_world)
