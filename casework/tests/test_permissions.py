"""The permission matrix's rows for cases, as their lead agency keeps them (pages and
API): a case led by Harbour Trust, whose caseworker and case manager hold the full set;
every other role, its own agency admin included (no capability), gets 404 on every path.
Evidence and break-glass are in ``test_permissions_evidence``, the parts of a case shared
with the police and the Council in ``test_permissions_shared_case``; see
``tests/permission_matrix.py``."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from tests.permission_matrix import (
    API_ANON,
    CARE,
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

duplicate_pk = lambda w: {  # noqa: E731
    "pk": w.parts["duplicate_case"].pk,
    "hit_id": w.parts["possible_duplicate"].pk,
}


def care(status: int = 200, hidden: int = 404) -> Statuses:
    return only({"caseworker": status, "case_manager": status}, hidden, API_ANON)


def care_page(status: int = 200, hidden: int = 404) -> Statuses:
    return only({"caseworker": status, "case_manager": status}, hidden, HTML_LOGIN)


def transfer(status: int, anonymous: int) -> Statuses:
    """The case whose lead Harbour proposed to move to the Council: the Council sees its
    summary so that it can decide (its case managers answer; its caseworker may not)."""
    return only({**{r: status for r in CARE}, "partner_caseworker": 403}, 404, anonymous)


def case_task(key: str = "") -> Callable[[World], dict[str, Any]]:
    """An open task of Harbour's on the main case, or on ``w.parts[key]``;
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


def part(key: str, name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.case.pk, name: w.parts[key].pk}


NEW_CASE = {"risk_level": "standard", "gender": "unknown", "how_identified": "other"}
# Roles that open cases: a caseworker of another agency too (a case of the Council's).
OPENERS = {**CARE, "partner_caseworker": 200}

ROWS: Rows = {
    # --- the API ------------------------------------------------------------------------
    "api:case-list": [
        Expect("GET", everyone(200, API_ANON), api=True, note="empty for those who see no case"),
        Expect(
            "POST",
            only({role: 201 for role in OPENERS}, 403, API_ANON),
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
        Expect("PUT", everyone(405, API_ANON), api=True, kwargs=case_pk, note="changes are PATCH"),
    ],
    "api:case-identity": [
        Expect("GET", care(), api=True, kwargs=case_pk),
        Expect("PUT", care(), api=True, kwargs=case_pk, data=lambda w, r: {"given_name": "Ana"}),
        Expect(
            "GET",
            care(404),
            api=True,
            kwargs=lambda w: {"pk": w.parts["bg_case"].pk},
            note="none recorded yet: the same 404 as for a part one may not read",
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
        Expect("POST", care(201), api=True, kwargs=case_pk, data=lambda w, r: {"kind": "other"}),
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
            transfer(200, API_ANON),
            api=True,
            kwargs=lambda w: {
                "pk": w.transfer_case.pk,
                "transfer_id": w.parts["transfer"].pk,
                "decision": "withdraw",
            },
        ),
        Expect(
            "POST",
            transfer(403, API_ANON),
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
    # --- the pages ----------------------------------------------------------------------
    "casework:case_list": [
        Expect("GET", everyone(200, HTML_LOGIN), note="empty for those who see none")
    ],
    "casework:case_create": [
        Expect("GET", only(OPENERS, 403, HTML_LOGIN)),
        Expect(
            "POST",
            only({role: 302 for role in OPENERS}, 403, HTML_LOGIN),
            data=lambda w, r: NEW_CASE,
        ),
    ],
    "casework:my_needs": [Expect("GET", only(OPENERS, 403, HTML_LOGIN))],
    "casework:case_detail": [Expect("GET", care_page(), kwargs=case_pk)],
    "casework:case_edit": [Expect("GET", care_page(), kwargs=case_pk)],
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
    "casework:document_download": [Expect("GET", care_page(), kwargs=part("document", "doc_id"))],
    "casework:case_status": [
        Expect("POST", care_page(302), kwargs=case_pk, data=lambda w, r: {"action": "activate"}),
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
            transfer(302, HTML_LOGIN),
            kwargs=lambda w: {"pk": w.transfer_case.pk, "transfer_id": w.parts["transfer"].pk},
            data=lambda w, r: {"action": "withdraw"},
        ),
        Expect(
            "POST",
            transfer(403, HTML_LOGIN),
            kwargs=lambda w: {"pk": w.transfer_case.pk, "transfer_id": w.parts["transfer"].pk},
            data=lambda w, r: {"action": "accept"},
        ),
    ],
}


@pytest.mark.django_db
@each_row(ROWS)
def test_route_answers_each_role_as_expected(matrix_world: World, name: str, index: int) -> None:
    check(name, ROWS[name][index], matrix_world)
