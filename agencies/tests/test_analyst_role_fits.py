"""An intelligence analyst exists only in an agency that does intelligence work.

An analyst reads partners' police intelligence, so an agency admin of a charity or a
council must not be able to make one: both doors refuse it. Memberships from before the
rule are reported, not changed: by migration ``agencies.0005`` once, and by
``manage.py role_misfits`` whenever an operator asks.
"""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command

from agencies import services
from agencies.models import (
    INTELLIGENCE_AGENCY_KINDS,
    ROLE_AGENCY_KINDS,
    AgencyKind,
    Membership,
    Role,
    User,
    role_fits_agency,
    role_mismatch_message,
)
from agencies.tests.factories import AgencyFactory, UserFactory, member

pytestmark = pytest.mark.django_db

INTELLIGENCE_KINDS = {"police", "labour_inspectorate", "national_agency", "immigration"}
MIGRATION = "agencies.migrations.0005_report_analysts_outside_intelligence_agencies"


@pytest.mark.parametrize("kind", AgencyKind.values)
def test_analysts_fit_exactly_the_intelligence_kinds_as_officers_do(kind):
    assert role_fits_agency(Role.ANALYST, kind) is (kind in INTELLIGENCE_KINDS)
    assert role_fits_agency(Role.OFFICER, kind) is (kind in INTELLIGENCE_KINDS)
    assert ROLE_AGENCY_KINDS[Role.ANALYST] == ROLE_AGENCY_KINDS[Role.OFFICER]
    assert INTELLIGENCE_AGENCY_KINDS == INTELLIGENCE_KINDS


@pytest.mark.parametrize("kind", [AgencyKind.CHARITY, AgencyKind.LOCAL_AUTHORITY])
def test_the_service_refuses_an_analyst_outside_an_intelligence_agency(kind):
    agency = AgencyFactory(kind=kind)
    with pytest.raises(ValidationError) as error:
        services.membership_create(
            actor=None, agency=agency, username="x", email="x@example.org", role=Role.ANALYST
        )
    assert error.value.message_dict["role"] == [role_mismatch_message(Role.ANALYST, kind)]
    assert not User.objects.filter(username="x").exists()


def test_the_model_refuses_an_analyst_in_a_charity(harbour):
    membership = Membership(
        user=User.objects.create_user("x", "x@example.org"), agency=harbour, role=Role.ANALYST
    )
    with pytest.raises(ValidationError) as error:
        membership.full_clean()
    assert "role" in error.value.message_dict


def test_the_browser_neither_offers_nor_accepts_an_analyst_in_a_charity(
    login, agency_admin, caseworker
):
    client = login(agency_admin)
    page = client.get("/agency/users/new/")
    assert page.status_code == 200
    assert b'value="caseworker"' in page.content  # the role list is there...
    assert b'value="analyst"' not in page.content  # ...without the analyst

    refused = client.post(
        "/agency/users/new/", {"username": "dora", "email": "dora@example.org", "role": "analyst"}
    )
    assert refused.status_code == 200
    assert b"Select a valid choice" in refused.content
    assert not User.objects.filter(username="dora").exists()

    pk = caseworker.membership.pk
    assert b'value="analyst"' not in client.get(f"/agency/users/{pk}/").content
    changed = client.post(f"/agency/users/{pk}/", {"role": "analyst"})
    assert changed.status_code == 200
    assert b"Select a valid choice" in changed.content
    assert Membership.objects.get(pk=pk).role == Role.CASEWORKER


def test_the_api_refuses_an_analyst_in_a_charity_with_the_reason(api, agency_admin, caseworker):
    client = api(agency_admin)
    reason = role_mismatch_message(Role.ANALYST, AgencyKind.CHARITY)

    created = client.post(
        "/api/v1/agency/users/",
        {"username": "dora", "email": "dora@example.org", "role": "analyst"},
        format="json",
    )
    assert created.status_code == 400
    assert created.json()["role"] == [reason]
    assert not User.objects.filter(username="dora").exists()

    pk = caseworker.membership.pk
    changed = client.patch(f"/api/v1/agency/users/{pk}/", {"role": "analyst"}, format="json")
    assert changed.status_code == 400
    assert changed.json()["role"] == [reason]
    assert Membership.objects.get(pk=pk).role == Role.CASEWORKER


def test_a_police_admin_still_makes_analysts_in_both_doors(login, api, police):
    admin = member(police, Role.AGENCY_ADMIN, username="police-admin")
    assert b'value="analyst"' in login(admin).get("/agency/users/new/").content
    created = api(admin).post(
        "/api/v1/agency/users/",
        {"username": "grace", "email": "grace@example.org", "role": "analyst"},
        format="json",
    )
    assert created.status_code == 201
    assert Membership.objects.get(user__username="grace").role == Role.ANALYST


# --- Memberships from before the rule: reported, never changed ---------------------------


def legacy(kind: str, role: str, username: str) -> Membership:
    """A membership as one made before the rule may be: written straight to the table,
    past every check (the services', the model's, any factory's)."""
    agency = AgencyFactory(kind=kind, name=f"{role} in {kind}")
    user = UserFactory(username=username, email=f"{username}@x.example")
    return Membership.objects.create(user=user, agency=agency, role=role)


@pytest.fixture
def legacy_memberships() -> dict[str, Membership]:
    found = {
        "charity_analyst": legacy(AgencyKind.CHARITY, Role.ANALYST, "ann-charity"),
        "council_analyst": legacy(AgencyKind.LOCAL_AUTHORITY, Role.ANALYST, "ann-council"),
        "health_officer": legacy(AgencyKind.HEALTH, Role.OFFICER, "otto-health"),
        "police_prosecutor": legacy(AgencyKind.POLICE, Role.PROSECUTOR, "pia-police"),
        "charity_caseworker": legacy(AgencyKind.CHARITY, Role.CASEWORKER, "cara-charity"),
    }
    for kind in sorted(INTELLIGENCE_KINDS):
        found[f"{kind}_analyst"] = legacy(kind, Role.ANALYST, f"ann-{kind}")
    return found


def state(memberships: dict[str, Membership]) -> dict[int, tuple[str, int, object]]:
    return {
        m.pk: (m.role, m.agency_id, m.updated_at)
        for m in Membership.objects.filter(pk__in=[m.pk for m in memberships.values()])
    }


def assert_no_personal_data(output: str, memberships: dict[str, Membership]) -> None:
    for membership in memberships.values():
        user = membership.user
        assert user.username not in output
        assert user.email not in output
        assert user.last_name not in output


def test_the_migration_reports_each_misfit_analyst_and_changes_nothing(legacy_memberships, capsys):
    report = importlib.import_module(MIGRATION).report_analysts_outside_intelligence_agencies
    before = state(legacy_memberships)

    report(apps, None)

    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    misfits = [legacy_memberships["charity_analyst"], legacy_memberships["council_analyst"]]
    assert len(lines) == len(misfits) + 1
    for membership, line in zip(misfits, lines[:-1], strict=True):  # by agency name
        assert f"membership {membership.pk} (user {membership.user_id})" in line
        assert f'agency {membership.agency_id} "{membership.agency.name}"' in line
        assert f"kind {membership.agency.kind}" in line
    assert lines[-1].startswith("agencies.0005: 2 analyst membership(s) outside")
    assert_no_personal_data("\n".join(lines), legacy_memberships)
    assert state(legacy_memberships) == before


def test_the_command_lists_every_misfit_role_by_id_and_changes_nothing(legacy_memberships):
    before = state(legacy_memberships)
    out = io.StringIO()

    call_command("role_misfits", stdout=out)  # returns, not raises: exit code 0

    output = out.getvalue()
    misfit_keys = {"charity_analyst", "council_analyst", "health_officer", "police_prosecutor"}
    listed = {
        key
        for key, membership in legacy_memberships.items()
        if f"membership {membership.pk} (user {membership.user_id})" in output
    }
    assert listed == misfit_keys
    officer = legacy_memberships["health_officer"]
    assert (
        f'role officer in agency {officer.agency_id} "{officer.agency.name}" of kind health'
        in output
    )
    assert output.splitlines()[-1] == (
        "4 membership(s) with a role that does not fit their agency."
    )
    assert_no_personal_data(output, legacy_memberships)
    assert state(legacy_memberships) == before


def test_the_command_says_so_when_everything_fits(police, analyst, caseworker):
    out = io.StringIO()
    call_command("role_misfits", stdout=out)
    assert out.getvalue() == "0 membership(s) with a role that does not fit their agency.\n"


# --- Seeding puts analysts only where they fit ---------------------------------------------


@pytest.mark.parametrize("kind", AgencyKind.values)
def test_the_synthetic_seeder_gives_each_kind_only_roles_that_fit_it(kind):
    from bench.synthetic import vocab

    mix = vocab.ROLE_MIX.get(kind, vocab.DEFAULT_ROLE_MIX)
    misfits = [role for role, weight in mix if weight > 0 and not role_fits_agency(role, kind)]
    assert misfits == []
