from django.urls import path

from . import views

app_name = "intelligence"

urlpatterns = [
    path("", views.report_list, name="report_list"),
    path("new/", views.report_create, name="report_create"),
    path("<int:pk>/", views.report_detail, name="report_detail"),
    path("<int:pk>/edit/", views.report_edit, name="report_edit"),
    path("<int:pk>/regrade/", views.report_regrade, name="report_regrade"),
    path("<int:pk>/submit/", views.report_submit, name="report_submit"),
    path("<int:pk>/archive/", views.report_archive, name="report_archive"),
    path("<int:pk>/acknowledge/", views.report_acknowledge, name="report_acknowledge"),
    path("matches/", views.match_list, name="match_list"),
    path("matches/<int:pk>/", views.match_detail, name="match_detail"),
    path("operations/", views.operation_list, name="operation_list"),
    path("operations/new/", views.operation_create, name="operation_create"),
    path("operations/<int:pk>/", views.operation_detail, name="operation_detail"),
    path("operations/<int:pk>/visits/new/", views.visit_create, name="visit_create"),
    path("visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("visits/<int:pk>/start-case/", views.visit_start_case, name="visit_start_case"),
    path("visits/<int:pk>/start-report/", views.visit_start_report, name="visit_start_report"),
]
