from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django_otp.admin import OTPAdminSite
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from agencies import auth_views as account
from agencies import views_second_factor as second_factor_views

from .views import admin_login, healthz, home, livez

# The admin too needs a verified second factor (django-otp's admin site).
admin.site.__class__ = OTPAdminSite

auth_patterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", second_factor_views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/setup/", second_factor_views.two_factor_setup, name="two_factor_setup"),
    path(
        "two-factor/recovery-codes/",
        second_factor_views.recovery_codes,
        name="two_factor_recovery_codes",
    ),
    path("security/", second_factor_views.security, name="security"),
    path(
        "security/remove/",
        second_factor_views.security_device_remove,
        name="security_device_remove",
    ),
    path("password-change/", account.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password-change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password-reset/", account.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        account.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("accounts/", include(auth_patterns)),
    path("agency/", include("agencies.urls")),
    path("cases/", include("casework.urls")),
    path("notifications/", include("notifications.urls")),
    path("referrals/", include("referrals.urls")),
    path("intelligence/", include("intelligence.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("webauthn/", include("agencies.webauthn_views")),
    # One sign-in door: the admin's own login form (django-otp's, with a code field) would
    # be a second one that axes and the audit trail do not see.
    path("admin/login/", admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.forbidden"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
