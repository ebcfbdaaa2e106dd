from django.urls import path

from . import views

app_name = "referrals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("deadlines/", views.deadlines, name="deadlines"),
    path("<int:pk>/", views.referral_detail, name="referral_detail"),
    path("<int:pk>/answer/", views.referral_answer, name="referral_answer"),
    path("cases/<int:case_pk>/new/", views.referral_create, name="referral_create"),
    path("cases/<int:case_pk>/nrm/", views.case_nrm, name="case_nrm"),
]
