"""Case tasks, and people turning 18.

Tasks are opened by Concord (a person turned 18, an adult declined an NRM referral) and
marked done by the agency whose task it is; they follow the lead when it moves
(``casework.transfers``).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import access
from agencies.models import Agency, User
from audit.record import NOBODY, record
from core.errors import IllegalTransition
from notifications.services import notify_agency

from .ages import adult_on, child_status
from .audit_actions import CaseAction
from .models import Case, CaseTask, CaseTaskKind, ChildStatusBasis
from .permissions import VIEW_CASE, WORK_CASE_TASK
from .services import _date_of_birth, _require


def _tasks_follow_lead(*, actor: User, case: Case, old_agency: Agency, new_agency: Agency) -> None:
    """The old lead's open tasks on ``case`` are the new lead's once the lead moves: the
    work (an 18th birthday, an MS1 to file) belongs to whoever leads. They become the new
    agency's, unassigned, with their due dates kept; each move is audited."""
    moving = list(CaseTask.objects.open().select_for_update().filter(case=case, agency=old_agency))
    for task in moving:
        task.agency, task.assignee = new_agency, None
        task.save(update_fields=["agency", "assignee"])
        record(
            CaseAction.CASE_TASK_MOVED,
            actor=actor,
            target=task,
            detail={
                "task_id": task.pk,
                "kind": task.kind,
                "from_agency_id": old_agency.pk,
                "to_agency_id": new_agency.pk,
            },
        )


def task_open(
    *,
    case: Case,
    kind: str,
    due_on: datetime.date,
    assignee: User | None = None,
    agency: Agency | None = None,
    reason_key: str = "",
) -> CaseTask:
    """Ask ``agency`` (the case's lead agency unless named) to do something on ``case``.

    Opened by Concord, with no actor: callers check their own rules first. Idempotent:
    while a task of ``kind`` is open on the case, that task is returned and nothing else
    happens (a unique constraint holds this when two openings race). ``assignee`` is
    kept only while they are an active member of the agency; otherwise the task is the
    agency's. ``reason_key`` names what opened it by ids ("nrm_decline:12"), never
    personal data. Audited, and the agency's members who work tasks are told once the
    transaction commits, by the case's reference alone.
    """
    if kind not in CaseTaskKind.values:
        raise ValueError(f"not a kind of case task: {kind!r}")
    agency = agency or case.lead_agency
    if assignee is not None:
        membership = access.active_membership(assignee)
        if membership is None or membership.agency_id != agency.pk:
            assignee = None
    with transaction.atomic():
        existing = CaseTask.objects.open().filter(case=case, kind=kind).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                task = CaseTask.objects.create(
                    case=case,
                    agency=agency,
                    assignee=assignee,
                    kind=kind,
                    reason_key=reason_key,
                    due_on=due_on,
                )
        except IntegrityError:  # opened meanwhile by another transaction
            return CaseTask.objects.open().get(case=case, kind=kind)
        record(
            CaseAction.CASE_TASK_OPENED,
            actor=NOBODY,
            target=task,
            detail={
                "task_id": task.pk,
                "kind": kind,
                "agency_id": agency.pk,
                "assignee_id": task.assignee_id,
                "reason": reason_key,
            },
        )
        notify_agency(
            agency=agency,
            roles=sorted(access.declared(WORK_CASE_TASK)),
            kind=f"case_task.{kind}",
            target=task,
            message=_("Case %(reference)s: %(task)s")
            % {"reference": case.reference, "task": CaseTaskKind(kind).label},
            url=reverse("casework:case_detail", args=[case.pk]) + "#tasks",
            dedup_key=f"case_task:{task.pk}:opened",
        )
    return task


def task_complete(*, actor: User, task: CaseTask) -> CaseTask:
    """Mark a task done. Only a member of the task's agency whose role works tasks (its
    caseworkers and case managers, and officers) and who sees the case may; a task that
    is already done is a 409 (``IllegalTransition``)."""
    membership = access.active_membership(actor)
    refusal = _("Only the agency whose task it is may mark it as done.")
    if (
        membership is None
        or not access.role_may(membership.role, WORK_CASE_TASK)
        or membership.agency_id != task.agency_id
    ):
        raise PermissionDenied(refusal)
    _require(actor, VIEW_CASE, task.case, refusal)
    with transaction.atomic():
        done_at = (
            CaseTask.objects.select_for_update().filter(pk=task.pk).values_list("done_at").get()
        )[0]
        if done_at is not None:
            raise IllegalTransition(_("This task was already marked as done."))
        task.done_at = timezone.now()
        task.done_by = actor
        task.save(update_fields=["done_at", "done_by"])
        record(
            CaseAction.CASE_TASK_DONE,
            actor=actor,
            target=task,
            detail={"task_id": task.pk, "kind": task.kind},
        )
    return task


def cases_turning_adult(*, today: datetime.date | None = None) -> int:
    """Daily (beat): the people who turned 18 on an open case are adults now.

    Candidates are found in SQL (open, "under 18 now", age not disputed, a date of birth
    recorded: the few child cases); their dates of birth are decrypted here, never
    logged. For each whose 18th birthday has come (``ages.adult_on``: 29 February → 1
    March), in its own transaction under a row lock, after asking again: "under 18 now"
    becomes false (audited as ``case.turned_adult``, without the date of birth) and the
    lead agency gets a ``turned_adult`` task for the lead caseworker, due in
    TURNED_ADULT_REVIEW_WORKING_DAYS working days of its country and nation, which tells it
    (``task_open``): consent is the adult's own from now on. Safe to run twice: a case
    that turned adult is no longer a candidate. Returns how many turned adult.
    """
    today = today or timezone.localdate()
    candidates = (
        Case.objects.open()
        .filter(is_child=True, age_disputed=False, identity__date_of_birth__isnull=False)
        .order_by("pk")
        .values_list("pk", "identity__date_of_birth")
    )
    due = [pk for pk, born in candidates if born is not None and adult_on(born) <= today]
    return sum(_case_turn_adult(pk, today) for pk in due)


def _case_turn_adult(case_id: int, today: datetime.date) -> bool:
    # Referrals' working-day calendar (holidays of the agency's country and nation);
    # imported here because referrals sits above casework.
    from referrals.calendar import due_date, end_of_day

    with transaction.atomic():
        case = (
            Case.objects.open()
            .select_for_update(of=("self",))
            .select_related("lead_agency", "lead_caseworker")
            .filter(pk=case_id, is_child=True, age_disputed=False)
            .first()
        )
        if case is None:
            return False  # changed meanwhile
        status = child_status(
            age_disputed=False, date_of_birth=_date_of_birth(case), recorded=True, today=today
        )
        if status != (False, ChildStatusBasis.DATE_OF_BIRTH):
            return False  # still a child, or the date of birth was removed meanwhile
        case.is_child, case.child_status_basis = status
        case.save(update_fields=["is_child", "child_status_basis", "updated_at"])
        record(
            CaseAction.TURNED_ADULT,
            actor=NOBODY,
            target=case,
            detail={"from": True, "to": False, "basis": case.child_status_basis},
        )
        agency = case.lead_agency
        task_open(
            case=case,
            kind=CaseTaskKind.TURNED_ADULT,
            due_on=due_date(
                end_of_day(today),
                settings.TURNED_ADULT_REVIEW_WORKING_DAYS,
                agency.country,
                agency.subdivision,
            ),
            assignee=case.lead_caseworker,
            reason_key="turned_adult",
        )
    return True
