from django.urls import path

from . import views

app_name = "agencies"

urlpatterns = [
    path("users/", views.member_list, name="member_list"),
    path("users/new/", views.member_create, name="member_create"),
    path("users/<int:pk>/", views.member_detail, name="member_detail"),
    path("users/<int:pk>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("users/<int:pk>/reactivate/", views.member_reactivate, name="member_reactivate"),
    path(
        "users/<int:pk>/reset-second-factor/",
        views.member_second_factor_reset,
        name="member_second_factor_reset",
    ),
]
