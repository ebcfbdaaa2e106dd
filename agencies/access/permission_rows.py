"""Permission rows and grant rows: the ids of permissions, remembered per process, and
which grant rows are in force."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.signals import post_migrate

_permission_ids: dict[str, int] = {}


def _clear_permission_cache(**kwargs: Any) -> None:
    # Ids change when a test database is flushed and permissions are recreated.
    _permission_ids.clear()


post_migrate.connect(_clear_permission_cache, dispatch_uid="access_clear_permission_cache")


def split_permission(perm: str) -> tuple[str, str]:
    """``"app_label.codename"`` as its two parts."""
    app_label, _, codename = perm.partition(".")
    if not codename:
        raise ValueError(f"Permissions are named 'app_label.codename', not {perm!r}")
    return app_label, codename


def permission_id(perm: str, model: type[models.Model]) -> int:
    """The id of ``perm``, which must be a permission of ``model`` (guardian's rule)."""
    key = f"{model._meta.label_lower}:{perm}"
    if key not in _permission_ids:
        app_label, codename = split_permission(perm)
        content_type = ContentType.objects.get_for_model(model)
        try:
            _permission_ids[key] = (
                Permission.objects.only("pk")
                .get(
                    content_type=content_type, codename=codename, content_type__app_label=app_label
                )
                .pk
            )
        except Permission.DoesNotExist:
            raise ImproperlyConfigured(f"{perm} is not a permission of {model.__name__}") from None
    return _permission_ids[key]


def in_force(now: datetime) -> models.Q:
    """The grant rows that have not expired at ``now``."""
    return models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
