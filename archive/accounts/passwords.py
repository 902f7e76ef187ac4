"""Passwords as scrypt hashes (memory-hard, from `cryptography`): one string holds the parameters, salt and hash."""

from __future__ import annotations

import base64
import binascii
import hmac
import os

from archive.errors import InputError

# 2**15 × 8 × 128 bytes = 32 MiB per check: costly to guess in bulk, about 0.1 s for one login.
N, R, P = 2**15, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
SCHEME = "scrypt"
MIN_LENGTH = 10
# Bounds of a stored hash's parameters: a hash written by hand with n = 2**30 must not take the server's memory.
_MAX_N, _MAX_R, _MAX_P = 2**20, 16, 4


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=HASH_BYTES, n=n, r=r, p=p).derive(password.encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """``scrypt$32768$8$1$<salt b64>$<hash b64>`` with a fresh 16-byte random salt."""
    salt = os.urandom(SALT_BYTES)
    return "$".join((SCHEME, str(N), str(R), str(P), _b64(salt), _b64(_derive(password, salt, N, R, P))))


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` gives ``stored``; compared in constant time; False for any malformed stored value."""
    try:
        scheme, n_text, r_text, p_text, salt_text, hash_text = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt = base64.b64decode(salt_text, validate=True)
        expected = base64.b64decode(hash_text, validate=True)
    except (ValueError, binascii.Error, AttributeError):
        return False
    if (scheme != SCHEME or not 2 <= n <= _MAX_N or n & (n - 1) or not 1 <= r <= _MAX_R or not 1 <= p <= _MAX_P
            or len(salt) < 8 or len(expected) != HASH_BYTES):
        return False
    try:
        actual = _derive(password, salt, n, r, p)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def check_strength(password: str) -> None:
    """Refuse a password too easy to guess, in one line naming the rule."""
    if len(password) < MIN_LENGTH:
        raise InputError("password", "password", f"至少 {MIN_LENGTH} 个字符 (at least {MIN_LENGTH} characters)")
    if len(set(password)) == 1:
        raise InputError("password", "password", "不能全是同一个字符 (not one character repeated)")
    if password != password.strip():
        raise InputError("password", "password", "不能以空格开头或结尾 (no leading or trailing spaces)")


# A login for an unknown user is checked against this, so it costs what a known user's check costs.
DUMMY_HASH = hash_password(base64.b64encode(os.urandom(18)).decode("ascii"))
