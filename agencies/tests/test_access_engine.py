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
from agencies.access import scoping
from agencies.audit_actions import AgencyAction
from agencies.backends import MembershipBackend
from agencies.models import Role, User
from agencies.permissions import MANAGE_AGENCY_USERS
from audit.audit_actions import AuthAction
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
    """The user as the next request loads it: with the membership and the flags saying
    which models it holds personal grants on."""
    loaded = MembershipBackend().get_user(user.pk)
    assert loaded is not None, "the backend refuses this user"
    return loaded


def loaded_elsewhere(user: User) -> User:
    """The user loaded without the flags (a knox token, a shell): scoping must assume it
    may hold personal grants."""
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
    revoked = AuditEvent.objects.get(action=AgencyAction.GRANT_REVOKED)
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
    events = AuditEvent.objects.filter(action=AgencyAction.GRANT_CREATED)
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


def scoped_sql(user: User) -> str:
    list(Dossier.objects.visible_to(user, VIEW))  # warm the permission-id cache
    with CaptureQueriesContext(connection) as queries:
        list(Dossier.objects.visible_to(user, VIEW).values_list("title", flat=True))
    assert len(queries) == 1
    return queries[0]["sql"].upper()


def test_scoping_is_one_query_a_semi_join_on_agency_grants_without_personal_grants(
    dossier, lead, harbour, caseworker
):
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, agency=harbour)
    sql = scoped_sql(fresh(caseworker))
    assert "DISTINCT" not in sql and "UNION" not in sql
    assert sql.count(" IN (") == 1 and "DOSSIERAGENCYGRANT" in sql
    assert "DOSSIERUSERGRANT" not in sql


def test_scoping_adds_personal_grants_when_the_user_holds_some_or_may(
    dossier, other_dossier, lead, harbour, caseworker
):
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, agency=harbour)
    for user in (loaded_elsewhere(caseworker), fresh(caseworker)):
        if user.pk == caseworker.pk and access.PERSONAL_GRANTS in user.__dict__:
            # The backend-loaded user holds none yet; give them one.
            access.grant(actor=None, obj=other_dossier, perms=[VIEW], reason=lead, user=user)
            user = fresh(caseworker)
        sql = scoped_sql(user)
        assert sql.count(" IN (") == 2 and " OR " in sql and "DOSSIERUSERGRANT" in sql
    assert visible(caseworker) == {"Case file", "Someone else's file"}


def test_a_personal_grant_made_during_a_request_shows_in_that_request(dossier, lead, caseworker):
    user = fresh(caseworker)
    assert not Dossier.objects.visible_to(user, VIEW).exists()
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, user=user)
    assert list(Dossier.objects.visible_to(user, VIEW)) == [dossier]


def test_expired_personal_grants_do_not_count_as_held(dossier, lead, caseworker):
    access.grant(
        actor=None,
        obj=dossier,
        perms=[VIEW],
        reason=lead,
        user=caseworker,
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    assert Dossier in getattr(fresh(caseworker), access.PERSONAL_GRANTS)
    dossier.dossierusergrant_set.update(expires_at=timezone.now() - timedelta(seconds=1))
    user = fresh(caseworker)
    assert Dossier not in getattr(user, access.PERSONAL_GRANTS)
    assert not Dossier.objects.visible_to(user, VIEW).exists()


def test_unfiltered_count_comes_from_the_grant_index_and_agrees_with_the_rows(
    harbour, police, caseworker, police_officer
):
    """Duplicate reasons, expired grants, another agency's grants and personal grants that
    overlap the agency's: the count from the grants equals the number of rows."""
    reasons = [Reason.objects.create(label=f"r{n}") for n in range(2)]
    files = [Dossier.objects.create(title=f"d{n}") for n in range(6)]
    for reason in reasons:  # the same files granted for two reasons
        for dossier in files[:3]:
            access.grant(actor=None, obj=dossier, perms=[VIEW], reason=reason, agency=harbour)
    access.grant(actor=None, obj=files[3], perms=[VIEW], reason=reasons[0], agency=harbour)
    files[3].dossieragencygrant_set.update(expires_at=timezone.now() - timedelta(seconds=1))
    access.grant(actor=None, obj=files[4], perms=[VIEW], reason=reasons[0], agency=police)
    for dossier in (files[0], files[5]):
        access.grant(actor=None, obj=dossier, perms=[VIEW], reason=reasons[1], user=caseworker)

    for user in (fresh(caseworker), loaded_elsewhere(caseworker)):
        scoped = Dossier.objects.visible_to(user, VIEW)
        with CaptureQueriesContext(connection) as queries:
            assert scoped.count() == 4
        assert "dossieragencygrant" in queries[0]["sql"]
        assert '"accesstest_dossier"' not in queries[0]["sql"]  # no read of the table
        assert {d.title for d in scoped} == {"d0", "d1", "d2", "d5"}

        # Any other filter counts the rows themselves.
        narrowed = scoped.filter(title__in=["d0", "d5", "d4"])
        with CaptureQueriesContext(connection) as queries:
            assert narrowed.count() == 2
        assert '"accesstest_dossier"' in queries[0]["sql"]
        assert scoped.exclude(title="d0").count() == 3
        assert Dossier.objects.visible_to(user, VIEW)[:2].count() == 2
        assert scoped.none().count() == 0
        assert Dossier.objects.filter(title="d0").visible_to(user, VIEW).count() == 1
    assert Dossier.objects.visible_to(fresh(police_officer), VIEW).count() == 1  # d4


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
    assert MembershipBackend().get_user(caseworker.pk) is None  # the next request: signed out
    assert set(Dossier.objects.visible_to(loaded_elsewhere(caseworker), VIEW)) == set()


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
    denied = AuditEvent.objects.get(action=AuthAction.ACCESS_DENIED)
    assert denied.actor == caseworker
    assert denied.target_id == str(other_dossier.pk)
    assert denied.detail == {"permission": VIEW}

    # A record that does not exist is also 404, and there is nothing to audit.
    with pytest.raises(Http404):
        access.get_visible_or_404(Dossier.objects.all(), user, VIEW, pk=999_999)
    with pytest.raises(Http404):
        access.get_visible_or_404(Dossier.objects.all(), user, VIEW, pk="not-a-number")
    assert AuditEvent.objects.filter(action=AuthAction.ACCESS_DENIED).count() == 1


@pytest.mark.parametrize(
    "malformed", ["abc", "1.5", "²", "-1", "false", "null", "", 10**30, True, "1 OR 1=1"]
)
def test_a_malformed_id_is_the_same_404_and_never_an_error(dossier, caseworker, malformed):
    # Every door passes raw URL and body values here: "abc" must not reach the database as
    # a 500, and must not be told apart from a hidden or missing record.
    with pytest.raises(Http404):
        access.get_visible_or_404(Dossier.objects.all(), fresh(caseworker), VIEW, pk=malformed)
    assert not AuditEvent.objects.filter(action=AuthAction.ACCESS_DENIED).exists()


def test_the_404_helper_scopes_through_the_models_own_visible_to(caseworker):
    # One scoping entry point per model: a model without ``visible_to`` cannot be read
    # through the helper at all, rather than falling back to something unscoped.
    with pytest.raises(ImproperlyConfigured, match="visible_to"):
        access.get_visible_or_404(Reason.objects.all(), fresh(caseworker), VIEW, pk=1)


def test_a_grant_of_an_undeclared_permission_is_refused(dossier, lead, harbour):
    with pytest.raises(ImproperlyConfigured, match="not a declared permission"):
        access.grant(
            actor=None,
            obj=dossier,
            perms=["accesstest.delete_dossier"],
            reason=lead,
            agency=harbour,
        )
    assert not DossierAgencyGrant.objects.exists()


def test_a_grant_row_of_a_capability_since_removed_is_held_by_nobody(
    dossier, lead, harbour, caseworker, monkeypatch
):
    # Rows written while a capability existed outlive its removal from permissions.py:
    # reading the record must not fail, and the permission is simply not held.
    access.grant(actor=None, obj=dossier, perms=[VIEW, SECRET], reason=lead, agency=harbour)
    trimmed = {p: roles for p, roles in access.capabilities().items() if p != SECRET}
    monkeypatch.setattr(scoping, "capabilities", lambda: trimmed)
    assert access.perms_for(fresh(caseworker), dossier) == {VIEW}


def test_agency_can_ignores_personal_grants(dossier, lead, harbour, caseworker, police_officer):
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, user=police_officer)
    access.grant(actor=None, obj=dossier, perms=[VIEW], reason=lead, agency=harbour)
    assert access.can(fresh(police_officer), VIEW, dossier)
    assert not access.agency_can(fresh(police_officer), VIEW, dossier)
    assert access.agency_can(fresh(caseworker), VIEW, dossier)


def test_superusers_hold_every_permission_in_perms_for_as_in_scope_and_can(dossier):
    admin = User.objects.create_superuser("root", "root@example.org", "x-long-password-1")
    held = access.perms_for(admin, dossier)
    assert {VIEW, SECRET} <= held
    assert held == frozenset(access.capabilities())
    assert access.can(admin, SECRET, dossier)


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


def test_an_undeclared_permission_name_fails_loudly_instead_of_denying():
    # A typo ("casework.view_cases") used to deny quietly; now the first test reaching it fails.
    for check in (
        lambda: access.role_may(Role.AGENCY_ADMIN, "accesstest.delete_dossier"),
        lambda: access.role_may(None, "casework.view_cases"),
    ):
        with pytest.raises(ImproperlyConfigured, match="not a declared permission"):
            check()
    assert access.role_may(Role.AGENCY_ADMIN, MANAGE_AGENCY_USERS)
    assert not access.role_may(None, MANAGE_AGENCY_USERS)


def test_an_undeclared_permission_name_fails_loudly_in_scoping_and_checks(dossier, caseworker):
    for check in (
        lambda: Dossier.objects.visible_to(caseworker, "accesstest.delete_dossier"),
        lambda: access.can(caseworker, "accesstest.delete_dossier", dossier),
        lambda: access.user_may(caseworker, "agencies.manage_users"),
    ):
        with pytest.raises(ImproperlyConfigured):
            check()


def test_capability_matrix_is_a_markdown_table_of_every_declared_permission():
    table = access.capability_matrix_markdown()
    header, rule, *rows = table.splitlines()
    assert header.startswith("| permission | Caseworker | Case manager | Officer")
    assert rule.startswith("| --- |")
    assert "| `accesstest.view_dossier_secret` | ✓ |  |" in table
    assert sum(row.startswith("| `") for row in rows) == len(access.capabilities())
