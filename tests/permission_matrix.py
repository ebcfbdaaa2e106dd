"""The permission matrix: every URL pattern, HTML and API, with the status each role gets.

Each app keeps its rows next to its tests, in ``<app>/tests/test_permissions*.py``: a
``ROWS`` mapping from route name to its expectations, checked there by
``test_route_answers_each_role_as_expected``. ``matrix()`` gathers every such module it
finds; ``config/tests/test_permission_matrix.py`` fails when a route of the URLconf has no
row (or a row outlives its route), when a module has no ``ROWS``, or when a route's rows
are kept by another app than the one whose view answers it (``route_owner``). Dropping a
module, or an app's rows, uncovers its routes, and so fails there.

Roles are the demo partnership's: people at Harbour Trust (the charity most stories
start from), the police, the prosecutors, the Council (its partnership manager, and a
caseworker whose agency an accepted health referral lets see one of Harbour's cases in
part), an officer of a force outside the partnership, and an anonymous visitor.

The world those roles act in is built once per module, by ``matrix_world_for_module``,
inside a transaction of its own that is rolled back after the module's last test: no
row of it outlives the module. Each test runs in a savepoint on top of it (pytest-django's
``db``), each role's request in a savepoint of its own, so what one role writes is gone
before the next role asks.

Loaded as a pytest plugin by the root conftest (for its fixtures); imported by the rows'
modules and by ``config/tests`` (the two doors, the API input contract).
"""

from __future__ import annotations

import copy
import datetime
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import Agency, AgencyKind, Partnership, Role, SharingGroup, User
from agencies.tests.factories import AgencyFactory, member, verify_session

ROLES = [
    "anonymous",
    "caseworker",
    "case_manager",
    "agency_admin",
    "officer",
    "analyst",
    "prosecutor",
    "partnership_manager",
    "partner_caseworker",
    "outsider",
]
SIGNED_IN = [r for r in ROLES if r != "anonymous"]


# --- the world ------------------------------------------------------------------------


@dataclass
class World:
    agencies: dict[str, Agency]
    users: dict[str, User]
    partnership: Partnership
    sharing_group: SharingGroup
    colleague: User  # a caseworker at Harbour Trust, managed by its agency admin
    case: Any = None  # led by Harbour Trust, with one of everything
    parts: dict[str, Any] = field(default_factory=dict)
    transfer_case: Any = None  # led by Harbour Trust, a transfer to the Council pending


def build_world() -> World:
    harbour = AgencyFactory(name="Harbour Trust", kind=AgencyKind.CHARITY)
    council = AgencyFactory(name="Northshire Council", kind=AgencyKind.SOCIAL_SERVICES)
    police = AgencyFactory(name="Northshire Police", kind=AgencyKind.POLICE)
    cps = AgencyFactory(name="Crown Prosecution", kind=AgencyKind.PROSECUTION)
    south = AgencyFactory(name="Southshire Police", kind=AgencyKind.POLICE)
    partnership = Partnership.objects.create(name="Northshire", starts_on="2024-04-01")
    partnership.agencies.set([harbour, council, police, cps])
    group = SharingGroup.objects.create(name="Labour cell", owner=police)
    group.members.set([police, harbour])
    users = {
        "caseworker": member(harbour, Role.CASEWORKER, username="caseworker"),
        "case_manager": member(harbour, Role.CASE_MANAGER, username="case_manager"),
        "agency_admin": member(harbour, Role.AGENCY_ADMIN, username="agency_admin"),
        "officer": member(police, Role.OFFICER, username="officer"),
        "analyst": member(police, Role.ANALYST, username="analyst"),
        "prosecutor": member(cps, Role.PROSECUTOR, username="prosecutor"),
        "partnership_manager": member(
            council, Role.PARTNERSHIP_MANAGER, username="partnership_manager"
        ),
        "partner_caseworker": member(council, Role.CASEWORKER, username="partner_caseworker"),
        "outsider": member(south, Role.OFFICER, username="outsider"),
    }
    colleague = member(harbour, Role.CASEWORKER, username="colleague")
    agencies = {
        "harbour": harbour,
        "council": council,
        "police": police,
        "cps": cps,
        "south": south,
    }
    world = World(agencies, users, partnership, group, colleague)
    build_case(world)
    build_duplicates(world)
    build_evidence(world)
    build_shared_parts(world)
    build_intelligence(world)
    build_dashboards(world)
    return world


def build_case(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casework import consents, services, transfers

    cw = world.users["caseworker"]
    case = services.case_create(
        actor=cw,
        exploitation_types=["labour"],
        identity={"given_name": "Ana", "family_name": "Hoxha"},
    )
    services.location_set(actor=cw, case=case, accommodation_type="safe_house", address="1 Quay St")
    world.parts = {
        "need": services.need_add(actor=cw, case=case, category="healthcare"),
        "consent": consents.consent_record(
            actor=cw, case=case, scope="police_contact", method="verbal"
        ),
        "note": services.note_add(actor=cw, case=case, body="Visit", visibility="case_team"),
        "flag": services.flag_raise(actor=cw, case=case, kind="self_harm"),
        "document": services.document_upload(
            actor=cw,
            case=case,
            uploaded_file=SimpleUploadedFile("scan.png", PNG),
            kind="photo",
            purpose="support",
        ),
    }
    world.case = case
    build_referrals(world, case)
    world.transfer_case = services.case_create(actor=cw)
    world.parts["transfer"] = transfers.transfer_propose(
        actor=cw, case=world.transfer_case, to_agency=world.agencies["council"], reason="Moving"
    )


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def build_duplicates(world: World) -> None:
    """A person Harbour and the Council both know: a possible match on a case of
    Harbour's of its own, so the main case stays as it is."""
    from casework import services

    person = {
        "given_name": "Ana",
        "family_name": "Novák",
        "date_of_birth": datetime.date(1990, 3, 3),
    }
    case = services.case_create(actor=world.users["caseworker"], identity=person)
    services.case_create(actor=world.users["partner_caseworker"], identity=person)
    world.parts["duplicate_case"] = case
    world.parts["possible_duplicate"] = case.possible_duplicates.get()


def build_referrals(world: World, case: Any) -> None:
    """An NRM referral on the main case; two referrals to the police on a second case
    (one waiting, one accepted), so the main case stays Harbour's alone."""
    from casework import consents
    from casework import services as casework
    from referrals import nrm_services
    from referrals import services as referrals

    cw, officer = world.users["caseworker"], world.users["officer"]
    consents.consent_record(actor=cw, case=case, scope="nrm_referral", method="written")
    world.parts["nrm"] = nrm_services.nrm_refer(actor=cw, case=case)
    # Another of Harbour's cases, whose negative RG decision is being reconsidered.
    reconsidered = casework.case_create(actor=cw)
    consents.consent_record(actor=cw, case=reconsidered, scope="nrm_referral", method="written")
    negative = nrm_services.nrm_refer(actor=cw, case=reconsidered)
    nrm_services.nrm_update(
        actor=cw, nrm=negative, rg_decision="negative", rg_decided_on=timezone.localdate()
    )
    world.parts["reconsideration"] = nrm_services.nrm_reconsideration_request(
        actor=cw,
        nrm=negative,
        requested_on=timezone.localdate(),
        requested_by="person",
        grounds="New evidence",
    )
    referral_case = casework.case_create(actor=cw)
    police = world.agencies["police"]
    world.parts["referral"] = referrals.referral_send(
        actor=cw, case=referral_case, to_agency=police, kind="police_crime_report", reason="Report"
    )
    accepted = referrals.referral_send(
        actor=cw, case=referral_case, to_agency=police, kind="other", reason="Help"
    )
    world.parts["accepted_referral"] = referrals.referral_accept(actor=officer, referral=accepted)


def build_evidence(world: World) -> None:
    """On the case shared with the police (an accepted referral): a statement the person
    agreed may be evidence, one pending and one approved request; on a case of its own,
    a break-glass opened by Harbour's case manager (nobody else gains sight of a case)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casework import consents, services
    from casework.evidence import break_glass
    from casework.evidence import services as evidence_services

    cw, officer = world.users["caseworker"], world.users["officer"]
    shared = world.parts["referral"].case
    statement = services.document_upload(
        actor=cw,
        case=shared,
        uploaded_file=SimpleUploadedFile("s.png", PNG),
        kind="statement",
        purpose="evidence",
    )
    world.parts["shared_consent"] = consents.consent_record(
        actor=cw, case=shared, scope="evidence_use", method="written"
    )
    item = [{"kind": "document", "id": statement.pk}]

    def ask() -> Any:
        return evidence_services.evidence_request_create(
            actor=officer, case=shared, purpose="Op Harvest", legal_basis="MSA 2015", items=item
        )

    world.parts["shared_case"] = shared
    world.parts["evidence_items"] = item
    world.parts["evidence_request"] = ask()
    approved = ask()
    evidence_services.evidence_request_approve(
        actor=cw, request=approved, items=item, victim_consulted=True
    )
    world.parts["approved_evidence"] = approved
    bg_case = services.case_create(actor=cw)
    world.parts["bg_case"] = bg_case
    world.parts["break_glass"] = break_glass.break_glass_open(
        actor=world.users["case_manager"],
        case=bg_case,
        grounds="threat_to_life",
        reason="Threat to life",
    )


# What the shared case holds that only Harbour's care roles may read: words that must
# never reach the page or the JSON of a role who sees the case but not that part.
SHARED_SECRETS = {
    "identity": "Zofia",
    "address": "7 Ropewalk",
    "lead_note": "Told us where the keys are kept",
    "team_note": "Prefers a female interpreter",
    "support_document": "gp-letter.png",
}


def build_shared_parts(world: World) -> None:
    """The rest of what the shared case holds, each part one the police or the Council
    see the case without: who the person is and where they stay, a need, a note for the
    lead agency and one for the case team (neither granted to the officer), a flag, and a
    support document (not evidence, never granted). And a health referral the Council
    accepted: its caseworker sees the summary and the needs (``referrals.services``), no
    more."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casework import services
    from referrals import services as referrals

    cw, shared = world.users["caseworker"], world.parts["shared_case"]
    services.identity_save(
        actor=cw, case=shared, given_name=SHARED_SECRETS["identity"], family_name="Wrona"
    )
    services.location_set(
        actor=cw, case=shared, accommodation_type="safe_house", address=SHARED_SECRETS["address"]
    )
    world.parts["shared_need"] = services.need_add(actor=cw, case=shared, category="healthcare")
    world.parts["shared_lead_note"] = services.note_add(
        actor=cw, case=shared, body=SHARED_SECRETS["lead_note"], visibility="lead_agency"
    )
    world.parts["shared_team_note"] = services.note_add(
        actor=cw, case=shared, body=SHARED_SECRETS["team_note"], visibility="case_team"
    )
    world.parts["shared_flag"] = services.flag_raise(actor=cw, case=shared, kind="self_harm")
    world.parts["shared_support_document"] = services.document_upload(
        actor=cw,
        case=shared,
        uploaded_file=SimpleUploadedFile(SHARED_SECRETS["support_document"], PNG),
        kind="photo",
        purpose="support",
    )
    health = referrals.referral_send(
        actor=cw,
        case=shared,
        to_agency=world.agencies["council"],
        kind="health",
        reason="GP registration",
    )
    world.parts["council_referral"] = referrals.referral_accept(
        actor=world.users["partner_caseworker"], referral=health
    )


def build_intelligence(world: World) -> None:
    """A report by the police analyst (partnership, AMBER); a C report by Harbour's case
    manager (partnership, AMBER: the police read it once they accept its conditions); an
    operation led by the police with Harbour as partner."""
    from intelligence import operations, reports

    analyst, case_manager = world.users["analyst"], world.users["case_manager"]
    common = {
        "summary": "Workers live on site.",
        "source_evaluation": "2",
        "intelligence_assessment": "B",
        "tlp": "AMBER",
        "distribution": "partnership",
    }
    report = reports.report_create(actor=analyst, title="Car wash", handling_code="P", **common)
    world.parts["report"] = reports.report_submit(actor=analyst, report=report)
    conditioned = reports.report_create(
        actor=case_manager,
        title="Nail bar",
        handling_code="C",
        handling_conditions="Police contact before any visit.",
        **common,
    )
    world.parts["c_report"] = reports.report_submit(actor=case_manager, report=conditioned)
    world.parts["operation"] = operations.operation_create(
        actor=world.users["officer"],
        name="Operation Clearwater",
        starts_on=timezone.localdate() - datetime.timedelta(days=7),
        partner_agencies=[world.agencies["harbour"]],
    )
    build_intelligence_pages(world)


def build_intelligence_pages(world: World) -> None:
    """What the pages need besides build_intelligence's report, c_report and operation: a
    police draft; a match the police are told of (Harbour's caseworker named the phone of
    a police-only report, which Harbour cannot read); a visit in the operation."""
    from intelligence import matching, operations, reports
    from intelligence.models import Match, MatchingJob

    analyst, cw = world.users["analyst"], world.users["caseworker"]
    base = {
        "source_evaluation": "2",
        "intelligence_assessment": "B",
        "handling_code": "P",
        "tlp": "AMBER",
        "distribution": "partnership",
        "summary": "Workers live on site.",
    }
    world.parts["draft"] = reports.report_create(actor=analyst, title="Draft", **base)
    phone = [{"kind": "phone", "value": "+44 7400 123456"}]
    police_only = reports.report_create(
        actor=analyst, title="Phone", **{**base, "distribution": "agency"}, entities=phone
    )
    harbour = reports.report_create(actor=cw, title="Same phone", **base, entities=phone)
    for actor, report in ((analyst, police_only), (cw, harbour)):
        reports.report_submit(actor=actor, report=report)
        # Matching is a worker's job after the commit, which this world's transaction
        # never reaches: done here after each submit, as the worker would.
        for job in MatchingJob.objects.filter(done_at__isnull=True).order_by("pk"):
            matching.report_match(job_id=job.pk)
    world.parts["match"] = Match.objects.get(existing_report=police_only)
    world.parts["visit"] = operations.visit_record(
        actor=world.users["officer"],
        operation=world.parts["operation"],
        premises_type="car_wash",
        postcode_district="NE1",
        visited_on=timezone.localdate(),
        outcome="potential_victims",
        indicators=["living_on_site"],
    )


def build_dashboards(world: World) -> None:
    """One export of the partnership manager's, built (so its file exists)."""
    from dashboards import exports
    from dashboards.models import ExportJob

    job = ExportJob.objects.create(
        requested_by=world.users["partnership_manager"],
        scope_kind="partnership",
        scope_id=world.partnership.pk,
        filters={},
    )
    exports.export_build(job_id=job.pk)
    world.parts["export_job"] = job


# --- rows -------------------------------------------------------------------------------

Statuses = dict[str, int | frozenset[int]]


def only(allowed: dict[str, int], others: int, anonymous: int) -> Statuses:
    """``allowed`` roles get their status, every other signed-in role ``others``."""
    result: Statuses = {role: allowed.get(role, others) for role in SIGNED_IN}
    result["anonymous"] = anonymous
    return result


def everyone(status: int | frozenset[int], anonymous: int | frozenset[int]) -> Statuses:
    return {**{role: status for role in SIGNED_IN}, "anonymous": anonymous}


@dataclass
class Expect:
    method: str
    statuses: Statuses
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    data: Callable[[World, str], dict[str, Any]] = lambda w, role: {}
    api: bool = False
    note: str = ""
    # Words that must not be in the answer to these roles, whatever its status: a part
    # of what they see that they may not read (a list that leaves it out, a page that
    # does not show it).
    unread: dict[str, Callable[[World], list[str]]] = field(default_factory=dict)


Rows = dict[str, list[Expect]]

HTML_LOGIN = 302  # anonymous visitors of signed-in pages are sent to the login page
API_ANON = 401  # the API answers anonymous callers 401 (WWW-Authenticate: Token)
CARE = {"caseworker": 200, "case_manager": 200}

case_pk = lambda w: {"pk": w.case.pk}  # noqa: E731


# --- checking a row ---------------------------------------------------------------------


class _Rollback(Exception):
    pass


def client_for(role: str, world: World, api: bool) -> Client:
    client: Client = APIClient() if api else Client()
    if role != "anonymous":
        client.force_login(world.users[role])
        verify_session(client, world.users[role])
    return client


def check(name: str, expect: Expect, world: World) -> None:
    """Ask ``name`` as every role, each in a savepoint rolled back after its answer."""
    url = reverse(name, kwargs=expect.kwargs(world))
    mismatches = []
    for role in ROLES:
        try:
            with transaction.atomic():
                client = client_for(role, world, expect.api)
                data = expect.data(world, role)
                call = getattr(client, expect.method.lower())
                response = call(url, data, format="json") if expect.api else call(url, data)
                wanted = expect.statuses[role]
                allowed = wanted if isinstance(wanted, frozenset) else {wanted}
                if response.status_code not in allowed:
                    mismatches.append(f"{role}: got {response.status_code}, expected {wanted}")
                if role in expect.unread:
                    content = b"" if response.streaming else response.content
                    body = content.decode(errors="replace")
                    shown = [word for word in expect.unread[role](world) if word in body]
                    if shown:
                        mismatches.append(f"{role}: the answer shows {shown}")
                raise _Rollback
        except _Rollback:
            pass
    assert not mismatches, f"{expect.method} {url}: " + "; ".join(mismatches)


def each_row(rows: Rows) -> pytest.MarkDecorator:
    """Parametrize a module's test over its rows, one test per (route, row)."""
    cases = [
        (name, i) for name, expectations in sorted(rows.items()) for i in range(len(expectations))
    ]
    return pytest.mark.parametrize(("name", "index"), cases, ids=[f"{n}[{i}]" for n, i in cases])


# --- the world, once per module -----------------------------------------------------------


@pytest.fixture(scope="module")
def matrix_world_for_module(
    django_db_setup: None, django_db_blocker: Any, module_private_root: Path
) -> Iterator[World]:
    """The world, built once for the module in a transaction rolled back after it.

    Tests that use it take ``db`` (pytest-django's ``TestCase`` atomic, a savepoint
    here): whatever a test writes is rolled back to the world, and the world itself when
    the module ends, so the modules after it find the database as empty as ever."""
    from casework.models import Case

    outer = transaction.atomic()
    with django_db_blocker.unblock():
        assert not connection.in_atomic_block, "the world must be the outermost transaction"
        outer.__enter__()
        try:
            world = build_world()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield world
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            assert not connection.in_atomic_block
            assert not Case.objects.filter(pk=world.case.pk).exists(), "the world outlived"


@pytest.fixture
def matrix_world(matrix_world_for_module: World, db: None) -> World:
    """This test's copy of the world's objects (its rows are the module's): what a test
    does to an instance in memory stays in that test."""
    return copy.deepcopy(matrix_world_for_module)


# --- the whole matrix ---------------------------------------------------------------------

ROOT = Path(settings.BASE_DIR)
MODULE_GLOB = "*/tests/test_permissions*.py"


def matrix_modules() -> list[ModuleType]:
    """Every app's rows module, by name (so the order of a route's rows is stable)."""
    names = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts) for path in ROOT.glob(MODULE_GLOB)
    )
    return [importlib.import_module(name) for name in names]


def matrix() -> Rows:
    """Every module's rows, a route's rows in the order of the modules' names."""
    merged: Rows = {}
    for module in matrix_modules():
        for name, expectations in module.ROWS.items():
            merged.setdefault(name, []).extend(expectations)
    return merged


def route_views() -> dict[str, Any]:
    """Every named route of the URLconf (``namespace:name``) and the view that answers it."""
    views: dict[str, Any] = {}

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                if pattern.namespace and namespace:
                    inner = f"{namespace}:{pattern.namespace}"
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                if pattern.name is None and namespace == "admin":
                    continue  # the admin's legacy "<object_id>/" redirect to the change page
                assert pattern.name, f"unnamed URL pattern {pattern.pattern} cannot be covered"
                views[f"{namespace}:{pattern.name}" if namespace else pattern.name] = (
                    pattern.callback
                )

    walk(get_resolver().url_patterns, None)
    return views


def route_names() -> set[str]:
    return set(route_views())


# Routes whose views are not first-party code, and the app that keeps their rows: the
# sign-in pages Django and django-otp-webauthn serve are the agencies app's story.
THIRD_PARTY_OWNERS = {
    "login": "agencies",
    "logout": "agencies",
    "password_change_done": "agencies",
    "password_reset_done": "agencies",
    "password_reset_complete": "agencies",
    "otp_webauthn:credential-authentication-begin": "agencies",
    "otp_webauthn:js-i18n-catalog": "agencies",
    "schema": "config",
    "api-docs": "config",
}


def route_owner(name: str, view: Any) -> str:
    """The app whose view answers ``name``: the one that keeps its rows."""
    if name in THIRD_PARTY_OWNERS:
        return THIRD_PARTY_OWNERS[name]
    view = getattr(view, "cls", None) or getattr(view, "view_class", None) or view
    return view.__module__.split(".")[0]
