"""Secrets: Threads tokens encrypted at rest with Fernet, with key rotation.

`ENCRYPTION_KEYS` holds one or more comma-separated Fernet keys, newest first: new values are
encrypted with the first, and any of them decrypts (MultiFernet), so a key can be rotated by
prepending a new one and re-encrypting (`rotate`). Without keys outside production, a key derived
from `SECRET_KEY` (or a fixed development key) is used so `dev` works out of the box.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from scheduler.platform.errors import ConfigurationError
from scheduler.platform.settings import Environment, Settings

_DEV_KEY_MATERIAL = b"threads-scheduler development key; never use in production"


def generate_key() -> str:
    """A new random key for ENCRYPTION_KEYS."""
    return Fernet.generate_key().decode()


class TokenCipher:
    """Encrypts and decrypts secrets stored in MongoDB."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigurationError("ENCRYPTION_KEYS is empty.", variables=["ENCRYPTION_KEYS"])
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError:
            raise ConfigurationError(
                "ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64 bytes); "
                "create one with `threads-scheduler generate-key`.",
                variables=["ENCRYPTION_KEYS"],
            ) from None

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCipher:
        if settings.encryption_keys is not None:
            raw = settings.encryption_keys.get_secret_value()
            return cls([k.strip() for k in raw.split(",") if k.strip()])
        if settings.app_env is Environment.PRODUCTION:
            raise ConfigurationError(
                "ENCRYPTION_KEYS must be set in production; create one with "
                "`threads-scheduler generate-key`.",
                variables=["ENCRYPTION_KEYS"],
            )
        material = _DEV_KEY_MATERIAL
        if settings.secret_key is not None:
            material = settings.secret_key.get_secret_value().encode()
        digest = hashlib.sha256(b"token-encryption:" + material).digest()
        return cls([base64.urlsafe_b64encode(digest).decode()])

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, value: str) -> str:
        try:
            return self._fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "A stored token cannot be decrypted with ENCRYPTION_KEYS; keep the old key in the "
                "list (after the new one) until every token has been rotated.",
                variables=["ENCRYPTION_KEYS"],
            ) from None

    def rotate(self, value: str) -> str:
        """Re-encrypt a stored value with the newest key."""
        return self._fernet.rotate(value.encode()).decode()
