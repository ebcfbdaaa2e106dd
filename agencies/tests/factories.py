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


def member(agency: Agency, role: str, **user_fields: Any) -> User:
    """A user of ``agency`` with ``role``, loaded the way a request loads it."""
    membership = MembershipFactory(agency=agency, role=role, user=UserFactory(**user_fields))
    return User.objects.select_related("membership__agency").get(pk=membership.user_id)
