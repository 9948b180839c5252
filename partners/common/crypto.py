"""Secrets at rest: Fernet encryption with keys from the environment, rotation included.

``MEG_FERNET_KEYS`` lists keys, newest first: the first encrypts, all decrypt, so a new key is
put in front, ``manage.py rotate_secrets`` re-encrypts every row, then the old key is dropped.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys):
    return MultiFernet([Fernet(key) for key in keys])


def fernet():
    return _fernet(tuple(settings.MEG_FERNET_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise InvalidToken("A secret could not be decrypted: is MEG_FERNET_KEYS right?") from None


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored Fernet-encrypted; Python code sees the plaintext."""

    description = "Text encrypted at rest with Fernet"

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)
