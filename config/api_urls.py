from django.urls import path
from rest_framework.routers import SimpleRouter

from agencies.api import views as agencies
from casework.api import views as casework

from .views import api_root

app_name = "api"

router = SimpleRouter()
router.register("agencies", agencies.AgencyViewSet, basename="agency")
router.register("partnerships", agencies.PartnershipViewSet, basename="partnership")
router.register("sharing-groups", agencies.SharingGroupViewSet, basename="sharinggroup")
router.register("agency/users", agencies.MemberViewSet, basename="member")
router.register("cases", casework.CaseViewSet, basename="case")

urlpatterns = [
    path("", api_root, name="root"),
    path("auth/token/", agencies.TokenView.as_view(), name="token"),
    path("me/", agencies.MeView.as_view(), name="me"),
    *router.urls,
]
