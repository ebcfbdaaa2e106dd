"""Case documents live outside MEDIA_URL: no web server can serve them directly; every
download goes through an access-checked, audited view."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import LazyObject


class PrivateStorage(LazyObject):
    def _setup(self) -> None:
        self._wrapped = FileSystemStorage(
            location=settings.CONCORD_PRIVATE_ROOT,
            base_url=None,
            file_permissions_mode=0o600,
            directory_permissions_mode=0o700,
        )


private_storage = PrivateStorage()


def get_private_storage() -> FileSystemStorage:
    return private_storage  # type: ignore[return-value]
