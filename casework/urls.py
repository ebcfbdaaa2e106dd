from django.urls import path

from .evidence import views as evidence_views
from .views import (
    case_page,
    case_tasks,
    cases,
    consents,
    documents,
    flags,
    needs,
    notes,
    people,
    transfers,
)

app_name = "casework"

urlpatterns = [
    path("", cases.case_list, name="case_list"),
    path("new/", cases.case_create, name="case_create"),
    path("needs/", needs.my_needs, name="my_needs"),
    path("<int:pk>/", case_page.case_detail, name="case_detail"),
    path("<int:pk>/edit/", cases.case_edit, name="case_edit"),
    path("<int:pk>/access/", cases.case_access, name="case_access"),
    path(
        "<int:pk>/evidence/new/", evidence_views.evidence_request_new, name="evidence_request_new"
    ),
    path(
        "<int:pk>/evidence/<int:request_id>/",
        evidence_views.evidence_request_detail,
        name="evidence_request",
    ),
    path("evidence/", evidence_views.evidence_list, name="evidence_list"),
    path("break-glass/", evidence_views.break_glass_open, name="break_glass_open"),
    # Not under the case: a reviewer may not see the case (a partnership manager).
    path("break-glass/<int:bg_id>/", evidence_views.break_glass_detail, name="break_glass"),
    path(
        "break-glass/to-review/",
        evidence_views.break_glass_reviews,
        name="break_glass_reviews",
    ),
    path("<int:pk>/outcomes/new/", evidence_views.outcome_add, name="outcome_add"),
    path("<int:pk>/status/", cases.case_status, name="case_status"),
    path("<int:pk>/identity/", people.identity_edit, name="identity_edit"),
    path(
        "<int:pk>/possible-duplicates/<int:hit_id>/dismiss/",
        people.possible_duplicate_dismiss,
        name="possible_duplicate_dismiss",
    ),
    path("<int:pk>/location/", people.location_edit, name="location_edit"),
    path("<int:pk>/needs/new/", needs.need_add, name="need_add"),
    path("<int:pk>/needs/<int:need_id>/", needs.need_edit, name="need_edit"),
    path("<int:pk>/consents/new/", consents.consent_add, name="consent_add"),
    path(
        "<int:pk>/consents/<int:consent_id>/withdraw/",
        consents.consent_withdraw,
        name="consent_withdraw",
    ),
    path("<int:pk>/notes/new/", notes.note_add, name="note_add"),
    path("<int:pk>/notes/<int:note_id>/", notes.note_edit, name="note_edit"),
    path("<int:pk>/flags/new/", flags.flag_add, name="flag_add"),
    path("<int:pk>/flags/<int:flag_id>/clear/", flags.flag_clear, name="flag_clear"),
    path("<int:pk>/documents/new/", documents.document_upload, name="document_upload"),
    path(
        "<int:pk>/documents/<int:doc_id>/download/",
        documents.document_download,
        name="document_download",
    ),
    path("<int:pk>/transfer/", transfers.transfer_propose, name="transfer_propose"),
    path("<int:pk>/transfer/<int:transfer_id>/", transfers.transfer_answer, name="transfer_answer"),
    path("<int:pk>/tasks/<int:task_id>/done/", case_tasks.task_done, name="task_done"),
]
