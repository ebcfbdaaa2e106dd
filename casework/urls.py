from django.urls import path

from . import evidence_views, views

app_name = "casework"

urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("new/", views.case_create, name="case_create"),
    path("needs/", views.my_needs, name="my_needs"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("<int:pk>/access/", views.case_access, name="case_access"),
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
    path("<int:pk>/status/", views.case_status, name="case_status"),
    path("<int:pk>/identity/", views.identity_edit, name="identity_edit"),
    path(
        "<int:pk>/possible-duplicates/<int:hit_id>/dismiss/",
        views.possible_duplicate_dismiss,
        name="possible_duplicate_dismiss",
    ),
    path("<int:pk>/location/", views.location_edit, name="location_edit"),
    path("<int:pk>/needs/new/", views.need_add, name="need_add"),
    path("<int:pk>/needs/<int:need_id>/", views.need_edit, name="need_edit"),
    path("<int:pk>/consents/new/", views.consent_add, name="consent_add"),
    path(
        "<int:pk>/consents/<int:consent_id>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("<int:pk>/notes/new/", views.note_add, name="note_add"),
    path("<int:pk>/notes/<int:note_id>/", views.note_edit, name="note_edit"),
    path("<int:pk>/flags/new/", views.flag_add, name="flag_add"),
    path("<int:pk>/flags/<int:flag_id>/clear/", views.flag_clear, name="flag_clear"),
    path("<int:pk>/documents/new/", views.document_upload, name="document_upload"),
    path(
        "<int:pk>/documents/<int:doc_id>/download/",
        views.document_download,
        name="document_download",
    ),
    path("<int:pk>/transfer/", views.transfer_propose, name="transfer_propose"),
    path("<int:pk>/transfer/<int:transfer_id>/", views.transfer_answer, name="transfer_answer"),
    path("<int:pk>/tasks/<int:task_id>/done/", views.task_done, name="task_done"),
]
