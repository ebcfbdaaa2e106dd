"""The models under the access engine, each with its two grant tables."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import models

from ..models import AgencyGrant, UserGrant


@dataclass(frozen=True)
class Registration:
    model: type[models.Model]
    agency_grants: type[AgencyGrant]
    user_grants: type[UserGrant]


# The grant tables' column naming the granted record. Each concrete table declares it (a
# ForeignKey to its registered model); the abstract bases the engine is typed against do
# not, so django-stubs, which checks a literal lookup keyword against the abstract base's
# fields, would reject it. The engine's lookups name it through this constant.
OBJECT_ID = "content_object_id"

_registry: dict[type[models.Model], Registration] = {}


def register(
    model: type[models.Model], *, agency_grants: type[AgencyGrant], user_grants: type[UserGrant]
) -> None:
    """Put ``model`` under the engine. Call from the owning app's ``AppConfig.ready``."""
    for table in (agency_grants, user_grants):
        target = table._meta.get_field("content_object").related_model
        if target is not model:
            raise ImproperlyConfigured(
                f"{table.__name__}.content_object must point at {model.__name__}."
            )
    _registry[model] = Registration(model, agency_grants, user_grants)


def registration_for(model: type[models.Model]) -> Registration:
    # Options.concrete_model is None only while the model class is being built.
    concrete = model._meta.concrete_model or model
    try:
        return _registry[concrete]
    except KeyError:
        raise ImproperlyConfigured(
            f"{model.__name__} is not registered with the access engine."
        ) from None


def registrations() -> list[Registration]:
    return list(_registry.values())
