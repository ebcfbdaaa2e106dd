"""A file storage that encrypts what it writes (``core.crypto``, AES-256-GCM under the
newest field key) and decrypts what it opens. Files are small enough (the upload limit) to
seal whole; a changed byte fails to open instead of serving other content."""

from __future__ import annotations

import io
import os
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from .crypto import keyring


class EncryptedFileSystemStorage(FileSystemStorage):
    def _save(self, name: str, content: Any) -> str:
        content.seek(0)
        plaintext = b"".join(content.chunks())
        return super()._save(name, ContentFile(keyring().encrypt_bytes(plaintext)))

    def _open(self, name: str, mode: str = "rb") -> File:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Encrypted files are written whole, through save().")
        with super()._open(name, "rb") as stored:
            plaintext = keyring().decrypt_bytes(stored.read())
        return File(io.BytesIO(plaintext), name=name)

    def read_raw(self, name: str) -> bytes:
        with super()._open(name, "rb") as stored:
            return stored.read()

    def write_raw(self, name: str, data: bytes) -> None:
        """Replace a stored file's bytes (key rotation): a new file, then an atomic rename."""
        path = self.path(name)
        temporary = f"{path}.rotating"
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, self.file_permissions_mode or 0o600)
        os.replace(temporary, path)
