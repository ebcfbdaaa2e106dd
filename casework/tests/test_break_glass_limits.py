"""Break-glass use is limited: a second opening within the window
needs a fresh reason, and more than BREAK_GLASS_DAILY_LIMIT openings in
BREAK_GLASS_LIMIT_HOURS by one person are refused, audited, and told to their agency's
admins and the partnership's managers (no names, no case)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agencies.models import Agency, Role, User
from agencies.tests.factories import member
from audit.models import AuditEvent
from casework import services
from casework.evidence import break_glass
from casework.models import BreakGlassEvent, BreakGlassGrounds, Case, CaseUserGrant
from core.errors import IllegalTransition

pytestmark = pytest.mark.django_db
THREAT = BreakGlassGrounds.THREAT_TO_LIFE


@pytest.fixture
def police_admin(police: Agency) -> User:
    return member(police, Role.AGENCY_ADMIN, username="police-admin")


@pytest.fixture
def cases(caseworker: User, partnership, case_manager) -> list[Case]:
    """Four cases of Harbour Trust, whose case manager reviews."""
    return [services.case_create(actor=caseworker) for _ in range(4)]


def _back(event: BreakGlassEvent, **delta: float) -> None:
    """As if ``event`` had been opened ``delta`` earlier."""
    earlier = event.opened_at - datetime.timedelta(**delta)
    BreakGlassEvent.objects.filter(pk=event.pk).update(opened_at=earlier)


def test_a_second_opening_within_the_window_needs_a_fresh_reason(cases, police_officer, api):
    first, second, *_ = cases
    event = break_glass.break_glass_open(
        actor=police_officer, case=first, grounds=THREAT, reason="Threat to life"
    )
    with pytest.raises(ValidationError) as refused:
        break_glass.break_glass_open(
            actor=police_officer, case=second, grounds=THREAT, reason="  threat   TO life "
        )
    assert "reason" in refused.value.message_dict
    answer = api(police_officer).post(
        f"/api/v1/cases/{second.pk}/break-glass/",
        {"grounds": THREAT, "reason": "THREAT to life"},
        format="json",
    )
    assert answer.status_code == 400 and list(answer.json()) == ["reason"]
    assert BreakGlassEvent.objects.count() == 1
    assert not CaseUserGrant.objects.filter(content_object=second).exists()
    assert [e.detail for e in AuditEvent.objects.filter(action="breakglass.refused")] == [
        {"why": "same_reason"}
    ] * 2

    # A fresh reason goes through; so does the old one once the window has passed.
    assert break_glass.break_glass_open(
        actor=police_officer,
        case=second,
        grounds=THREAT,
        reason="Second victim located, threat to life",
    )
    _back(event, minutes=61)
    assert break_glass.break_glass_open(
        actor=police_officer, case=cases[2], grounds=THREAT, reason="Threat to life"
    )


@pytest.mark.parametrize(
    "variant",
    [
        "Threat to life.",  # a full stop
        "Threat\u200b to life",  # a zero-width space
        "Threat to\u00ad life",  # a soft hyphen
        "\u200fThreat to life\u200e",  # direction marks
        "Threat\u2060to\u2060life",  # word joiners for the spaces
        "THREAT-TO-LIFE!",  # punctuation for the spaces, shouted
        "\uff34hreat to life",  # a full-width T
        "Thr\u0065\u0301at to life",  # an accent on the e
        "Threat\u00a0to\tlife\n",  # a no-break space, a tab, a new line
        "“Threat to life”",  # quotation marks
    ],
)
def test_a_reason_made_new_by_punctuation_or_invisible_characters_is_not_fresh(
    cases, police_officer, variant
):
    """Before the review a full stop or a zero-width space made the same reason new."""
    break_glass.break_glass_open(
        actor=police_officer, case=cases[0], grounds=THREAT, reason="Threat to life"
    )
    with pytest.raises(ValidationError) as refused:
        break_glass.break_glass_open(
            actor=police_officer, case=cases[1], grounds=THREAT, reason=variant
        )
    assert "reason" in refused.value.message_dict
    assert BreakGlassEvent.objects.count() == 1


def test_different_words_are_a_fresh_reason(cases, police_officer):
    break_glass.break_glass_open(
        actor=police_officer, case=cases[0], grounds=THREAT, reason="Threat to life"
    )
    assert break_glass.break_glass_open(
        actor=police_officer, case=cases[1], grounds=THREAT, reason="Threat to life: a second man"
    )


def test_the_same_case_again_while_the_glass_is_open_is_409_at_both_doors(
    cases, police_officer, api, login
):
    """Before the review a second opening with a fresh reason went through, though the
    officer already held the case's identity and location."""
    first = cases[0]
    event = break_glass.break_glass_open(
        actor=police_officer, case=first, grounds=THREAT, reason="Threat to life"
    )
    with pytest.raises(IllegalTransition, match="You broke the glass on this case already"):
        break_glass.break_glass_open(
            actor=police_officer, case=first, grounds=THREAT, reason="A fresh reason"
        )
    answer = api(police_officer).post(
        f"/api/v1/cases/{first.pk}/break-glass/",
        {"grounds": THREAT, "reason": "Another fresh reason"},
        format="json",
    )
    assert answer.status_code == 409
    assert answer.json()["detail"].startswith("You broke the glass on this case already")
    page = login(police_officer).post(
        "/cases/break-glass/",
        {
            "reference": first.reference,
            "grounds": THREAT,
            "reason": "Yet another reason",
            "confirm": "on",
        },
    )
    assert page.status_code == 200
    assert "You broke the glass on this case already" in page.content.decode()
    assert BreakGlassEvent.objects.count() == 1

    # Once it has closed, the case may be opened again.
    BreakGlassEvent.objects.filter(pk=event.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert break_glass.break_glass_open(
        actor=police_officer, case=first, grounds=THREAT, reason="A new threat tonight"
    )


def test_the_fourth_in_a_day_is_refused_and_told_to_the_agency_admins_and_managers(
    cases,
    police_officer,
    police_admin,
    manager,
    analyst,
    case_manager,
    notification_worker,
    login,
):
    opened = [
        break_glass.break_glass_open(
            actor=police_officer, case=case, grounds=THREAT, reason=f"Threat {n}"
        )
        for n, case in enumerate(cases[:3])
    ]
    with pytest.raises(ValidationError, match="3 times in 24 hours") as refused:
        break_glass.break_glass_open(
            actor=police_officer, case=cases[3], grounds=THREAT, reason="Threat 4"
        )
    assert refused.value.code == "daily_limit"
    assert BreakGlassEvent.objects.count() == 3
    assert not CaseUserGrant.objects.filter(content_object=cases[3]).exists()
    assert AuditEvent.objects.get(action="breakglass.refused", actor=police_officer).detail == {
        "why": "daily_limit"
    }

    notification_worker()
    for told in (police_admin, manager):
        (note,) = told.notifications.filter(kind="breakglass.limit")
        assert note.message == (
            "A member of Northshire Police was refused a break-glass: more than 3 in 24 hours"
        )
        assert police_officer.last_name not in note.message
        assert all(case.reference not in note.message for case in cases)
    assert police_admin.notifications.get(kind="breakglass.limit").url == (
        f"/agency/users/{police_officer.membership.pk}/"
    )
    # Nobody else hears of it: not a colleague, not the lead agency.
    assert not analyst.notifications.filter(kind="breakglass.limit").exists()
    assert not case_manager.notifications.filter(kind="breakglass.limit").exists()

    # The browser door says the same, on the form.
    page = login(police_officer).post(
        "/cases/break-glass/",
        {"reference": cases[3].reference, "grounds": THREAT, "reason": "Threat 5", "confirm": "on"},
    )
    assert page.status_code == 200 and "3 times in 24 hours" in page.content.decode()

    # A day after the first, one more is allowed.
    _back(opened[0], hours=24, seconds=1)
    assert break_glass.break_glass_open(
        actor=police_officer, case=cases[3], grounds=THREAT, reason="Threat 4"
    )


def test_the_limit_is_a_setting(cases, police_officer, settings):
    settings.BREAK_GLASS_DAILY_LIMIT = 1
    break_glass.break_glass_open(
        actor=police_officer, case=cases[0], grounds=THREAT, reason="Threat 1"
    )
    with pytest.raises(ValidationError, match="glass 1 time in 24 hours"):
        break_glass.break_glass_open(
            actor=police_officer, case=cases[1], grounds=THREAT, reason="Threat 2"
        )
