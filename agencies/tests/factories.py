from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.models import Group

from agencies.models import Agency, AgencyKind, Membership, Role, User

PASSWORD = "a-long-test-password-1"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")
    kind = AgencyKind.CHARITY
    country = "GB"
    region = "Northshire"
    is_first_responder = True
    group = factory.LazyAttribute(lambda o: Group.objects.create(name=f"agency:{o.name}"))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")

    @factory.post_generation
    def password(obj: User, create: bool, extracted: str | None, **kwargs: Any) -> None:
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    agency = factory.SubFactory(AgencyFactory)
    role = Role.CASEWORKER

    @classmethod
    def _create(cls, model_class: type[Membership], *args: Any, **kwargs: Any) -> Membership:
        # A test's membership must fit its agency, as the services require of everyone's:
        # a test world the product cannot make proves nothing.
        membership = model_class(*args, **kwargs)
        membership.clean()
        membership.save()
        return membership


# Every test user has an authenticator app with this key. Its window is wider
# than a real device's (3 steps each way) so a test may sign one person in several times
# within a few seconds: each code is still accepted once.
TEST_TOTP_KEY = "3132333435363738393031323334353637383930"


def member(agency: Agency, role: str, **user_fields: Any) -> User:
    """A user of ``agency`` with ``role`` and an authenticator app, loaded the way a
    request loads it."""
    membership = MembershipFactory(agency=agency, role=role, user=UserFactory(**user_fields))
    give_authenticator(membership.user)
    return User.objects.select_related("membership__agency").get(pk=membership.user_id)


def give_authenticator(user: User) -> Any:
    from agencies.second_factor import totp_device_with_key

    return totp_device_with_key(user, key_hex=TEST_TOTP_KEY, tolerance=3)


def code_for(user: User) -> str:
    """The code the user's authenticator app shows now (one not used yet)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from agencies.second_factor import current_code

    return current_code(TOTPDevice.objects.filter(user=user, confirmed=True).first())


def verify_session(client: Any, user: User) -> Any:
    """Mark ``client``'s signed-in session as having passed the second step just now, as
    ``force_login`` marks it signed in (the tests' shortcut past both steps)."""
    import time

    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from agencies.second_factor import VERIFIED_AT

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or give_authenticator(
        user
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[VERIFIED_AT] = int(time.time())
    session.save()
    return client


def sign_in(client: Any, user: User, password: str = PASSWORD) -> Any:
    """Sign in through the pages, both steps: the password, then the app's code."""
    response = client.post("/accounts/login/", {"username": user.username, "password": password})
    assert response.status_code == 302, response.content
    return client.post("/accounts/two-factor/", {"code": code_for(user)})
