"""Tenant key secrets encrypted at rest (copilot/tenant_keys.py): Fernet (AES-128-CBC + HMAC-SHA256, from
`cryptography`) under a key-encryption key (KEK), so a database dump alone cannot mint a tenant's tokens.

The KEK is COPILOT_KEY_ENCRYPTION_KEY (any long random string); each of COPILOT_PREVIOUS_KEY_ENCRYPTION_KEYS
still decrypts, and rows encrypted under one are re-encrypted under the current KEK at start-up (rotation:
make the new KEK current, list the old one, restart every worker, then drop it). Unset, the KEK is derived from
COPILOT_SECRET — then rotating COPILOT_SECRET needs the old secret in COPILOT_PREVIOUS_SECRETS until a restart
has re-encrypted the rows. Every KEK string becomes a Fernet key through HKDF-SHA256. A stored value is
`fernet:<token>`; a value without the prefix is a plaintext row from before (migration 0010) and is encrypted
at start-up.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from copilot.errors import CopilotError, ErrorCode

PREFIX = "fernet:"
_INFO = b"copilot tenant key encryption"


def _fernet(kek: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(kek.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


class KeyWrap:
    """Encrypts with the current KEK; decrypts with it or any previous one."""

    def __init__(self, current: str, previous: Sequence[str] = ()) -> None:
        self._current = _fernet(current)
        self._all = MultiFernet([self._current, *(_fernet(k) for k in previous if k)])

    def seal(self, secret: str) -> str:
        return PREFIX + self._current.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        """The secret of a stored value (a plaintext row is returned as is); CONFIGURATION if no KEK opens it."""
        if not is_sealed(stored):
            return stored
        try:
            return self._all.decrypt(stored.removeprefix(PREFIX).encode()).decode()
        except InvalidToken as exc:
            raise wrong_kek() from exc

    def reseal(self, stored: str) -> str | None:
        """The value encrypted under the current KEK, or None if it already is (CONFIGURATION if no KEK opens it)."""
        if is_sealed(stored):
            try:
                self._current.decrypt(stored.removeprefix(PREFIX).encode())
                return None
            except InvalidToken:
                pass
        return self.seal(self.open(stored))


def key_wrap(
    kek: str | None, previous_keks: Sequence[str], secret: str, previous_secrets: Sequence[str]
) -> KeyWrap:
    """COPILOT_KEY_ENCRYPTION_KEY (+ previous), else a KEK derived from COPILOT_SECRET (+ previous secrets)."""
    if kek:
        return KeyWrap(kek, previous_keks)
    return KeyWrap(secret, [*previous_keks, *previous_secrets])


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def wrong_kek() -> CopilotError:
    return CopilotError(
        ErrorCode.CONFIGURATION,
        "A managed tenant key cannot be decrypted with this server's key-encryption key: set "
        "COPILOT_KEY_ENCRYPTION_KEY to the key its rows were written with (or list that key in "
        "COPILOT_PREVIOUS_KEY_ENCRYPTION_KEYS); unset, the key is derived from COPILOT_SECRET, so an old "
        "secret belongs in COPILOT_PREVIOUS_SECRETS.",
    )
