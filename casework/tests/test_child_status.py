"""Child status: derived from the date of birth where it is known, a child while
the age is disputed (presumption of age, MSA 2015 s.51), else the caseworker's tick; and
the daily job that tells the lead agency when a child on an open case turns 18.

People: alice (Harbour's caseworker, the lead), bob (Harbour's case manager).
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from agencies.models import User
from audit.models import AuditEvent
from casework import case_tasks, services
from casework.ages import adult_on, age_on, birthday_in, child_status
from casework.models import Case, CaseTask, ChildStatusBasis
from notifications.models import Notification, NotificationEvent

D = datetime.date

# --- The rule, as a table -------------------------------------------------------------

AGES = [
    # born, on, age
    (D(2008, 6, 15), D(2026, 6, 14), 17),  # the day before the 18th birthday
    (D(2008, 6, 15), D(2026, 6, 15), 18),  # the birthday itself
    (D(2008, 2, 29), D(2026, 2, 28), 17),  # born on 29 February, a common year
    (D(2008, 2, 29), D(2026, 3, 1), 18),  # ... turns 18 on 1 March
    (D(2008, 2, 29), D(2028, 2, 28), 19),
    (D(2008, 2, 29), D(2028, 2, 29), 20),  # a leap year has the day itself
    (D(2008, 12, 31), D(2027, 1, 1), 18),
]


@pytest.mark.parametrize(("born", "on", "age"), AGES)
def test_age_counts_whole_years_by_anniversaries(
    born: datetime.date, on: datetime.date, age: int
) -> None:
    assert age_on(born, on) == age


@pytest.mark.parametrize(
    ("born", "adult"),
    [
        (D(2008, 6, 15), D(2026, 6, 15)),
        (D(2008, 2, 29), D(2026, 3, 1)),  # 2026 has no 29 February
        (D(2012, 2, 29), D(2030, 3, 1)),
    ],
)
def test_the_18th_birthday(born: datetime.date, adult: datetime.date) -> None:
    assert adult_on(born) == adult


TODAY = D(2026, 6, 15)
CHILD_DOB = D(2010, 1, 1)  # 16 on TODAY
ADULT_DOB = D(2000, 1, 1)  # 26 on TODAY
BASIS_DOB, DISPUTED, RECORDED = (
    ChildStatusBasis.DATE_OF_BIRTH,
    ChildStatusBasis.AGE_DISPUTED,
    ChildStatusBasis.RECORDED,
)

RULE = [
    # disputed, date of birth, tick, -> is_child, basis
    (False, None, False, False, RECORDED),
    (False, None, True, True, RECORDED),  # no date of birth: the tick stays
    (False, CHILD_DOB, False, True, BASIS_DOB),  # a tick contradicting the date is ignored
    (False, ADULT_DOB, True, False, BASIS_DOB),
    (False, D(2008, 6, 15), False, False, BASIS_DOB),  # 18 today
    (False, D(2008, 6, 16), False, True, BASIS_DOB),  # 18 tomorrow
    (False, D(2008, 2, 29), False, False, BASIS_DOB),
    (True, ADULT_DOB, False, True, DISPUTED),  # disputed overrides the date of birth
    (True, None, False, True, DISPUTED),
    (True, CHILD_DOB, True, True, DISPUTED),
]


@pytest.mark.parametrize(("disputed", "born", "tick", "is_child", "basis"), RULE)
def test_child_status_rule(
    disputed: bool, born: datetime.date | None, tick: bool, is_child: bool, basis: str
) -> None:
    found = child_status(age_disputed=disputed, date_of_birth=born, recorded=tick, today=TODAY)
    assert found == (is_child, basis)


# --- Where it is applied: every write of the case or its identity ----------------------


def years_ago(years: int, days: int = 0) -> datetime.date:
    today = timezone.localdate()
    return birthday_in(today, today.year - years) - datetime.timedelta(days=days)


def child_status_events(case: Case) -> list[dict[str, Any]]:
    return list(
        AuditEvent.objects.filter(case_id=case.pk, action="case.child_status_changed")
        .order_by("id")
        .values_list("detail", flat=True)
    )


@pytest.mark.django_db
def test_opening_a_case_works_it_out_from_the_date_of_birth(caseworker: User) -> None:
    case = services.case_create(
        actor=caseworker,
        is_child=False,  # contradicts the date of birth: ignored
        identity={"given_name": "Ana", "date_of_birth": years_ago(16)},
    )
    case.refresh_from_db()
    assert (case.is_child, case.child_status_basis) == (True, BASIS_DOB)


@pytest.mark.django_db
def test_a_tick_against_a_known_date_of_birth_is_ignored(caseworker: User) -> None:
    case = services.case_create(actor=caseworker, identity={"date_of_birth": years_ago(30)})
    services.case_update(actor=caseworker, case=case, is_child=True)
    case.refresh_from_db()
    assert (case.is_child, case.child_status_basis) == (False, BASIS_DOB)
    assert child_status_events(case) == []


@pytest.mark.django_db
def test_recording_a_date_of_birth_changes_the_status_and_audits_it_without_the_date(
    caseworker: User,
) -> None:
    case = services.case_create(actor=caseworker, is_child=False)
    assert (case.is_child, case.child_status_basis) == (False, RECORDED)
    born = years_ago(15, days=40)
    services.identity_save(actor=caseworker, case=case, date_of_birth=born)
    case.refresh_from_db()
    assert (case.is_child, case.child_status_basis) == (True, BASIS_DOB)
    [detail] = child_status_events(case)
    assert detail == {"from": False, "to": True, "basis": "date_of_birth"}
    trail = str(list(AuditEvent.objects.filter(case_id=case.pk).values_list("detail", flat=True)))
    assert born.isoformat() not in trail and str(born.year) not in trail


@pytest.mark.django_db
def test_a_disputed_age_is_a_child_until_decided(caseworker: User) -> None:
    case = services.case_create(actor=caseworker, identity={"date_of_birth": years_ago(20)})
    assert case.is_child is False
    services.case_update(actor=caseworker, case=case, age_disputed=True)
    case.refresh_from_db()
    assert (case.is_child, case.child_status_basis) == (True, DISPUTED)
    # Decided: the date of birth rules again.
    services.case_update(actor=caseworker, case=case, age_disputed=False, is_child=True)
    case.refresh_from_db()
    assert (case.is_child, case.child_status_basis) == (False, BASIS_DOB)
    assert child_status_events(case) == [
        {"from": False, "to": True, "basis": "age_disputed"},
        {"from": True, "to": False, "basis": "date_of_birth"},
    ]


@pytest.mark.django_db
def test_without_a_date_of_birth_the_caseworkers_tick_stays(caseworker: User) -> None:
    case = services.case_create(actor=caseworker, is_child=True)
    assert (case.is_child, case.child_status_basis) == (True, RECORDED)
    services.case_update(actor=caseworker, case=case, is_child=False)
    case.refresh_from_db()
    assert (case.is_child, case.child_status_basis) == (False, RECORDED)


# --- The doors ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "identity", "shown"),
    [
        ({}, {"date_of_birth": years_ago(16)}, "Yes — worked out from the date of birth"),
        ({}, {"date_of_birth": years_ago(40)}, "No — worked out from the date of birth"),
        (
            {"age_disputed": True},
            {"date_of_birth": years_ago(19)},
            "Yes — age disputed, treated as a child until decided",
        ),
        ({"is_child": True}, None, "Yes — recorded by the caseworker"),
    ],
)
def test_the_case_page_says_why(
    login: Any,
    caseworker: User,
    fields: dict[str, Any],
    identity: dict[str, Any] | None,
    shown: str,
) -> None:
    case = services.case_create(actor=caseworker, identity=identity, **fields)
    page = login(caseworker).get(f"/cases/{case.pk}/").content.decode()
    assert shown in page


@pytest.mark.django_db
def test_the_case_form_offers_age_disputed_and_hints_when_the_date_decides(
    login: Any, caseworker: User
) -> None:
    case = services.case_create(actor=caseworker, identity={"date_of_birth": years_ago(16)})
    client = login(caseworker)
    form = client.get(f"/cases/{case.pk}/edit/").content.decode()
    assert 'name="age_disputed"' in form
    assert "Worked out from the date of birth: a change here is ignored" in form
    # Unticking "under 18 now" changes nothing; ticking "age disputed" is kept.
    data = {
        "risk_level": "standard",
        "gender": "unknown",
        "how_identified": "other",
        "age_disputed": "on",
    }
    assert client.post(f"/cases/{case.pk}/edit/", data).status_code == 302
    case.refresh_from_db()
    assert (case.is_child, case.age_disputed, case.child_status_basis) == (True, True, DISPUTED)


@pytest.mark.django_db
def test_the_api_takes_age_disputed_and_shows_the_basis(api: Any, caseworker: User) -> None:
    case = services.case_create(actor=caseworker, identity={"date_of_birth": years_ago(30)})
    client = api(caseworker)
    body = client.get(f"/api/v1/cases/{case.pk}/").json()
    assert (body["is_child"], body["age_disputed"], body["child_status_basis"]) == (
        False,
        False,
        "date_of_birth",
    )
    # The basis is the service's: sent, it is ignored; a contradicting tick too.
    changed = client.patch(
        f"/api/v1/cases/{case.pk}/",
        {"is_child": True, "child_status_basis": "recorded"},
        format="json",
    ).json()
    assert (changed["is_child"], changed["child_status_basis"]) == (False, "date_of_birth")
    changed = client.patch(
        f"/api/v1/cases/{case.pk}/", {"age_disputed": True}, format="json"
    ).json()
    assert (changed["is_child"], changed["child_status_basis"]) == (True, "age_disputed")
    [row] = client.get("/api/v1/cases/").json()["results"]
    assert (row["is_child"], row["age_disputed"], row["child_status_basis"]) == (
        True,
        True,
        "age_disputed",
    )


# --- Turning 18 -----------------------------------------------------------------------


@pytest.fixture
def opened_on(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Open cases as if on ``day`` (the services read today's date from Django)."""

    def on(day: datetime.date) -> None:
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)

    return on


def turned_adult_events(case: Case) -> list[dict[str, Any]]:
    return list(
        AuditEvent.objects.filter(case_id=case.pk, action="case.turned_adult").values_list(
            "detail", flat=True
        )
    )


@pytest.mark.django_db
def test_a_child_turning_18_gets_one_task_and_one_notification(
    caseworker: User, case_manager: User, opened_on: Any, notification_worker: Any
) -> None:
    opened_on(D(2026, 6, 1))
    born = D(2008, 6, 10)  # 18 on Wednesday 10 June 2026
    case = services.case_create(actor=caseworker, identity={"date_of_birth": born})
    disputed = services.case_create(
        actor=caseworker, age_disputed=True, identity={"date_of_birth": born}
    )
    assert case.is_child and disputed.is_child

    assert case_tasks.cases_turning_adult(today=D(2026, 6, 9)) == 0
    assert case_tasks.cases_turning_adult(today=D(2026, 6, 10)) == 1
    case.refresh_from_db()
    assert (case.is_child, case.child_status_basis) == (False, BASIS_DOB)
    assert turned_adult_events(case) == [{"from": True, "to": False, "basis": "date_of_birth"}]
    [task] = CaseTask.objects.filter(case=case)
    assert (task.kind, task.agency_id, task.assignee_id) == (
        "turned_adult",
        case.lead_agency_id,
        caseworker.pk,
    )
    # Five working days of England: Thursday 11 to Wednesday 17 June.
    assert task.due_on == D(2026, 6, 17)
    [event] = NotificationEvent.objects.filter(kind="case_task.turned_adult")
    assert case.reference in event.message and born.isoformat() not in event.message
    assert event.url == f"/cases/{case.pk}/#tasks"

    # Again, the next day: nothing new.
    assert case_tasks.cases_turning_adult(today=D(2026, 6, 11)) == 0
    assert CaseTask.objects.count() == 1
    assert NotificationEvent.objects.filter(kind="case_task.turned_adult").count() == 1
    assert len(turned_adult_events(case)) == 1
    # The disputed one stays a child: its age is for the assessment to decide.
    disputed.refresh_from_db()
    assert (disputed.is_child, disputed.child_status_basis) == (True, DISPUTED)

    # The lead agency's people who work tasks are told.
    notification_worker()
    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {caseworker.username, case_manager.username}


@pytest.mark.django_db
def test_the_review_is_due_in_the_working_days_the_settings_give(
    caseworker: User, opened_on: Any, settings: Any
) -> None:
    settings.TURNED_ADULT_REVIEW_WORKING_DAYS = 2
    opened_on(D(2026, 6, 1))
    services.case_create(actor=caseworker, identity={"date_of_birth": D(2008, 6, 10)})
    assert case_tasks.cases_turning_adult(today=D(2026, 6, 10)) == 1
    # Two working days of England: Thursday 11 and Friday 12 June.
    assert CaseTask.objects.get().due_on == D(2026, 6, 12)


@pytest.mark.django_db
def test_born_on_29_february_turns_18_on_1_march(caseworker: User, opened_on: Any) -> None:
    opened_on(D(2026, 2, 1))
    case = services.case_create(actor=caseworker, identity={"date_of_birth": D(2008, 2, 29)})
    assert case.is_child
    assert case_tasks.cases_turning_adult(today=D(2026, 2, 28)) == 0
    assert case_tasks.cases_turning_adult(today=D(2026, 3, 1)) == 1
    case.refresh_from_db()
    assert case.is_child is False


@pytest.mark.django_db
def test_closed_cases_and_cases_without_a_date_of_birth_are_left_alone(
    caseworker: User, opened_on: Any
) -> None:
    opened_on(D(2026, 6, 1))
    closed = services.case_create(actor=caseworker, identity={"date_of_birth": D(2008, 6, 10)})
    services.case_close(actor=caseworker, case=closed, reason="moved_on")
    ticked = services.case_create(actor=caseworker, is_child=True)
    assert case_tasks.cases_turning_adult(today=D(2027, 1, 1)) == 0
    closed.refresh_from_db()
    ticked.refresh_from_db()
    assert closed.is_child and ticked.is_child
    assert not CaseTask.objects.exists()


def test_the_daily_job_is_scheduled(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["casework-turning-adult"]
    assert entry["task"] == "casework.tasks.mark_cases_turning_adult"
