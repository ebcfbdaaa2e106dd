"""One rule, two doors for matches.

The match inbox names no other agency, at either door; opening a match (audited) names
the agency to contact and its intelligence mailbox, with the same fields in the browser
and the API. The police (``analyst``) reported a phone first, kept to themselves; the
Labour Inspectorate (``inspector``) reports it later to the partnership, which the police
may read: the police are told.
"""

from __future__ import annotations

import html
from typing import Any

import pytest

from agencies.models import Agency, User
from audit.models import AuditEvent
from intelligence.models import Match

MATCHES = "/api/v1/intelligence/matches/"
PHONE = [{"kind": "phone", "value": "07400 123456"}]
INBOX_FIELDS = {
    "id",
    "kind",
    "created_at",
    "own_report",
    "own_report_title",
    "own_value",
    "own_side",
}


@pytest.fixture
def police_match(make_report: Any, analyst: User, inspector: User, inspectorate: Agency) -> Any:
    inspectorate.intelligence_contact = "intel@inspectorate.example"
    inspectorate.save(update_fields=["intelligence_contact"])
    ours = make_report(
        analyst, title="Phone of the minibus driver", distribution="agency", entities=PHONE
    )
    theirs = make_report(
        inspector,
        title="Gangmaster recruits at the bus station",
        summary="A minibus collects workers at dawn.",
        entities=[{"kind": "phone", "value": "+44 7400 123456"}],
    )
    return ours, theirs, Match.objects.get()


def test_the_api_inbox_names_no_other_agency_as_in_the_browser(
    police_match: Any, analyst: User, api: Any, login: Any
) -> None:
    ours, theirs, match = police_match
    response = api(analyst).get(MATCHES)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert set(row) == INBOX_FIELDS
    assert row["own_report"] == ours.pk and row["own_side"] == "existing"
    body = response.content.decode()
    for other in ("Labour Inspectorate", "intel@inspectorate.example", theirs.title):
        assert other not in body
    page = login(analyst).get("/intelligence/matches/").content.decode()
    assert "Labour Inspectorate" not in page and "intel@inspectorate.example" not in page
    # Both doors audit the page of matches they gave.
    listed = AuditEvent.objects.filter(action="intelligence.matches_listed", actor=analyst)
    assert [event.detail["match_ids"] for event in listed] == [[match.pk], [match.pk]]
    # Listing is not opening.
    assert not AuditEvent.objects.filter(action="intelligence.match_viewed").exists()


def test_opening_a_match_names_the_agency_at_both_doors_and_is_audited(
    police_match: Any, analyst: User, inspectorate: Agency, api: Any, login: Any
) -> None:
    ours, theirs, match = police_match
    response = api(analyst).get(f"{MATCHES}{match.pk}/")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": match.pk,
        "kind": "phone",
        "created_at": response.json()["created_at"],
        "own_report": ours.pk,
        "own_report_title": ours.title,
        "own_value": "07400 123456",
        "own_side": "existing",
        "other_agency": {
            "id": inspectorate.pk,
            "name": "Labour Inspectorate",
            "intelligence_contact": "intel@inspectorate.example",
        },
        "other_agency_told": False,
        "other_report": theirs.pk,
    }
    assert theirs.summary not in response.content.decode()

    page = html.unescape(login(analyst).get(f"/intelligence/matches/{match.pk}/").content.decode())
    for shown in (
        ours.title,
        "07400 123456",
        "Labour Inspectorate",
        "intel@inspectorate.example",
        f"/intelligence/{theirs.pk}/",
        "they were not told",
    ):
        assert shown in page, shown
    assert theirs.title not in page and theirs.summary not in page

    viewed = AuditEvent.objects.for_target(match).filter(
        action="intelligence.match_viewed", actor=analyst
    )
    assert viewed.count() == 2  # once per opening, at either door


def test_a_contributor_is_not_given_the_other_report_they_may_not_read(
    make_report: Any, caseworker: User, analyst: User, api: Any
) -> None:
    # Harbour's caseworker reported first, kept to Harbour; the police's later report is
    # the partnership's, which Harbour's readers may read, but a caseworker reads only
    # their own reports.
    make_report(caseworker, distribution="agency", entities=PHONE)
    make_report(analyst, entities=PHONE)
    match = Match.objects.get()
    opened = api(caseworker).get(f"{MATCHES}{match.pk}/").json()
    assert opened["other_agency"]["name"] == "Northshire Police"
    assert "other_report" not in opened


@pytest.mark.parametrize("match_id", ["abc", "1.5", str(2**70), "999999"])
def test_a_malformed_or_missing_match_id_is_404(
    police_match: Any, analyst: User, api: Any, match_id: str
) -> None:
    assert api(analyst).get(f"{MATCHES}{match_id}/").status_code == 404


def test_a_role_without_matches_is_refused_before_any_lookup(
    police_match: Any, prosecutor: User, api: Any
) -> None:
    _ours, _theirs, match = police_match
    for match_id in (match.pk, 999999):
        assert api(prosecutor).get(f"{MATCHES}{match_id}/").status_code == 403
