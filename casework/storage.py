"""Case documents live outside MEDIA_URL: no web server can serve them directly; every
download goes through an access-checked, audited view. They are encrypted at rest
(``core.storage``)."""

from typing import cast

from django.conf import settings
from django.utils.functional import LazyObject

from core.storage import EncryptedFileSystemStorage


class PrivateStorage(LazyObject):
    def _setup(self) -> None:
        self._wrapped = EncryptedFileSystemStorage(
            location=settings.CONCORD_PRIVATE_ROOT,
            base_url=None,
            file_permissions_mode=0o600,
            directory_permissions_mode=0o700,
        )


# The lazy proxy stands in for the storage it builds on first use (settings are read then),
# as Django's own default_storage does.
private_storage = cast(EncryptedFileSystemStorage, PrivateStorage())


def get_private_storage() -> EncryptedFileSystemStorage:
    return private_storage
