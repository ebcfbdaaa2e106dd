"""Case documents live outside MEDIA_URL: no web server can serve them directly; every
download goes through an access-checked, audited view. They are encrypted at rest
(``core.storage``)."""

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


private_storage = PrivateStorage()


def get_private_storage() -> EncryptedFileSystemStorage:
    return private_storage  # type: ignore[return-value]
