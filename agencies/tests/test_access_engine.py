"""The access engine: capability x grant, reasons, expiry, scoping, explain."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies import access, services
from agencies.models import Role, User
from audit import actions
from audit.models import AuditEvent
from tests.accesstest.models import Dossier, DossierAgencyGrant, Reason

VIEW = "accesstest.view_dossier"
SECRET = "accesstest.view_dossier_secret"

pytestmark = pytest.mark.django_db


@pytest.fixture
def dossier() -> Dossier:
    return Dossier.objects.create(title="Case file")


@pytest.fixture
def other_dossier() -> Dossier:
    return Dossier.objects.create(title="Someone else's file")


@pytest.fixture
def lead(dossier: Dossier) -> Reason:
    return Reason.objects.create(label="lead agency")


def fresh(user: User) -> User:
    """The user as the next request would load it."""
    return User.objects.select_related("membership__agency").get(pk=user.pk)


def visible(user: User, perm: str = VIEW) -> set[str]:
    return set(Dossier.objects.visible_to(fresh(user), perm).values_list("title", flat=True))


def test_agency_grant_reaches_every_member_whose_role_may_hold_it(
    dossier,
    other_dossier,
    lead,
    harbour,
    caseworker,
    case_manager,
    agency_admin,
    other_agency_caseworker,
):
    access.grant(actor=None, obj=dossier, perms=[VIEW, SECRET], reason=lead, agency=harbour)

    assert visible(caseworker) == {"Case file"}
    assert visible(case_manager) == {"Case file"}
    # Same agency, but the role may never hold the permission: layer 1 refuses.
    assert visible(agency_admin) == set()
    assert visible(case_manager, SECRET) == set()
    assert visible(caseworker, SECRET) == {"Case file"}
    # Another agency: no grant.
    assert visible(other_agency_caseworker) == set()


def test_user_grant_reaches_only_that_user(dossier, lead, police, police_officer):
    colleague = (
        fresh(police_officer)
        .membership.agency.memberships.create(
            user=User.objects.create(username="colleague"), role=Role.OFFICER
        )
        .user
    )
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, user=police_officer)

    assert visible(police_officer) == {"Case file"}
    assert visible(colleague) == set()
    assert access.can(fresh(police_officer), VIEW, dossier)
    assert not access.can(fresh(colleague), VIEW, dossier)


def test_expired_grant_gives_nothing(dossier, lead, police, police_officer):
    access.grant(
        actor=None,
        obj=dossier,
        perms=[VIEW],
        reason=lead,
        user=police_officer,
        expires_at=timezone.now() + timedelta(days=30),
    )
    assert visible(police_officer) == {"Case file"}

    # Thirty days later: the row is still there, but it no longer counts.
    dossier.dossierusergrant_set.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert visible(police_officer) == set()
    assert not access.can(fresh(police_officer), VIEW, dossier)
    assert access.perms_for(fresh(police_officer), dossier) == frozenset()


def test_a_grant_cannot_start_expired(dossier, lead, police_officer):
    with pytest.raises(ValidationError):
        access.grant(
            actor=None,
            obj=dossier,
            perms=[VIEW],
            reason=lead,
            user=police_officer,
            expires_at=timezone.now() - timedelta(minutes=1),
        )


def test_withdrawing_one_reason_leaves_grants_for_other_reasons(
    dossier, harbour, council, caseworker, other_agency_caseworker
):
    referral = Reason.objects.create(label="accepted referral")
    consent = Reason.objects.create(label="identity consent")
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=referral, agency=council)
    access.grant(actor=None, obj=dossier, perms=[VIEW, SECRET], reason=consent, agency=council)

    removed = access.revoke_for_reason(actor=caseworker, reason=consent)

    assert removed == 2
    assert visible(other_agency_caseworker) == {"Case file"}  # the referral still stands
    assert visible(other_agency_caseworker, SECRET) == set()
    revoked = AuditEvent.objects.get(action=actions.GRANT_REVOKED)
    assert revoked.actor == caseworker
    assert revoked.detail["reason_type"] == "accesstest.reason"
    assert revoked.target_id == str(dossier.pk)

    access.revoke_for_reason(actor=caseworker, reason=referral)
    assert visible(other_agency_caseworker) == set()


def test_granting_twice_for_the_same_reason_is_idempotent_and_audited(
    dossier, lead, harbour, caseworker
):
    assert (
        access.grant(actor=caseworker, obj=dossier, perms=[VIEW], reason=lead, agency=harbour) == 1
    )
    assert (
        access.grant(actor=caseworker, obj=dossier, perms=[VIEW], reason=lead, agency=harbour) == 0
    )
    assert DossierAgencyGrant.objects.count() == 1
    events = AuditEvent.objects.filter(action=actions.GRANT_CREATED)
    assert events.count() == 2
    assert events.first().detail["permissions"] == [VIEW]
    assert events.first().detail["agency_id"] == harbour.pk


def test_revoke_by_holder_and_permission(dossier, lead, harbour, caseworker):
    access.grant(actor=None, obj=dossier, perms=[VIEW, SECRET], reason=lead, agency=harbour)
    assert access.revoke(actor=None, obj=dossier, agency=harbour, perms=[SECRET]) == 1
    assert visible(caseworker) == {"Case file"}
    assert visible(caseworker, SECRET) == set()


def test_grant_refuses_what_makes_no_sense(dossier, lead, harbour, caseworker):
    with pytest.raises(ValueError, match="exactly one"):
        access.grant(
            actor=None, obj=dossier, perms=[VIEW], reason=lead, agency=harbour, user=caseworker
        )
    with pytest.raises(ImproperlyConfigured):
        access.grant(
            actor=None,
            obj=dossier,
            perms=["agencies.manage_agency_users"],
            reason=lead,
            agency=harbour,
        )
    with pytest.raises(ValueError, match="saved"):
        access.grant(
            actor=None, obj=dossier, perms=[VIEW], reason=Reason(label="unsaved"), agency=harbour
        )
    with pytest.raises(ImproperlyConfigured, match="not registered"):
        access.grant(actor=None, obj=lead, perms=[VIEW], reason=lead, agency=harbour)


def test_scoping_is_one_query_with_one_subquery_and_no_distinct(dossier, lead, harbour, caseworker):
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, agency=harbour)
    user = fresh(caseworker)
    list(Dossier.objects.visible_to(user, VIEW))  # warm the permission-id cache

    with CaptureQueriesContext(connection) as queries:
        titles = list(Dossier.objects.visible_to(user, VIEW).values_list("title", flat=True))

    assert titles == ["Case file"]
    assert len(queries) == 1
    sql = queries[0]["sql"].upper()
    assert "DISTINCT" not in sql
    assert sql.count(" IN (") == 1 and "UNION ALL" in sql


def test_scoped_query_count_does_not_grow_with_rows(harbour, caseworker, django_assert_num_queries):
    reason = Reason.objects.create(label="lead")
    user = fresh(caseworker)
    for n in range(3):
        access.grant(
            actor=None,
            obj=Dossier.objects.create(title=f"d{n}"),
            perms=[VIEW],
            reason=reason,
            agency=harbour,
        )
    list(Dossier.objects.visible_to(user, VIEW))
    with django_assert_num_queries(1):
        assert len(list(Dossier.objects.visible_to(user, VIEW))) == 3
    for n in range(40):
        access.grant(
            actor=None,
            obj=Dossier.objects.create(title=f"e{n}"),
            perms=[VIEW],
            reason=reason,
            agency=harbour,
        )
    with django_assert_num_queries(1):
        assert len(list(Dossier.objects.visible_to(user, VIEW))) == 43


def test_changes_apply_on_the_next_request(dossier, lead, harbour, caseworker, agency_admin):
    access.grant(actor=None, obj=dossier, perms=[VIEW, SECRET], reason=lead, agency=harbour)
    assert visible(caseworker, SECRET) == {"Case file"}

    services.membership_change_role(
        actor=agency_admin, membership=caseworker.membership, role=Role.CASE_MANAGER
    )
    assert visible(caseworker, SECRET) == set()  # case managers may not hold the secret
    assert visible(caseworker) == {"Case file"}

    harbour.active = False
    harbour.save(update_fields=["active"])
    assert visible(caseworker) == set()


def test_deactivated_user_sees_nothing(dossier, lead, harbour, caseworker, agency_admin):
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, agency=harbour)
    services.membership_deactivate(actor=agency_admin, membership=caseworker.membership)
    assert visible(caseworker) == set()


def test_superuser_is_unscoped(dossier, other_dossier):
    admin = User.objects.create_superuser("root", "root@example.org", "x-long-password-1")
    assert visible(admin) == {"Case file", "Someone else's file"}


def test_hidden_record_is_404_and_the_attempt_is_audited(
    dossier, other_dossier, lead, harbour, caseworker
):
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, agency=harbour)
    user = fresh(caseworker)

    assert access.get_visible_or_404(Dossier.objects.all(), user, VIEW, pk=dossier.pk) == dossier
    with pytest.raises(Http404):
        access.get_visible_or_404(Dossier.objects.all(), user, VIEW, pk=other_dossier.pk)
    denied = AuditEvent.objects.get(action=actions.ACCESS_DENIED)
    assert denied.actor == caseworker
    assert denied.target_id == str(other_dossier.pk)
    assert denied.detail == {"permission": VIEW}

    # A record that does not exist is also 404, and there is nothing to audit.
    with pytest.raises(Http404):
        access.get_visible_or_404(Dossier.objects.all(), user, VIEW, pk=999_999)
    with pytest.raises(Http404):
        access.get_visible_or_404(Dossier.objects.all(), user, VIEW, pk="not-a-number")
    assert AuditEvent.objects.filter(action=actions.ACCESS_DENIED).count() == 1


def test_perms_for_loads_a_page_worth_of_permissions_in_one_query(
    dossier, lead, harbour, caseworker, police_officer, django_assert_num_queries
):
    access.grant(actor=None, obj=dossier, perms=[VIEW, SECRET], reason=lead, agency=harbour)
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, user=police_officer)
    user = fresh(caseworker)
    with django_assert_num_queries(1):
        assert access.perms_for(user, dossier) == {VIEW, SECRET}
    assert access.perms_for(fresh(police_officer), dossier) == {VIEW}


def test_has_perm_on_an_object_goes_through_the_engine(
    dossier, lead, harbour, caseworker, other_agency_caseworker
):
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, agency=harbour)
    assert fresh(caseworker).has_perm(VIEW, dossier)
    assert not fresh(other_agency_caseworker).has_perm(VIEW, dossier)


def test_explain_names_the_grant_or_the_missing_capability(
    dossier, lead, harbour, caseworker, agency_admin, other_agency_caseworker
):
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, agency=harbour)

    decisions = {d.permission: d for d in access.explain(fresh(caseworker), dossier)}
    assert decisions[VIEW].allowed
    assert "lead agency" in decisions[VIEW].why
    assert decisions[VIEW].grants[0].holder_name == "Harbour Trust"
    assert not decisions[SECRET].allowed and "no grant" in decisions[SECRET].why

    admin_view = {d.permission: d for d in access.explain(fresh(agency_admin), dossier)}[VIEW]
    assert not admin_view.allowed and "may never hold" in admin_view.why

    outsider = {d.permission: d for d in access.explain(fresh(other_agency_caseworker), dossier)}[
        VIEW
    ]
    assert not outsider.allowed and "Northshire Council" in outsider.why


def test_grants_on_answers_who_can_see_this_and_why(dossier, lead, harbour, police_officer):
    request = Reason.objects.create(label="evidence request 7")
    until = timezone.now() + timedelta(days=30)
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, agency=harbour)
    access.grant(
        actor=None, obj=dossier, perms=[VIEW], reason=request, user=police_officer, expires_at=until
    )

    grants = access.grants_on(dossier)

    assert [(g.holder_kind, g.holder_name, g.reason) for g in grants] == [
        ("agency", "Harbour Trust", "lead agency"),
        ("user", police_officer.username, "evidence request 7"),
    ]
    assert grants[1].expires_at == until


def test_undeclared_permissions_are_held_by_nobody():
    assert not access.role_may(Role.AGENCY_ADMIN, "accesstest.delete_dossier")
    assert access.role_may(Role.AGENCY_ADMIN, "agencies.manage_agency_users")
    assert not access.role_may(None, "agencies.manage_agency_users")


def test_capability_matrix_is_a_markdown_table_of_every_declared_permission():
    table = access.capability_matrix_markdown()
    header, rule, *rows = table.splitlines()
    assert header.startswith("| permission | Caseworker | Case manager | Officer")
    assert rule.startswith("| --- |")
    assert "| `accesstest.view_dossier_secret` | ✓ |  |" in table
    assert sum(row.startswith("| `") for row in rows) == len(access.capabilities())
