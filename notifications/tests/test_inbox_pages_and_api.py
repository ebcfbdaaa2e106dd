"""The inbox, in the browser and the API: one's own notifications only; the header count."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.utils import timezone

from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from notifications.context_processors import unread
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_inbox_lists_only_ones_own_newest_first_with_new_marked(
    login, caseworker, other_agency_caseworker, make_notification
):
    now = timezone.now()
    make_notification(
        caseworker, message="An older one", created_at=now - timedelta(hours=1), read_at=now
    )
    make_notification(caseworker, message="A newer one", url="/referrals/7/", created_at=now)
    make_notification(other_agency_caseworker, message="Someone else's")

    page = login(caseworker).get("/notifications/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Someone else&#x27;s" not in html and "Someone else's" not in html
    assert html.index("A newer one") < html.index("An older one")
    assert '<a href="/referrals/7/">A newer one</a>' in html
    assert html.count(">New</span>") == 1
    assert html.count("Mark as read") == 1
    assert "Mark all as read" in html


def test_the_inbox_is_paginated_by_25(login, caseworker, make_notification):
    for _ in range(30):
        make_notification(caseworker)
    client = login(caseworker)
    assert client.get("/notifications/").content.decode().count("Mark as read<") == 25
    second = client.get("/notifications/?page=2").content.decode()
    assert second.count("Mark as read<") == 5
    assert "Page 2 of 2" in second


def test_mark_read_and_mark_all_read_in_the_browser(login, caseworker, make_notification):
    one, two, _three = (make_notification(caseworker) for _ in range(3))
    client = login(caseworker)
    response = client.post(f"/notifications/{one.pk}/read/", {"next": "/notifications/?page=1"})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/?page=1"
    assert Notification.objects.get(pk=one.pk).read_at is not None
    assert Notification.objects.get(pk=two.pk).read_at is None

    response = client.post("/notifications/read-all/", follow=True)
    assert b"2 notifications marked as read." in response.content
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_next_cannot_send_you_elsewhere(login, caseworker, make_notification):
    notification = make_notification(caseworker)
    response = login(caseworker).post(
        f"/notifications/{notification.pk}/read/", {"next": "https://evil.example.org/"}
    )
    assert response["Location"] == "/notifications/"


def test_someone_elses_notification_is_404_and_audited(
    login, api, caseworker, other_agency_caseworker, make_notification
):
    theirs = make_notification(other_agency_caseworker)
    assert login(caseworker).post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert api(caseworker).post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    denied = AuditEvent.objects.filter(action=AuthAction.ACCESS_DENIED, actor=caseworker)
    assert denied.count() == 2
    assert {e.target_type for e in denied} == {"notifications.notification"}
    # A notification that does not exist answers the same.
    assert login(caseworker).post("/notifications/999999/read/").status_code == 404
    assert api(caseworker).post("/api/v1/notifications/999999/read/").status_code == 404


def test_the_header_shows_the_unread_count_as_a_link_to_the_inbox(
    login, caseworker, make_notification
):
    for _ in range(3):
        make_notification(caseworker)
    make_notification(caseworker, read_at=timezone.now())
    html = login(caseworker).get("/").content.decode()
    assert re.search(
        r'href="/notifications/">Notifications <span class="badge text-bg-warning">3'
        r'<span class="visually-hidden"> unread</span></span></a>',
        html,
    )


def test_the_unread_count_is_one_query_and_none_for_visitors(
    caseworker, other_agency_caseworker, make_notification, django_assert_num_queries
):
    make_notification(caseworker)
    make_notification(caseworker)
    make_notification(other_agency_caseworker)
    request = RequestFactory().get("/")
    request.user = caseworker
    with django_assert_num_queries(1):
        assert unread(request) == {"unread_notifications": 2}
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert unread(request) == {"unread_notifications": 0}


def test_the_api_lists_only_ones_own(api, caseworker, other_agency_caseworker, make_notification):
    mine = make_notification(caseworker, url="/referrals/3/")
    make_notification(other_agency_caseworker)
    body = api(caseworker).get("/api/v1/notifications/").json()
    assert body["count"] == 1
    [row] = body["results"]
    assert set(row) == {"id", "kind", "message", "url", "created_at", "read_at"}
    assert (row["id"], row["url"], row["read_at"]) == (mine.pk, "/referrals/3/", None)


def test_the_api_marks_read(api, caseworker, make_notification):
    notification = make_notification(caseworker)
    response = api(caseworker).post(f"/api/v1/notifications/{notification.pk}/read/")
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    assert Notification.objects.get(pk=notification.pk).read_at is not None


def test_lists_keep_to_a_query_budget(
    login, api, caseworker, make_notification, django_assert_max_num_queries
):
    for _ in range(30):
        make_notification(caseworker)
    browser, client = login(caseworker), api(caseworker)
    # Session, user, unread count, page count, page rows, session save (in a savepoint);
    # the page adds the membership for the header; the second factor the session was
    # verified by (django-otp). None of it grows with the rows.
    with django_assert_max_num_queries(10):
        assert browser.get("/notifications/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/notifications/").status_code == 200
