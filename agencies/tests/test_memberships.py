"""Agency admins manage their own agency's users: the service rules."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from knox.models import AuthToken

from agencies import services
from agencies.audit_actions import AgencyAction
from agencies.models import AgencyKind, Membership, Role, User
from agencies.tests.factories import AgencyFactory
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_admin_invites_a_user_who_gets_a_link_and_no_usable_password(
    agency_admin, harbour, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.membership_create(
            actor=agency_admin,
            agency=harbour,
            username="dora",
            email="dora@example.org",
            role=Role.CASEWORKER,
        )

    assert membership.agency == harbour and membership.role == Role.CASEWORKER
    assert not membership.user.has_usable_password()
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["dora@example.org"]
    assert "/accounts/reset/" in email.body and "dora" in email.body
    event = AuditEvent.objects.get(action=AgencyAction.MEMBERSHIP_CREATED)
    assert event.actor == agency_admin and event.actor_agency == harbour
    assert event.detail["invited"] is True


def test_no_email_is_sent_when_the_transaction_rolls_back(
    agency_admin, harbour, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.membership_create(
            actor=agency_admin,
            agency=harbour,
            username="erin",
            email="erin@example.org",
            role=Role.CASEWORKER,
        )
    assert len(callbacks) == 1  # queued for commit, not sent inside the transaction
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        (AgencyKind.CHARITY, Role.OFFICER),
        (AgencyKind.POLICE, Role.PROSECUTOR),
        (AgencyKind.HEALTH, Role.PROSECUTOR),
    ],
)
def test_a_role_must_fit_the_agency_kind(kind, role):
    agency = AgencyFactory(kind=kind)
    with pytest.raises(ValidationError) as error:
        services.membership_create(
            actor=None, agency=agency, username="x", email="x@example.org", role=role
        )
    assert "role" in error.value.message_dict
    assert "cannot be held" in error.value.message_dict["role"][0]


@pytest.mark.parametrize(
    "kind",
    [
        AgencyKind.POLICE,
        AgencyKind.LABOUR_INSPECTORATE,
        AgencyKind.NATIONAL_AGENCY,
        AgencyKind.IMMIGRATION,
    ],
)
def test_officers_belong_in_enforcement_agencies(kind):
    agency = AgencyFactory(kind=kind)
    membership = services.membership_create(
        actor=None,
        agency=agency,
        username="o",
        email="o@example.org",
        role=Role.OFFICER,
        password="a-long-password-9",
    )
    assert membership.user.check_password("a-long-password-9")


def test_only_an_admin_of_the_same_agency_manages_its_users(
    harbour, caseworker, other_agency_admin
):
    with pytest.raises(PermissionDenied):
        services.membership_create(
            actor=caseworker,
            agency=harbour,
            username="x",
            email="x@example.org",
            role=Role.CASEWORKER,
        )
    with pytest.raises(PermissionDenied, match="your own agency"):
        services.membership_create(
            actor=other_agency_admin,
            agency=harbour,
            username="x",
            email="x@example.org",
            role=Role.CASEWORKER,
        )
    with pytest.raises(PermissionDenied):
        services.membership_deactivate(actor=other_agency_admin, membership=caseworker.membership)
    assert not User.objects.filter(username="x").exists()


def test_bad_input_is_a_field_error(agency_admin, harbour, caseworker):
    with pytest.raises(ValidationError) as error:
        services.membership_create(
            actor=agency_admin,
            agency=harbour,
            username="ALICE",
            email="not-an-email",
            role=Role.CASEWORKER,
        )
    assert set(error.value.message_dict) == {"username", "email"}
    with pytest.raises(ValidationError) as error:
        services.membership_create(
            actor=agency_admin,
            agency=harbour,
            username="new",
            email="n@example.org",
            role=Role.CASEWORKER,
            password="short",
        )
    assert "password" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.membership_create(
            actor=agency_admin, agency=harbour, username="new", email="n@example.org", role="wizard"
        )


def test_role_change_is_audited_and_not_for_oneself(agency_admin, caseworker):
    services.membership_change_role(
        actor=agency_admin, membership=caseworker.membership, role=Role.CASE_MANAGER
    )
    assert Membership.objects.get(user=caseworker).role == Role.CASE_MANAGER
    event = AuditEvent.objects.get(action=AgencyAction.MEMBERSHIP_ROLE_CHANGED)
    assert event.detail == {"user_id": caseworker.pk, "from": "caseworker", "to": "case_manager"}

    with pytest.raises(ValidationError, match="your own role"):
        services.membership_change_role(
            actor=agency_admin, membership=agency_admin.membership, role=Role.CASEWORKER
        )


def test_deactivation_ends_tokens_and_keeps_history(agency_admin, caseworker):
    AuthToken.objects.create(caseworker)
    services.membership_deactivate(actor=agency_admin, membership=caseworker.membership)

    caseworker.refresh_from_db()
    assert not caseworker.is_active
    assert not AuthToken.objects.filter(user=caseworker).exists()
    assert AuditEvent.objects.filter(
        action=AgencyAction.MEMBERSHIP_DEACTIVATED, detail__user_id=caseworker.pk
    ).exists()

    with pytest.raises(ValidationError, match="your own account"):
        services.membership_deactivate(actor=agency_admin, membership=agency_admin.membership)

    services.membership_reactivate(actor=agency_admin, membership=caseworker.membership)
    caseworker.refresh_from_db()
    assert caseworker.is_active


def test_agency_creation_makes_its_grant_group_and_is_for_system_admins(caseworker):
    agency = services.agency_create(
        actor=None, name="New Charity", kind=AgencyKind.CHARITY, country="GB"
    )
    assert agency.group.name == "agency:New Charity"
    with pytest.raises(PermissionDenied):
        services.agency_create(
            actor=caseworker, name="Another", kind=AgencyKind.CHARITY, country="GB"
        )
    with pytest.raises(ValidationError):
        services.agency_create(
            actor=None, name="Bad Country", kind=AgencyKind.CHARITY, country="gbr"
        )


def test_superusers_attach_existing_accounts_in_the_admin(admin_client, harbour, police):
    user = User.objects.create_user("loner", "loner@example.org", "a-long-password-1")
    response = admin_client.post(
        "/admin/agencies/membership/add/",
        {"user": user.pk, "agency": harbour.pk, "role": "officer"},
    )
    assert response.status_code == 200  # the form says an officer cannot be in a charity
    assert b"cannot be held" in response.content
    response = admin_client.post(
        "/admin/agencies/membership/add/", {"user": user.pk, "agency": police.pk, "role": "officer"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=user)
    assert membership.agency == police
    assert AuditEvent.objects.filter(
        action=AgencyAction.MEMBERSHIP_CREATED, detail__user_id=user.pk
    ).exists()

    response = admin_client.post(
        f"/admin/agencies/membership/{membership.pk}/change/", {"role": "analyst"}
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=user).role == "analyst"
    assert AuditEvent.objects.filter(action=AgencyAction.MEMBERSHIP_ROLE_CHANGED).exists()
