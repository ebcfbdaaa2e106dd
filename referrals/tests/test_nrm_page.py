"""The NRM page of a case, every POST it takes: record a referral, a
decision or support allocation, an MS1. The decision form of each record shows what is
recorded now and a save changes only what the user changed: recording the support
allocation used to reset a positive Reasonable Grounds decision to pending and clear its
date, which removed the recovery-period clock."""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from agencies.models import AgencyKind, Role, User
from agencies.tests.factories import AgencyFactory, member
from audit.models import AuditEvent
from casework import consents
from casework import services as casework
from casework.models import Case
from referrals import nrm_services, services
from referrals.models import Decision, DutyToNotify, NRMReferral

pytestmark = pytest.mark.django_db

RG_DAY_AGO = 3  # the positive Reasonable Grounds decision, this many days ago


def url(case: Case) -> str:
    return f"/referrals/cases/{case.pk}/nrm/"


class DecisionForm(HTMLParser):
    """What a browser would send with the decision form of one NRM record: every field
    with the value the page filled in (the selected option of a select)."""

    def __init__(self, html: str, nrm_id: int) -> None:
        super().__init__()
        self.nrm_id = str(nrm_id)
        self.values: dict[str, str] = {}
        self.ids: set[str] = set()
        self._form: dict[str, str] | None = None
        self._form_ids: set[str] = set()
        self._select: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form, self._form_ids = {}, set()
        elif self._form is None:
            return
        if "id" in found:
            self._form_ids.add(found["id"])
        if tag == "input" and "name" in found:
            if found.get("type") != "checkbox" or "checked" in found:
                self._form[found["name"]] = found.get("value", "")
        elif tag == "select":
            self._select = found["name"]
            self._form.setdefault(self._select, "")
        elif tag == "option" and self._select is not None and "selected" in found:
            self._form[self._select] = found["value"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form" and self._form is not None:
            if self._form.get("action") == "decision" and self._form.get("nrm_id") == self.nrm_id:
                self.values, self.ids = self._form, self._form_ids
            self._form = None


def shown(client: Client, case: Case, nrm: NRMReferral) -> dict[str, str]:
    """The decision form of ``nrm`` as the page fills it in (what a browser would send)."""
    page = client.get(url(case))
    assert page.status_code == 200
    form = DecisionForm(page.content.decode(), nrm.pk)
    assert form.values, "no decision form for this record on the page"
    form.values.pop("csrfmiddlewaretoken", None)
    return form.values


def local_minute(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def refer(caseworker: User, case: Case, *, days_ago: int = 10) -> NRMReferral:
    consents.consent_record(actor=caseworker, case=case, scope="nrm_referral", method="written")
    return nrm_services.nrm_refer(
        actor=caseworker,
        case=case,
        submitted_at=timezone.now() - datetime.timedelta(days=days_ago),
    )


@pytest.fixture
def positive_rg(caseworker: User, case: Case) -> NRMReferral:
    """Harbour's NRM referral of ten days ago, with a positive Reasonable Grounds decision
    three days ago: the recovery period runs. The person asked for NRM support."""
    nrm = refer(caseworker, case)
    nrm_services.nrm_update(
        actor=caseworker,
        nrm=nrm,
        competent_authority_reference="CA-17",
        rg_decision=Decision.POSITIVE,
        rg_decided_on=timezone.localdate() - datetime.timedelta(days=RG_DAY_AGO),
    )
    consents.consent_record(actor=caseworker, case=case, scope="nrm_support", method="written")
    nrm.refresh_from_db()
    assert nrm.recovery_period_ends is not None
    return nrm


def _seen_by_the_council(caseworker: User, case: Case, council, council_caseworker: User) -> None:
    """The Council sees Harbour's case through an accepted referral (not its NRM rights)."""
    referral = services.referral_send(
        actor=caseworker, case=case, to_agency=council, kind="health", reason="GP"
    )
    services.referral_accept(actor=council_caseworker, referral=referral)


# --- The decision form: current values, partial saves -------------------------------


def test_the_form_shows_what_is_recorded_now(login, caseworker, case, positive_rg):
    allocated = timezone.now() - datetime.timedelta(days=1, seconds=17)
    nrm_services.nrm_update(actor=caseworker, nrm=positive_rg, support_allocated_at=allocated)

    values = shown(login(caseworker), case, positive_rg)

    assert values == {
        "action": "decision",
        "nrm_id": str(positive_rg.pk),
        "competent_authority_reference": "CA-17",
        "rg_decision": "positive",
        "rg_decided_on": positive_rg.rg_decided_on.isoformat(),
        "cg_decision": "pending",
        "cg_decided_on": "",
        "support_allocated_at": local_minute(allocated),
        "support_contacted_at": "",
    }


def test_recording_the_support_allocation_keeps_a_positive_rg_and_its_recovery_clock(
    login, caseworker, case, positive_rg
):
    """A regression once: the form sent as the browser sends it (every field,
    filled with the current values) with only the support allocation filled in."""
    client = login(caseworker)
    rg_day = positive_rg.rg_decided_on
    recovery_ends = positive_rg.recovery_period_ends
    allocated = timezone.localtime() - datetime.timedelta(hours=2)

    form = shown(client, case, positive_rg)
    form["support_allocated_at"] = allocated.strftime("%Y-%m-%dT%H:%M")
    saved = client.post(url(case), form, follow=True)

    assert saved.redirect_chain == [(url(case), 302)]
    assert b"The NRM record is updated." in saved.content
    positive_rg.refresh_from_db()
    assert positive_rg.rg_decision == Decision.POSITIVE
    assert positive_rg.rg_decided_on == rg_day
    assert positive_rg.competent_authority_reference == "CA-17"
    assert positive_rg.support_allocated_at == allocated.replace(second=0, microsecond=0)
    assert positive_rg.recovery_period_ends == recovery_ends
    # The page still shows the decision, its date and the recovery-period clock.
    html = saved.content.decode()
    assert f"Positive ({rg_day:%-d %b %Y})" in html
    assert "Recovery period ends" in html and f"{recovery_ends:%-d %b %Y}" in html
    assert "first contact due" in html
    # Only the field the user changed reached the service (and the audit trail).
    event = AuditEvent.objects.filter(action="nrm.updated").latest("pk")
    assert event.detail == {"fields": ["support_allocated_at"]}
    # ... and the form shows the new state: the decision kept, the allocation filled in.
    again = shown(client, case, positive_rg)
    assert again["rg_decision"] == "positive"
    assert again["rg_decided_on"] == rg_day.isoformat()
    assert again["support_allocated_at"] == allocated.strftime("%Y-%m-%dT%H:%M")


def test_a_decision_is_recorded_through_the_page(login, caseworker, case):
    nrm = refer(caseworker, case)
    client = login(caseworker)
    form = shown(client, case, nrm)
    assert form["rg_decision"] == "pending" and form["rg_decided_on"] == ""
    decided = timezone.localdate() - datetime.timedelta(days=1)

    saved = client.post(
        url(case), {**form, "rg_decision": "positive", "rg_decided_on": decided.isoformat()}
    )

    assert saved.status_code == 302
    nrm.refresh_from_db()
    assert nrm.rg_decision == Decision.POSITIVE and nrm.rg_decided_on == decided
    event = AuditEvent.objects.filter(action="nrm.updated").latest("pk")
    assert event.detail == {"fields": ["rg_decided_on", "rg_decision"]}


def test_a_form_sent_back_unchanged_changes_nothing_and_says_so(
    login, caseworker, case, positive_rg
):
    # Stored with seconds, shown to the minute: not a change when sent back as shown.
    allocated = timezone.now() - datetime.timedelta(hours=5, seconds=42)
    nrm_services.nrm_update(actor=caseworker, nrm=positive_rg, support_allocated_at=allocated)
    client = login(caseworker)
    updates = AuditEvent.objects.filter(action="nrm.updated").count()

    saved = client.post(url(case), shown(client, case, positive_rg), follow=True)

    assert saved.redirect_chain == [(url(case), 302)]
    assert b"Nothing was changed" in saved.content
    assert AuditEvent.objects.filter(action="nrm.updated").count() == updates
    positive_rg.refresh_from_db()
    assert positive_rg.rg_decision == Decision.POSITIVE
    assert positive_rg.support_allocated_at == allocated


def test_a_decision_without_its_date_is_shown_again_with_the_error_summary(login, caseworker, case):
    nrm = refer(caseworker, case)
    client = login(caseworker)
    form = {**shown(client, case, nrm), "rg_decision": "negative"}

    refused = client.post(url(case), {**form, "competent_authority_reference": "CA-9"})

    assert refused.status_code == 200
    html = refused.content.decode()
    assert "There is a problem" in html and "<title>Error:" in html
    assert f'href="#id_nrm{nrm.pk}_rg_decided_on"' in html
    assert "Give the date of the decision." in html
    # The user's input is kept, and the form is open to correct it.
    values = DecisionForm(html, nrm.pk).values
    assert values["rg_decision"] == "negative"
    assert values["competent_authority_reference"] == "CA-9"
    assert "<details open>" in html
    nrm.refresh_from_db()
    assert nrm.rg_decision == Decision.PENDING and nrm.competent_authority_reference == ""


def test_a_value_the_form_refuses_is_shown_with_the_error_summary(login, caseworker, case):
    nrm = refer(caseworker, case)
    client = login(caseworker)
    form = {**shown(client, case, nrm), "rg_decision": "maybe", "rg_decided_on": "31/02/2026"}

    refused = client.post(url(case), form)

    assert refused.status_code == 200
    html = refused.content.decode()
    assert "There is a problem" in html
    assert f'href="#id_nrm{nrm.pk}_rg_decision"' in html
    assert f'href="#id_nrm{nrm.pk}_rg_decided_on"' in html
    assert 'value="31/02/2026"' in html
    nrm.refresh_from_db()
    assert nrm.rg_decision == Decision.PENDING


def test_each_record_has_its_own_form_with_its_own_values(login, caseworker, case):
    """A negative decision ends a referral; a new one can then be made. Each shows its own
    values, with ids of its own (a label, an error summary link reach the right field)."""
    first = refer(caseworker, case, days_ago=20)
    nrm_services.nrm_update(
        actor=caseworker,
        nrm=first,
        rg_decision=Decision.NEGATIVE,
        rg_decided_on=timezone.localdate() - datetime.timedelta(days=15),
    )
    second = nrm_services.nrm_refer(actor=caseworker, case=case)
    client = login(caseworker)
    html = client.get(url(case)).content.decode()

    one, two = DecisionForm(html, first.pk), DecisionForm(html, second.pk)
    assert one.values["rg_decision"] == "negative"
    assert two.values["rg_decision"] == "pending"
    assert f"id_nrm{first.pk}_rg_decision" in one.ids
    assert f"id_nrm{second.pk}_rg_decision" in two.ids
    assert not one.ids & two.ids

    # An error on the second record's form leaves the first one's form as recorded.
    refused = client.post(url(case), {**two.values, "rg_decision": "positive"})
    assert refused.status_code == 200
    html = refused.content.decode()
    assert DecisionForm(html, first.pk).values["rg_decision"] == "negative"
    assert DecisionForm(html, second.pk).values["rg_decision"] == "positive"
    assert html.count("Give the date of the decision.") == 2  # in the summary and inline


def test_a_decision_is_refused_to_who_sees_but_may_not_change_and_hidden_from_the_rest(
    login, caseworker, case, council, other_agency_caseworker, police_officer, positive_rg
):
    form = {**shown(login(caseworker), case, positive_rg), "rg_decision": "pending"}
    _seen_by_the_council(caseworker, case, council, other_agency_caseworker)

    assert login(other_agency_caseworker).post(url(case), form).status_code == 403
    assert login(police_officer).post(url(case), form).status_code == 404
    # A record that is not there, or not of this case, is 404 for its changer too.
    other_case = casework.case_create(actor=caseworker, is_child=True)
    assert login(caseworker).post(url(other_case), form).status_code == 404
    assert login(caseworker).post(url(case), {**form, "nrm_id": "999999"}).status_code == 404
    assert login(caseworker).post(url(case), {**form, "nrm_id": "x"}).status_code == 404
    positive_rg.refresh_from_db()
    assert positive_rg.rg_decision == Decision.POSITIVE


# --- Record an NRM referral ---------------------------------------------------------


def test_an_nrm_referral_is_recorded_through_the_page(login, caseworker, case):
    consents.consent_record(actor=caseworker, case=case, scope="nrm_referral", method="written")

    saved = login(caseworker).post(url(case), {"action": "refer"}, follow=True)

    assert saved.redirect_chain == [(url(case), 302)]
    assert b"the Reasonable Grounds clock is running" in saved.content
    nrm = NRMReferral.objects.get(case=case)
    assert DecisionForm(saved.content.decode(), nrm.pk).values["rg_decision"] == "pending"


def test_a_referral_the_rules_refuse_is_a_message_on_the_page(login, caseworker, case):
    client = login(caseworker)
    without_consent = client.post(url(case), {"action": "refer"}, follow=True)
    assert without_consent.redirect_chain == [(url(case), 302)]
    assert b"An adult must give informed consent" in without_consent.content
    assert not NRMReferral.objects.filter(case=case).exists()

    refer(caseworker, case)
    in_progress = client.post(url(case), {"action": "refer"}, follow=True)
    assert b"still in progress" in in_progress.content
    assert NRMReferral.objects.filter(case=case).count() == 1


def test_a_referral_is_refused_to_a_non_first_responder_and_hidden_from_strangers(
    login, case, police_officer
):
    health = AgencyFactory(kind=AgencyKind.HEALTH, is_first_responder=False)
    nurse = member(health, Role.CASEWORKER, username="nurse")
    nurses_case = casework.case_create(actor=nurse, is_child=True)

    assert login(nurse).post(url(nurses_case), {"action": "refer"}).status_code == 403
    assert login(police_officer).post(url(case), {"action": "refer"}).status_code == 404
    assert not NRMReferral.objects.exists()


# --- Duty to Notify (MS1) -----------------------------------------------------------


@pytest.fixture
def social_worker(council) -> User:
    return member(council, Role.CASEWORKER, username="social-worker")


def test_an_ms1_is_recorded_through_the_page(login, social_worker):
    adult = casework.case_create(actor=social_worker)

    saved = login(social_worker).post(
        url(adult), {"action": "ms1", "anonymous": "on", "reference": "MS1-7"}, follow=True
    )

    assert saved.redirect_chain == [(url(adult), 302)]
    assert b"The Duty to Notify (MS1) is recorded." in saved.content
    ms1 = DutyToNotify.objects.get(case=adult)
    assert ms1.anonymous and ms1.reference == "MS1-7"


def test_an_ms1_the_form_or_the_rules_refuse_is_shown_with_the_error_summary(login, social_worker):
    adult = casework.case_create(actor=social_worker)
    client = login(social_worker)

    too_long = client.post(url(adult), {"action": "ms1", "anonymous": "on", "reference": "R" * 65})
    assert too_long.status_code == 200
    html = too_long.content.decode()
    assert "There is a problem" in html and 'href="#id_reference"' in html
    assert 'value="' + "R" * 65 + '"' in html

    child = casework.case_create(actor=social_worker, is_child=True)
    refused = client.post(url(child), {"action": "ms1", "anonymous": "on"})
    assert refused.status_code == 200
    assert "There is a problem" in refused.content.decode()
    assert "Children are referred into the NRM without consent" in refused.content.decode()

    named = client.post(url(adult), {"action": "ms1", "reference": "MS1-8"})
    assert named.status_code == 200
    assert 'href="#id_anonymous"' in named.content.decode()
    assert not DutyToNotify.objects.exists()


def test_an_ms1_is_refused_to_a_charity_and_hidden_from_strangers(
    login, caseworker, case, police_officer
):
    post = {"action": "ms1", "anonymous": "on"}
    assert login(caseworker).post(url(case), post).status_code == 403
    assert login(police_officer).post(url(case), post).status_code == 404
    assert not DutyToNotify.objects.exists()


def test_an_unknown_action_changes_nothing(login, caseworker, case, positive_rg):
    answered = login(caseworker).post(url(case), {"action": "erase"}, follow=True)
    assert answered.redirect_chain == [(url(case), 302)]
    assert b"Choose what to record: a referral, a decision or an MS1." in answered.content
    positive_rg.refresh_from_db()
    assert positive_rg.rg_decision == Decision.POSITIVE
