"""Finding intelligence: only what the reader may read, by words they may read, audited
without the words typed, in a fixed number of queries."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import QueryDict
from django.utils import timezone

from agencies.models import User
from audit.models import AuditEvent
from intelligence import reports
from intelligence.audience import readable_reports
from intelligence.audit_actions import IntelligenceAction
from intelligence.filters import ReportFilter
from intelligence.models import IntelligenceReport
from intelligence.search import record_search, search_reports, visible_summary

CONDITIONS = "Not to be disclosed to the employer."


def found(user: User, **params: Any) -> list[int]:
    filterset, results = search_reports(user, params)
    assert filterset.is_valid(), filterset.errors
    return [report.pk for report in results]


# --- words ----------------------------------------------------------------------------


def test_words_of_the_full_text_or_the_source_find_nothing_anywhere(
    make_report: Any, analyst: User, police_officer: User, immigration_analyst: User
) -> None:
    report = make_report(
        analyst,
        full_text="The informant Zebedee drives the minibus.",
        source_description="Registered informant Quillfeather.",
    )
    assert found(immigration_analyst, q="car wash") == [report.pk]
    for reader in (immigration_analyst, police_officer, analyst):
        assert found(reader, q="Zebedee") == []
        assert found(reader, q="Quillfeather") == []


def test_the_results_never_carry_the_full_text_or_the_source(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    make_report(analyst)
    _filterset, results = search_reports(immigration_analyst, {"q": "wages"})
    [row] = results
    # The rows are model instances: what a list may show is decided by the caller, but
    # search hands it nothing more than the summary decides (see test_api for the JSON).
    assert visible_summary(row, immigration_analyst) == row.summary
    assert row.reader_is_originating is False


def test_an_unacknowledged_c_report_is_found_by_its_title_only(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    report = make_report(
        analyst,
        title="Nail bar on Grey Street",
        summary="Two women sleep above the salon; the owner keeps their passports.",
        handling_code="C",
        handling_conditions=CONDITIONS,
    )
    assert found(immigration_analyst, q="salon passports") == []
    assert found(immigration_analyst, q="salon OR nail") == [report.pk]
    [row] = search_reports(immigration_analyst, {"q": "nail"})[1]
    assert visible_summary(row, immigration_analyst) is None
    # The originating agency needs no acknowledgement.
    assert found(analyst, q="salon passports") == [report.pk]

    reports.acknowledge_conditions(actor=immigration_analyst, report=report)
    assert found(immigration_analyst, q="salon passports") == [report.pk]
    [row] = search_reports(immigration_analyst, {"q": "salon"})[1]
    assert visible_summary(row, immigration_analyst) == report.summary


def test_new_conditions_hide_the_summary_from_search_again(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    report = make_report(analyst, handling_code="C", handling_conditions=CONDITIONS)
    reports.acknowledge_conditions(actor=immigration_analyst, report=report)
    assert found(immigration_analyst, q="wages") == [report.pk]
    reports.report_regrade(
        actor=analyst, report=report, reason="Employer arrested", handling_conditions="New."
    )
    assert found(immigration_analyst, q="wages") == []


def test_the_rank_of_a_waiting_c_report_ignores_its_summary(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    """Rank would otherwise tell how often a word occurs in a summary the reader may not
    read: two waiting reports with the same title rank the same, however their summaries
    differ."""
    plain = make_report(
        analyst,
        handling_code="C",
        handling_conditions=CONDITIONS,
        title="Farm labour",
        summary="Pickers at a farm.",
    )
    wordy = make_report(
        analyst,
        handling_code="C",
        handling_conditions=CONDITIONS,
        title="Farm labour",
        summary="Farm farm farm: the farm manager moves workers between farms.",
    )
    rows = list(search_reports(immigration_analyst, {"q": "farm"})[1])
    assert [r.pk for r in rows] == [wordy.pk, plain.pk]  # equal rank: newest first
    assert rows[0].rank == rows[1].rank
    own = list(search_reports(analyst, {"q": "farm"})[1])
    assert own[0].pk == wordy.pk and own[0].rank > own[1].rank


def test_best_match_first_then_newest(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    in_title = make_report(analyst, title="Minibus collects workers at dawn", summary="Seen.")
    in_summary = make_report(analyst, title="Hand car wash", summary="A minibus was seen.")
    unrelated = make_report(analyst, title="Cannabis farm", summary="Lights on all night.")
    assert found(immigration_analyst, q="minibus") == [in_title.pk, in_summary.pk]
    assert found(immigration_analyst) == [unrelated.pk, in_summary.pk, in_title.pk]


def test_websearch_syntax_and_stemming(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    sleeping = make_report(analyst, title="Workers sleeping in a barn", summary="Farm.")
    living = make_report(analyst, title="Workers living on site", summary="Car wash.")
    assert found(immigration_analyst, q="sleeps") == [sleeping.pk]
    assert found(immigration_analyst, q="workers -barn") == [living.pk]
    assert found(immigration_analyst, q='"living on site"') == [living.pk]
    assert found(immigration_analyst, q="the") == []  # only a stop word: nothing, no error


def test_only_the_audience_is_searched(
    make_report: Any,
    analyst: User,
    immigration_analyst: User,
    outside_analyst: User,
    caseworker: User,
    other_caseworker: User,
) -> None:
    police_report = make_report(analyst)
    draft = make_report(analyst, submit=False)
    own = make_report(caseworker)
    assert found(outside_analyst, q="car wash") == []
    assert found(immigration_analyst, q="car wash") == [own.pk, police_report.pk]  # no draft
    # The police read their own draft, and Harbour's report shared with the partnership.
    assert found(analyst, q="car wash") == [own.pk, draft.pk, police_report.pk]
    # A contributor who does not read intelligence finds only what they wrote.
    assert found(caseworker, q="car wash") == [own.pk]
    assert found(other_caseworker, q="car wash") == []


# --- filters --------------------------------------------------------------------------


def test_filters_on_grading_and_tlp(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    reliable = make_report(analyst, source_evaluation="1", intelligence_assessment="A")
    untested = make_report(analyst, source_evaluation="2", intelligence_assessment="B")
    conditioned = make_report(
        analyst, handling_code="C", handling_conditions=CONDITIONS, tlp="GREEN"
    )
    assert found(immigration_analyst, source_evaluation="1") == [reliable.pk]
    assert found(immigration_analyst, intelligence_assessment="B") == [conditioned.pk, untested.pk]
    assert found(immigration_analyst, handling_code="C") == [conditioned.pk]
    assert found(immigration_analyst, tlp="GREEN") == [conditioned.pk]
    assert found(immigration_analyst, tlp="AMBER", source_evaluation="2") == [untested.pk]


def test_filter_on_exploitation_type(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    labour = make_report(analyst, exploitation_types=["labour"])
    both = make_report(analyst, exploitation_types=["labour", "sexual"])
    criminal = make_report(analyst, exploitation_types=["criminal"])
    assert found(immigration_analyst, exploitation_type="labour") == [both.pk, labour.pk]
    assert found(immigration_analyst, exploitation_type="sexual") == [both.pk]
    assert found(immigration_analyst, exploitation_type="criminal") == [criminal.pk]
    assert found(immigration_analyst, exploitation_type="organ_harvesting") == []


def test_filter_on_area(make_report: Any, analyst: User, immigration_analyst: User) -> None:
    ne1 = make_report(analyst, area="NE1")
    ne10 = make_report(analyst, area="ne10")
    region = make_report(analyst, area="Northshire coast")
    assert found(immigration_analyst, area="ne1") == [ne1.pk]  # a district: itself, not NE10
    assert found(immigration_analyst, area="NE") == [ne10.pk, ne1.pk]  # a postcode area
    assert found(immigration_analyst, area="northshire") == [region.pk]
    assert found(immigration_analyst, area="  Northshire   coast ") == [region.pk]
    assert found(immigration_analyst, area="Southshire") == []


def test_filter_on_dates_uses_submission_or_creation(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    march = make_report(analyst)
    april = make_report(analyst)
    draft = make_report(analyst, submit=False)
    tz = timezone.get_current_timezone()
    IntelligenceReport.objects.filter(pk=march.pk).update(
        submitted_at=datetime.datetime(2026, 3, 31, 23, 30, tzinfo=tz)
    )
    IntelligenceReport.objects.filter(pk=april.pk).update(
        submitted_at=datetime.datetime(2026, 4, 1, 0, 15, tzinfo=tz)
    )
    IntelligenceReport.objects.filter(pk=draft.pk).update(
        created_at=datetime.datetime(2026, 4, 2, 9, 0, tzinfo=tz)
    )
    assert found(immigration_analyst, submitted_to="2026-03-31") == [march.pk]
    assert found(immigration_analyst, submitted_from="2026-04-01") == [april.pk]
    assert found(immigration_analyst, submitted_from="2026-03-31", submitted_to="2026-04-01") == [
        april.pk,
        march.pk,
    ]
    # The originating agency sees its draft, dated by when it was written.
    assert found(analyst, submitted_from="2026-04-02", submitted_to="2026-04-02") == [draft.pk]


def test_invalid_filters_say_what_is_wrong_and_find_nothing(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    make_report(analyst)
    filterset, results = search_reports(
        immigration_analyst,
        {
            "tlp": "PURPLE",
            "source_evaluation": "9",
            "exploitation_type": "fishing",
            "submitted_from": "next Tuesday",
        },
    )
    assert not filterset.is_valid()
    assert list(results) == []
    errors = filterset.errors
    assert "“PURPLE” is not a TLP colour" in errors["tlp"][0]
    assert "“9” is not a source evaluation: choose 1, 2 or 3." in errors["source_evaluation"][0]
    assert "“fishing” is not a type of exploitation" in errors["exploitation_type"][0]
    assert "YYYY-MM-DD" in errors["submitted_from"][0]
    backwards = search_reports(
        immigration_analyst, {"submitted_from": "2026-04-02", "submitted_to": "2026-04-01"}
    )[0]
    assert backwards.errors["submitted_to"] == ["The end date is before the start date."]
    too_long = search_reports(immigration_analyst, {"q": "x" * 201})[0]
    assert "q" in too_long.errors
    assert not AuditEvent.objects.filter(action=IntelligenceAction.SEARCHED).exists()


def test_the_query_dict_of_a_request_is_accepted(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    report = make_report(analyst, tlp="GREEN")
    assert [
        r.pk for r in search_reports(immigration_analyst, QueryDict("tlp=GREEN&q=wash"))[1]
    ] == [report.pk]


def test_the_text_filter_refuses_a_queryset_without_the_reader_state(
    analyst: User,
) -> None:
    filterset = ReportFilter({"q": "wash"}, queryset=readable_reports(analyst))
    with pytest.raises(ImproperlyConfigured):
        list(filterset.qs)


# --- audit and queries ----------------------------------------------------------------


def test_one_audit_event_per_search_without_the_words(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    named = make_report(analyst, title="Jan Kowalski drives the minibus")
    other = make_report(analyst)

    def search(params: dict[str, str]) -> None:
        filterset, results = search_reports(immigration_analyst, params)
        rows = list(results)
        record_search(immigration_analyst, filterset, found=len(rows), shown=rows)

    search({"q": "Kowalski", "area": "NE1", "tlp": "AMBER", "submitted_from": "2026-01-01"})
    [event] = AuditEvent.objects.filter(action=IntelligenceAction.SEARCHED)
    assert event.actor == immigration_analyst
    assert event.detail == {
        "filters": {"submitted_from": "2026-01-01", "tlp": "AMBER"},
        "text_filters": ["area", "q"],
        "results": 1,
        "report_ids": [named.pk],
    }
    assert "Kowalski" not in str(event.detail) and "NE1" not in str(event.detail)
    search({})
    assert AuditEvent.objects.filter(action=IntelligenceAction.SEARCHED).count() == 2
    assert AuditEvent.objects.filter(action=IntelligenceAction.SEARCHED).order_by(
        "id"
    ).last().detail == {
        "filters": {},
        "text_filters": [],
        "results": 2,
        "report_ids": [other.pk, named.pk],
    }


@pytest.mark.parametrize("words", ["", "car wash"])
def test_the_number_of_queries_does_not_grow_with_the_results(
    make_report: Any,
    analyst: User,
    immigration_analyst: User,
    django_assert_num_queries: Any,
    words: str,
) -> None:
    def search() -> list[tuple[int, str | None, str]]:
        filterset, results = search_reports(immigration_analyst, {"q": words})
        rows = list(results)
        record_search(immigration_analyst, filterset, found=len(rows), shown=rows)
        return [
            (r.pk, visible_summary(r, immigration_analyst), r.originating_agency.name) for r in rows
        ]

    def reports(n: int) -> None:
        for i in range(n):
            if i % 2:
                make_report(analyst, handling_code="C", handling_conditions=CONDITIONS)
            else:
                make_report(analyst)

    reports(3)
    search()  # warm the per-process caches (permission ids)
    # The results, then the audit event naming them (the membership is remembered).
    with django_assert_num_queries(2):
        few = search()
    reports(9)
    with django_assert_num_queries(2):
        many = search()
    assert (len(few), len(many)) == (3, 12)
    waiting = IntelligenceReport.objects.filter(handling_code="C").count()
    assert waiting == 5 and sum(summary is None for _pk, summary, _agency in many) == waiting


def test_visible_summary_of_a_report_not_from_search(
    make_report: Any, analyst: User, immigration_analyst: User, outside_analyst: User
) -> None:
    plain = make_report(analyst)
    conditioned = make_report(analyst, handling_code="C", handling_conditions=CONDITIONS)
    assert visible_summary(plain, immigration_analyst) == plain.summary
    assert visible_summary(conditioned, immigration_analyst) is None
    assert visible_summary(conditioned, analyst) == conditioned.summary
    assert visible_summary(plain, outside_analyst) is None
