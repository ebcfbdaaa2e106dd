"""Who may open which dashboard (``dashboards.scope``): a partnership manager their
partnerships' dashboards and their agencies'; a case manager their own agency's.

In the access contract's order: a role that may never open this kind of
dashboard is refused first (PermissionDenied: 403), whatever the id, so the refusal says
nothing about what exists; then a partnership or agency the user is not part of, or one
that does not exist, is Http404, audited when it exists."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from agencies import access
from agencies.models import Role, role_fits_agency
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from dashboards.permissions import CAPABILITIES, VIEW_AGENCY, VIEW_PARTNERSHIP
from dashboards.scope import AGENCY, PARTNERSHIP, agency_scope, dashboards_for, partnership_scope
from dashboards.tables import ScopeInfo


def denials(user) -> list[tuple[str, str, str]]:
    return list(
        AuditEvent.objects.filter(action=AuthAction.ACCESS_DENIED, actor=user).values_list(
            "target_type", "target_id", "detail__permission"
        )
    )


def test_the_capabilities_are_declared_for_the_matrix():
    assert CAPABILITIES[VIEW_PARTNERSHIP] == {Role.PARTNERSHIP_MANAGER}
    assert CAPABILITIES[VIEW_AGENCY] == {Role.CASE_MANAGER, Role.PARTNERSHIP_MANAGER}
    assert set(CAPABILITIES) == {VIEW_PARTNERSHIP, VIEW_AGENCY}
    declared = access.capabilities()
    assert declared[VIEW_PARTNERSHIP] == {Role.PARTNERSHIP_MANAGER}
    assert "dashboards.view_partnership_dashboard" in access.capability_matrix_markdown()


def test_a_partnership_manager_opens_their_partnership(manager, partnership):
    scope = partnership_scope(manager, partnership.pk)
    assert (scope.kind, scope.id, scope.name) == (PARTNERSHIP, partnership.pk, partnership.name)
    assert sorted(a.name for a in scope.agencies) == [
        "Crown Prosecution",
        "Harbour Trust",
        "Northshire Council",
        "Northshire Police",
    ]


def test_a_manager_of_another_partnership_gets_404_and_the_attempt_is_audited(
    south_manager, partnership
):
    with pytest.raises(Http404):
        partnership_scope(south_manager, partnership.pk)
    assert denials(south_manager) == [
        ("agencies.partnership", str(partnership.pk), VIEW_PARTNERSHIP)
    ]


def test_a_partnership_manager_gets_404_for_another_partnership(manager, south_partnership):
    with pytest.raises(Http404):
        partnership_scope(manager, south_partnership.pk)


@pytest.mark.parametrize(
    "role",
    [Role.CASEWORKER, Role.CASE_MANAGER, Role.OFFICER, Role.ANALYST, Role.AGENCY_ADMIN],
)
def test_other_roles_of_a_member_agency_are_refused_the_partnership_before_any_lookup(
    role, council, police, partnership
):
    from agencies.tests.factories import member

    # Officers and analysts exist only in agencies that do intelligence work.
    user = member(council if role_fits_agency(role, council.kind) else police, role)
    # The same refusal for their own partnership and for one that does not exist.
    for pk in (partnership.pk, 999_999, "abc"):
        with pytest.raises(PermissionDenied):
            partnership_scope(user, pk)
    # Nothing was looked up, so no partnership is named in the trail (the 403 itself is
    # audited where it is answered: the API's exception handler, the pages' middleware).
    assert denials(user) == []


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.OFFICER, Role.ANALYST, Role.AGENCY_ADMIN])
def test_roles_without_dashboards_are_refused_any_agency_before_any_lookup(role, harbour, police):
    from agencies.tests.factories import member

    # Officers and analysts exist only in agencies that do intelligence work.
    own = harbour if role_fits_agency(role, harbour.kind) else police
    user = member(own, role)
    for pk in (own.pk, 999_999, "abc"):
        with pytest.raises(PermissionDenied):
            agency_scope(user, pk)
    assert denials(user) == []


@pytest.mark.parametrize("missing", [999_999, "abc", "1.5", "-1", 10**30, None])
def test_a_missing_partnership_or_agency_is_404_without_an_audit(manager, missing):
    with pytest.raises(Http404):
        partnership_scope(manager, missing)
    with pytest.raises(Http404):
        agency_scope(manager, missing)
    assert denials(manager) == []


def test_an_anonymous_or_inactive_user_is_refused(partnership, manager, harbour):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        partnership_scope(AnonymousUser(), partnership.pk)
    manager.is_active = False
    with pytest.raises(PermissionDenied):
        partnership_scope(manager, partnership.pk)
    with pytest.raises(PermissionDenied):
        agency_scope(manager, harbour.pk)


def test_a_partnership_manager_of_an_inactive_agency_is_refused(manager, council, partnership):
    council.active = False
    council.save()
    manager.membership.agency.refresh_from_db()
    with pytest.raises(PermissionDenied):
        partnership_scope(manager, partnership.pk)


def test_a_case_manager_opens_their_own_agency_only(case_manager, harbour, council):
    scope = agency_scope(case_manager, harbour.pk)
    assert (scope.kind, scope.id, scope.agency_ids) == (AGENCY, harbour.pk, (harbour.pk,))
    with pytest.raises(Http404):
        agency_scope(case_manager, council.pk)
    assert denials(case_manager) == [("agencies.agency", str(council.pk), VIEW_AGENCY)]


def test_a_caseworker_may_not_open_even_their_own_agency(caseworker, harbour):
    with pytest.raises(PermissionDenied):
        agency_scope(caseworker, harbour.pk)


def test_a_case_manager_is_refused_partnership_dashboards_whatever_the_id(
    case_manager, partnership, south_partnership
):
    # Harbour is in Northshire, not in Southshire: the answer is the same 403.
    for pk in (partnership.pk, south_partnership.pk, 999_999):
        with pytest.raises(PermissionDenied):
            partnership_scope(case_manager, pk)
    assert denials(case_manager) == []


def test_a_partnership_manager_opens_any_agency_of_their_partnerships(
    manager, harbour, council, police, south_charity, south_partnership, partnership
):
    assert agency_scope(manager, harbour.pk).agency_ids == (harbour.pk,)
    assert agency_scope(manager, council.pk).agency_ids == (council.pk,)  # their own
    with pytest.raises(Http404):
        agency_scope(manager, south_charity.pk)
    assert denials(manager) == [("agencies.agency", str(south_charity.pk), VIEW_AGENCY)]


def test_dashboards_for_lists_what_a_user_may_open(
    manager, case_manager, caseworker, partnership, south_partnership, council, harbour
):
    assert dashboards_for(manager) == [
        ScopeInfo(PARTNERSHIP, partnership.pk, "Northshire Partnership"),
        ScopeInfo(AGENCY, council.pk, "Northshire Council"),
    ]
    assert dashboards_for(case_manager) == [ScopeInfo(AGENCY, harbour.pk, "Harbour Trust")]
    assert dashboards_for(caseworker) == []


def test_a_change_of_role_applies_at_once(manager, partnership):
    assert partnership_scope(manager, partnership.pk).id == partnership.pk
    manager.membership.role = Role.CASEWORKER
    manager.membership.save()
    with pytest.raises(PermissionDenied):
        partnership_scope(manager, partnership.pk)
