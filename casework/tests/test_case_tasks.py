"""Case tasks: opened by Concord for an agency, marked done by its people.

People: alice (Harbour's caseworker, the lead) and bob (its case manager) work Harbour's
tasks; charlie (the Council's caseworker) does not see the case; Northshire Police's
officer and analyst see it through an accepted crime report, but not Harbour's tasks.
At both doors: a case one may not see is 404; a role that never works tasks is 403 before
the task is looked up; another agency's task is 404; a task already done is 409.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from agencies.models import Agency, Role, User
from agencies.tests.factories import member
from audit.models import AuditEvent
from casework import case_tasks, services, transfers
from casework.models import Case, CaseTask
from notifications.models import NotificationEvent
from referrals import services as referrals

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("partnership")]

DUE = datetime.date(2026, 12, 14)


@pytest.fixture
def shared_with_police(
    partnership: Any, case: Case, caseworker: User, police: Agency, police_officer: User
) -> Case:
    referral = referrals.referral_send(
        actor=caseworker, case=case, to_agency=police, kind="police_crime_report", reason="Report"
    )
    referrals.referral_accept(actor=police_officer, referral=referral)
    return case


@pytest.fixture
def task(case: Case, caseworker: User) -> CaseTask:
    return case_tasks.task_open(
        case=case, kind="file_ms1", due_on=DUE, assignee=caseworker, reason_key="nrm_decline:1"
    )


def api_done(api: Any, user: User, task: CaseTask) -> Any:
    return api(user).post(f"/api/v1/cases/{task.case_id}/tasks/{task.pk}/done/")


def page_done(login: Any, user: User, task: CaseTask) -> Any:
    return login(user).post(f"/cases/{task.case_id}/tasks/{task.pk}/done/")


# --- Opening --------------------------------------------------------------------------


def test_opening_is_idempotent_audited_and_told_once(case: Case, caseworker: User) -> None:
    first = case_tasks.task_open(case=case, kind="file_ms1", due_on=DUE, assignee=caseworker)
    again = case_tasks.task_open(case=case, kind="file_ms1", due_on=DUE + datetime.timedelta(3))
    assert again.pk == first.pk and again.due_on == DUE
    assert (first.agency_id, first.assignee_id) == (case.lead_agency_id, caseworker.pk)
    [opened] = AuditEvent.objects.filter(action="case_task.opened")
    assert opened.actor_id is None and opened.case_id == case.pk
    assert opened.detail["kind"] == "file_ms1"
    [event] = NotificationEvent.objects.filter(kind="case_task.file_ms1")
    assert event.agency_id == case.lead_agency_id
    assert event.message.startswith(f"Case {case.reference}: Adult declined an NRM referral")
    # Once done, the same kind may be opened again.
    case_tasks.task_complete(actor=caseworker, task=first)
    assert case_tasks.task_open(case=case, kind="file_ms1", due_on=DUE).pk != first.pk


def test_an_assignee_outside_the_agency_is_not_kept(
    case: Case, other_agency_caseworker: User
) -> None:
    task = case_tasks.task_open(
        case=case, kind="turned_adult", due_on=DUE, assignee=other_agency_caseworker
    )
    assert task.assignee_id is None and task.agency_id == case.lead_agency_id


def test_an_unknown_kind_is_refused(case: Case) -> None:
    with pytest.raises(ValueError):
        case_tasks.task_open(case=case, kind="tidy_up", due_on=DUE)


# --- Marking done, at both doors ------------------------------------------------------


def test_the_agencys_caseworker_marks_it_done_once_through_the_api(
    api: Any, task: CaseTask, case_manager: User
) -> None:
    answer = api_done(api, case_manager, task)
    assert answer.status_code == 200
    assert answer.json()["done_at"] and answer.json()["done_by"] == case_manager.pk
    [done] = AuditEvent.objects.filter(action="case_task.done")
    assert done.actor_id == case_manager.pk and done.detail == {
        "task_id": task.pk,
        "kind": "file_ms1",
    }
    again = api_done(api, case_manager, task)
    assert again.status_code == 409


def test_the_agencys_caseworker_marks_it_done_once_on_the_page(
    login: Any, task: CaseTask, caseworker: User
) -> None:
    client = login(caseworker)
    page = client.get(f"/cases/{task.case_id}/").content.decode()
    assert "Adult declined an NRM referral" in page and "Mark as done" in page
    answer = client.post(f"/cases/{task.case_id}/tasks/{task.pk}/done/", follow=True)
    assert answer.redirect_chain[-1][0].endswith("#tasks")
    assert "was marked as done" in answer.content.decode()
    task.refresh_from_db()
    assert task.done_by_id == caseworker.pk
    # Twice: the page says so (the API's 409).
    again = client.post(f"/cases/{task.case_id}/tasks/{task.pk}/done/", follow=True)
    assert "already marked as done" in again.content.decode()
    assert "Mark as done" not in again.content.decode()


@pytest.mark.parametrize("door", [api_done, page_done])
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("other_agency_caseworker", 404),  # does not see the case
        ("agency_admin", 404),  # Harbour's, but never sees cases
        ("police_officer", 404),  # sees the case, not Harbour's task
        ("analyst", 403),  # sees the case; a role that never works tasks
    ],
)
@pytest.mark.usefixtures("shared_with_police")
def test_who_may_not_mark_it_done(
    request: Any, api: Any, login: Any, task: CaseTask, door: Any, who: str, status: int
) -> None:
    client_factory = api if door is api_done else login
    answer = door(client_factory, request.getfixturevalue(who), task)
    assert answer.status_code == status
    task.refresh_from_db()
    assert task.done_at is None


def test_a_task_of_another_case_is_404(
    api: Any, login: Any, task: CaseTask, caseworker: User
) -> None:
    other = services.case_create(actor=caseworker)
    assert api(caseworker).post(f"/api/v1/cases/{other.pk}/tasks/{task.pk}/done/").status_code == (
        404
    )
    assert login(caseworker).post(f"/cases/{other.pk}/tasks/{task.pk}/done/").status_code == 404


# --- Listing --------------------------------------------------------------------------


def test_the_list_is_the_agencys_in_a_fixed_number_of_queries(
    api: Any,
    case: Case,
    caseworker: User,
    other_agency_caseworker: User,
    django_assert_max_num_queries: Any,
) -> None:
    client = api(caseworker)
    url = f"/api/v1/cases/{case.pk}/tasks/"
    case_tasks.task_open(case=case, kind="file_ms1", due_on=DUE)
    with django_assert_max_num_queries(100) as one:
        assert len(client.get(url).json()["results"]) == 1
    done = case_tasks.task_open(case=case, kind="turned_adult", due_on=DUE)
    case_tasks.task_complete(actor=caseworker, task=done)
    case_tasks.task_open(case=case, kind="turned_adult", due_on=DUE + datetime.timedelta(1))
    with django_assert_max_num_queries(len(one.captured_queries)):
        rows = client.get(url).json()["results"]
    assert [(row["kind"], row["done_at"] is None) for row in rows] == [
        ("file_ms1", True),
        ("turned_adult", True),
        ("turned_adult", False),
    ]
    assert [row["kind"] for row in client.get(url, {"open": "true"}).json()["results"]] == [
        "file_ms1",
        "turned_adult",
    ]
    assert api(other_agency_caseworker).get(url).status_code == 404


@pytest.mark.usefixtures("shared_with_police")
def test_another_agency_that_sees_the_case_sees_none_of_its_tasks(
    api: Any, login: Any, task: CaseTask, police_officer: User
) -> None:
    assert api(police_officer).get(f"/api/v1/cases/{task.case_id}/tasks/").json()["results"] == []
    page = login(police_officer).get(f"/cases/{task.case_id}/").content.decode()
    assert "Mark as done" not in page and 'id="tasks"' not in page


def test_an_overdue_task_is_marked(login: Any, case: Case, caseworker: User) -> None:
    case_tasks.task_open(
        case=case, kind="turned_adult", due_on=timezone.localdate() - datetime.timedelta(1)
    )
    assert "Overdue" in login(caseworker).get(f"/cases/{case.pk}/").content.decode()


# --- The lead moves -------------------------------------------------------------------


def test_open_tasks_follow_the_lead_to_the_new_agency(
    api: Any, task: CaseTask, case_manager: User, council: Agency
) -> None:
    done = case_tasks.task_open(case=task.case, kind="turned_adult", due_on=DUE)
    case_tasks.task_complete(actor=case_manager, task=done)
    council_manager = member(council, Role.CASE_MANAGER, username="council-manager")
    transfer = transfers.transfer_propose(
        actor=case_manager, case=task.case, to_agency=council, reason="Moved to the city"
    )
    transfers.transfer_accept(actor=council_manager, transfer=transfer)

    task.refresh_from_db()
    done.refresh_from_db()
    assert (task.agency, task.assignee, task.due_on) == (council, None, DUE)
    assert done.agency != council  # what is done stays where it was done
    moved = AuditEvent.objects.get(action="case_task.moved")
    assert moved.detail["to_agency_id"] == council.pk
    listed = api(council_manager).get(f"/api/v1/cases/{task.case_id}/tasks/").json()["results"]
    assert [row["id"] for row in listed] == [task.pk]
    harbour = api(case_manager).get(f"/api/v1/cases/{task.case_id}/tasks/").json()["results"]
    assert [row["id"] for row in harbour] == [done.pk]  # its history, not the open work
