from django.urls import path
from rest_framework.routers import SimpleRouter

from agencies.api import views as agencies
from casework.api import views as casework
from casework.evidence import api as evidence
from dashboards.api import views as dashboards
from intelligence.api import views as intelligence
from notifications.api import views as notifications
from referrals.api import views as referrals

from .views import api_root

app_name = "api"

router = SimpleRouter()
router.register("agencies", agencies.AgencyViewSet, basename="agency")
router.register("partnerships", agencies.PartnershipViewSet, basename="partnership")
router.register("sharing-groups", agencies.SharingGroupViewSet, basename="sharinggroup")
router.register("agency/users", agencies.MemberViewSet, basename="member")
router.register("cases", casework.CaseViewSet, basename="case")
router.register("evidence-requests", evidence.EvidenceRequestViewSet, basename="evidence-request")
router.register("break-glass", evidence.BreakGlassViewSet, basename="break-glass")
router.register("notifications", notifications.NotificationViewSet, basename="notification")
router.register("referrals", referrals.ReferralViewSet, basename="referral")
router.register(
    "intelligence", intelligence.IntelligenceReportViewSet, basename="intelligence-report"
)
router.register("operations", intelligence.OperationViewSet, basename="operation")

urlpatterns = [
    path("", api_root, name="root"),
    path("auth/token/", agencies.TokenView.as_view(), name="token"),
    path("me/", agencies.MeView.as_view(), name="me"),
    path(
        "cases/<int:case_pk>/nrm/",
        referrals.CaseNRMViewSet.as_view({"get": "list", "post": "create"}),
        name="case-nrm-list",
    ),
    path(
        "cases/<int:case_pk>/nrm/<int:pk>/",
        referrals.CaseNRMViewSet.as_view({"patch": "partial_update"}),
        name="case-nrm-detail",
    ),
    path(
        "cases/<int:case_pk>/nrm/<int:pk>/withdraw/",
        referrals.NRMWithdrawView.as_view(),
        name="case-nrm-withdraw",
    ),
    path(
        "cases/<int:case_pk>/nrm/<int:pk>/reconsiderations/",
        referrals.NRMReconsiderationView.as_view(),
        name="case-nrm-reconsiderations",
    ),
    path(
        "cases/<int:case_pk>/nrm/<int:pk>/reconsiderations/<int:rid>/outcome/",
        referrals.NRMReconsiderationOutcomeView.as_view(),
        name="case-nrm-reconsideration-outcome",
    ),
    path(
        "cases/<int:case_pk>/nrm-declined/",
        referrals.NRMDeclinedView.as_view(),
        name="case-nrm-declined",
    ),
    path(
        "cases/<int:case_pk>/duty-to-notify/",
        referrals.DutyToNotifyView.as_view(),
        name="case-duty-to-notify",
    ),
    path("deadlines/", referrals.DeadlinesView.as_view(), name="deadlines"),
    path(
        "dashboards/partnership/<str:partnership_id>/",
        dashboards.PartnershipDashboardView.as_view(),
        name="dashboard-partnership",
    ),
    path(
        "dashboards/agency/<str:agency_id>/",
        dashboards.AgencyDashboardView.as_view(),
        name="dashboard-agency",
    ),
    *router.urls,
]
