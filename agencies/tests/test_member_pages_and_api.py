"""The browser and the API manage users with the same rules (one rule, two doors)."""

from __future__ import annotations

import pytest

from agencies.models import Membership, Role, User
from agencies.tests.factories import member

pytestmark = pytest.mark.django_db


def test_admin_sees_only_their_agency_in_both_doors(
    login, api, agency_admin, caseworker, other_agency_caseworker
):
    page = login(agency_admin).get("/agency/users/")
    assert page.status_code == 200
    assert b"alice" in page.content and b"charlie" not in page.content

    listing = api(agency_admin).get("/api/v1/agency/users/").json()
    assert {row["username"] for row in listing["results"]} == {"harbour-admin", "alice"}
    assert set(listing) == {"count", "next", "previous", "results"}


def test_other_agencies_members_are_404_in_both_doors(
    login, api, agency_admin, other_agency_caseworker
):
    pk = other_agency_caseworker.membership.pk
    assert login(agency_admin).get(f"/agency/users/{pk}/").status_code == 404
    assert login(agency_admin).post(f"/agency/users/{pk}/deactivate/").status_code == 404
    assert api(agency_admin).get(f"/api/v1/agency/users/{pk}/").status_code == 404
    assert api(agency_admin).post(f"/api/v1/agency/users/{pk}/deactivate/").status_code == 404
    other_agency_caseworker.refresh_from_db()
    assert other_agency_caseworker.is_active


def test_non_admins_are_refused(login, api, caseworker):
    assert login(caseworker).get("/agency/users/").status_code == 403
    response = api(caseworker).post(
        "/api/v1/agency/users/",
        {"username": "x", "email": "x@example.org", "role": "caseworker"},
        format="json",
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="x").exists()


def test_create_in_the_browser_with_clear_errors(login, agency_admin, mailoutbox):
    client = login(agency_admin)
    bad = client.post(
        "/agency/users/new/", {"username": "alice2", "email": "nope", "role": "officer"}
    )
    assert bad.status_code == 200
    assert b"Enter a valid email address." in bad.content
    assert b"Select a valid choice" in bad.content  # officer is not offered in a charity

    good = client.post(
        "/agency/users/new/",
        {"username": "dora", "email": "dora@example.org", "role": "case_manager"},
        follow=True,
    )
    assert good.redirect_chain[-1][0] == "/agency/users/"
    assert b"dora was added and emailed an invitation." in good.content
    assert Membership.objects.get(user__username="dora").role == Role.CASE_MANAGER


def test_create_through_the_api_with_field_errors(api, agency_admin, harbour):
    client = api(agency_admin)
    bad = client.post(
        "/api/v1/agency/users/",
        {"username": "x", "email": "x@example.org", "role": "officer"},
        format="json",
    )
    assert bad.status_code == 400
    assert "role" in bad.json()

    taken = client.post(
        "/api/v1/agency/users/",
        {"username": "Harbour-Admin", "email": "x@example.org", "role": "caseworker"},
        format="json",
    )
    assert taken.status_code == 400 and "username" in taken.json()

    created = client.post(
        "/api/v1/agency/users/",
        {"username": "erin", "email": "erin@example.org", "role": "caseworker"},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["agency"] == harbour.pk and body["role"] == "caseworker" and "password" not in body


def test_role_change_and_deactivation_through_the_api(api, agency_admin, caseworker):
    client = api(agency_admin)
    pk = caseworker.membership.pk
    changed = client.patch(f"/api/v1/agency/users/{pk}/", {"role": "case_manager"}, format="json")
    assert changed.status_code == 200 and changed.json()["role"] == "case_manager"
    assert (
        client.patch(
            f"/api/v1/agency/users/{pk}/", {"role": "prosecutor"}, format="json"
        ).status_code
        == 400
    )
    self_change = client.patch(
        f"/api/v1/agency/users/{agency_admin.membership.pk}/", {"role": "caseworker"}, format="json"
    )
    assert self_change.status_code == 400 and "role" in self_change.json()

    off = client.post(f"/api/v1/agency/users/{pk}/deactivate/")
    assert off.status_code == 200 and off.json()["is_active"] is False


def test_deactivated_user_is_signed_out_on_their_next_request(login, api, agency_admin, caseworker):
    browser = login(caseworker)
    api_client = api(caseworker)
    assert browser.get("/").status_code == 200
    api(agency_admin).post(f"/api/v1/agency/users/{caseworker.membership.pk}/deactivate/")

    assert browser.get("/").status_code == 302
    assert api_client.get("/api/v1/me/").status_code == 401


def test_a_role_change_ends_the_session_and_the_next_sign_in_has_the_new_role(
    api, agency_admin, caseworker
):
    client = api(caseworker)
    assert client.get("/api/v1/me/").json()["role"] == "caseworker"
    api(agency_admin).patch(
        f"/api/v1/agency/users/{caseworker.membership.pk}/", {"role": "case_manager"}, format="json"
    )
    assert client.get("/api/v1/me/").status_code in (401, 403)  # signed out
    caseworker.refresh_from_db()  # as a new sign-in loads it
    assert api(caseworker).get("/api/v1/me/").json()["role"] == "case_manager"


@pytest.mark.parametrize("url", ["/agency/users/", "/api/v1/agency/users/"])
def test_member_list_query_count_does_not_grow_with_rows(
    login, api, agency_admin, harbour, url, django_assert_max_num_queries, django_assert_num_queries
):
    client = login(agency_admin) if not url.startswith("/api") else api(agency_admin)
    for n in range(9):
        member(harbour, Role.CASEWORKER, username=f"ten{n}")
    client.get(url)
    with CaptureCount() as small:
        assert client.get(url + "?page_size=100").status_code == 200
    for n in range(90):
        member(harbour, Role.CASEWORKER, username=f"hundred{n}")
    with CaptureCount() as large:
        assert client.get(url + "?page_size=100").status_code == 200
    assert small.count == large.count
    with django_assert_max_num_queries(12):
        client.get(url + "?page_size=100")


class CaptureCount:
    def __enter__(self) -> CaptureCount:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self._context = CaptureQueriesContext(connection)
        self._context.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(*exc)
        self.count = len(self._context.captured_queries)
