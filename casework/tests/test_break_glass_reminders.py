"""Unreviewed break-glass stays in front of its reviewers: their task
list (page and API, oldest first, overdue after BREAK_GLASS_REVIEW_OVERDUE_HOURS marked),
an item on the home page, and beat's reminder, run every hour and told once a day per
reviewer however often it runs; an event nobody can review is told to the system's
administrators."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings as project_settings
from django.core import mail
from django.utils import timezone

from agencies.models import User
from casework import services
from casework.evidence import break_glass
from casework.evidence import reads as evidence_reads
from casework.models import BreakGlassEvent, BreakGlassGrounds, Case
from casework.tasks import remind_break_glass_reviewers

pytestmark = pytest.mark.django_db
THREAT = BreakGlassGrounds.THREAT_TO_LIFE


@pytest.fixture
def cases(caseworker: User, partnership) -> list[Case]:
    return [services.case_create(actor=caseworker) for _ in range(3)]


@pytest.fixture
def events(cases, police_officer, case_manager) -> list[BreakGlassEvent]:
    """Three openings by the police on Harbour's cases, reviewed by its case manager: one
    four days old, one three hours old, one reviewed long ago."""
    made = [
        break_glass.break_glass_open(
            actor=police_officer, case=case, grounds=THREAT, reason=f"Threat to life {n}"
        )
        for n, case in enumerate(cases)
    ]
    now = timezone.now()
    for event, age in zip(made, (96, 3, 120), strict=True):
        BreakGlassEvent.objects.filter(pk=event.pk).update(
            opened_at=now - datetime.timedelta(hours=age)
        )
    break_glass.break_glass_review(actor=case_manager, event=made[2], note="Justified")
    for event in made:
        event.refresh_from_db()
    return made


def test_the_task_list_shows_what_to_review_oldest_first_with_the_overdue_marked(
    events, case_manager, caseworker, agency_admin, login, api
):
    old, recent, reviewed = events
    page = login(case_manager).get("/cases/break-glass/to-review/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(f'id="break-glass-task-{old.pk}"') < html.index(
        f'id="break-glass-task-{recent.pk}"'
    )
    assert f'id="break-glass-task-{reviewed.pk}"' not in html
    old_row = html[html.index(f'id="break-glass-task-{old.pk}"') :].split("</tr>")[0]
    recent_row = html[html.index(f'id="break-glass-task-{recent.pk}"') :].split("</tr>")[0]
    assert "Overdue" in old_row and "Overdue" not in recent_row

    listed = api(case_manager).get("/api/v1/break-glass/to-review/").json()["results"]
    assert [(e["id"], e["overdue"]) for e in listed] == [(old.pk, True), (recent.pk, False)]

    # Not theirs (a later tier while the case manager is there), and not a reviewing role.
    assert login(agency_admin).get("/cases/break-glass/to-review/").status_code == 200
    assert api(agency_admin).get("/api/v1/break-glass/to-review/").json()["results"] == []
    assert login(caseworker).get("/cases/break-glass/to-review/").status_code == 403
    assert api(caseworker).get("/api/v1/break-glass/to-review/").status_code == 403


def test_the_home_page_counts_what_is_to_review_for_reviewers_only(
    events, case_manager, caseworker, agency_admin, login
):
    home = login(case_manager).get("/").content.decode()
    assert 'id="break-glass-to-review"' in home and "Break-glass to review (2)" in home
    assert 'id="break-glass-to-review"' not in login(caseworker).get("/").content.decode()
    assert 'id="break-glass-to-review"' not in login(agency_admin).get("/").content.decode()


def test_the_count_is_one_query(events, case_manager, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert BreakGlassEvent.objects.to_review_by(case_manager).unreviewed().count() == 2


def test_beat_reminds_each_reviewer_once_a_day_of_overdue_events(
    events, case_manager, police_officer, notification_worker
):
    old, recent, _reviewed = events

    def reminders(user: User) -> list[str]:
        return list(
            user.notifications.filter(kind="breakglass.overdue").values_list("target_id", flat=True)
        )

    assert remind_break_glass_reviewers() == 1
    assert remind_break_glass_reviewers() == 1  # run twice the same day
    notification_worker()
    assert reminders(case_manager) == [str(old.pk)]
    assert reminders(police_officer) == []
    note = case_manager.notifications.get(kind="breakglass.overdue")
    assert note.message == f"A break-glass on case {old.case.reference} needs your review"
    assert note.url == f"/cases/break-glass/{old.pk}/"

    # The next day: one more each, for every event still unreviewed and now overdue.
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    hours = project_settings.BREAK_GLASS_REVIEW_OVERDUE_HOURS
    assert recent.opened_at > tomorrow - datetime.timedelta(hours=hours)
    break_glass.break_glass_remind_reviewers(now=tomorrow)
    break_glass.break_glass_remind_reviewers(now=tomorrow)
    notification_worker()
    assert sorted(reminders(case_manager)) == [str(old.pk), str(old.pk)]


def test_the_overdue_age_is_a_setting(events, case_manager, settings, notification_worker):
    settings.BREAK_GLASS_REVIEW_OVERDUE_HOURS = 2
    assert remind_break_glass_reviewers() == 2
    notification_worker()
    assert case_manager.notifications.filter(kind="breakglass.overdue").count() == 2


def test_beat_runs_every_hour_so_a_moved_duty_is_told_within_the_hour():
    """Before the review beat ran once a day (08:00): reviewers a duty fell to waited up
    to a day to hear of it."""
    entry = project_settings.CELERY_BEAT_SCHEDULE["break-glass-review-reminders"]
    assert entry["task"] == "casework.tasks.remind_break_glass_reviewers"
    assert entry["schedule"].hour == set(range(24)) and entry["schedule"].minute == {5}
    assert entry["options"]["expires"] < 3600  # a missed run is not stacked on the next


def test_hourly_runs_still_remind_each_reviewer_once_a_day(
    events, case_manager, notification_worker
):
    old, recent, _reviewed = events
    # The recent opening is made "just now", so that it is overdue only after the two
    # days run here whatever the hour of the run (three hours ago, seen before 03:00,
    # fell due at 21:xx on the second day).
    BreakGlassEvent.objects.filter(pk=recent.pk).update(opened_at=timezone.now())
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    def run_every_hour_of(day: datetime.date) -> None:
        for hour in range(24):
            at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 5)))
            break_glass.break_glass_remind_reviewers(now=at)

    run_every_hour_of(tomorrow)
    notification_worker()
    overdue = case_manager.notifications.filter(kind="breakglass.overdue")
    assert list(overdue.values_list("target_id", flat=True)) == [str(old.pk)]
    run_every_hour_of(tomorrow + datetime.timedelta(days=1))
    notification_worker()
    assert overdue.count() == 2


@pytest.fixture
def administrators(db: None) -> tuple[User, User]:
    """The system's administrators: one active superuser, one who left."""
    root = User.objects.create_superuser("root", "root@example.org", "a-long-test-password-1")
    gone = User.objects.create_superuser("gone", "gone@example.org", "a-long-test-password-1")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    return root, gone


def test_when_every_tier_empties_the_administrators_are_told_once_a_day(
    case, partnership, police_officer, case_manager, administrators, notification_worker, login
):
    """Harbour's lone case manager leaves; Harbour has no admin and the partnership no
    manager. Before the review beat only logged an error, and nobody acted."""
    root, gone = administrators
    event = break_glass.break_glass_open(
        actor=police_officer, case=case, grounds=THREAT, reason="Threat to life"
    )
    case_manager.is_active = False
    case_manager.save(update_fields=["is_active"])
    assert evidence_reads.break_glass_reviewers(event).tier is None

    remind_break_glass_reviewers()
    remind_break_glass_reviewers()  # the next hour, the same day
    notification_worker()
    (told,) = root.notifications.filter(kind="breakglass.unreviewable")
    assert told.message == (
        f"A break-glass on case {case.reference} has nobody left to review it: appoint a reviewer"
    )
    assert told.url == f"/cases/break-glass/{event.pk}/"
    assert not gone.notifications.exists()
    (email,) = [m for m in mail.outbox if root.email in m.to]
    for personal in ("Ana", "Hoxha", "Threat to life", police_officer.last_name):
        assert personal not in email.subject and personal not in email.body
    # The link opens for them (a superuser sees every event).
    assert login(root).get(told.url).status_code == 200

    # The next day, again, until someone can review it.
    break_glass.break_glass_remind_reviewers(now=timezone.now() + datetime.timedelta(days=1))
    notification_worker()
    assert root.notifications.filter(kind="breakglass.unreviewable").count() == 2
