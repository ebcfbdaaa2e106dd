"""Case tasks: marking one of the user's agency done."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies import access
from agencies.auth import SignedInRequest

from .. import case_tasks, reads
from ..models import CaseTask
from ..permissions import VIEW_CASE, WORK_CASE_TASK
from .helpers import _case, _to_case


@login_required
@require_POST
def task_done(request: SignedInRequest, pk: int, task_id: int) -> HttpResponse:
    """Mark a task of the user's agency as done (the API's POST .../tasks/<id>/done/)."""
    case = _case(request, pk)
    # The role first, before the id is looked up, as the API does.
    if not access.user_may(request.user, WORK_CASE_TASK):
        raise PermissionDenied(_("You may not do this on this case."))
    task = reads.child_or_404(
        request.user,
        CaseTask.objects.visible_to(request.user).select_related("case"),
        case,
        VIEW_CASE,
        task_id,
    )
    try:
        case_tasks.task_complete(actor=request.user, task=task)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The task “%(task)s” was marked as done.") % {"task": task.get_kind_display()},
        )
    return _to_case(case, "tasks")
