"""MEG in production mode for the tests: an environment of real-looking secrets, and
``manage.py`` run under it in a subprocess (settings are read once per process)."""

import base64
import functools
import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]

# Every secret production requires (README, « Production »).
SECRETS = ("DJANGO_SECRET_KEY", "MEG_FERNET_KEYS", "MEG_OIDC_RSA_PRIVATE_KEY",
           "PROGBAT_CLIENT_SECRET", "PROGBAT_WEBHOOK_SECRET", "LIBEO_OIDC_CLIENT_SECRET")


@functools.cache
def rsa_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def production_env(**overrides):
    """This process's environment, in production mode with freshly generated secrets and the
    partners' production settings; an override of ``None`` removes the variable."""
    env = {name: value for name, value in os.environ.items()
           if name not in SECRETS and not name.startswith(("PROGBAT_", "LIBEO_", "DJANGO_"))}
    env.update({
        "MEG_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "meg.example.fr",
        "DATABASE_URL": "postgres://meg:secret@127.0.0.1:5432/meg",
        "REDIS_URL": "redis://127.0.0.1:6379/1",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "MEG_FERNET_KEYS": Fernet.generate_key().decode(),
        "MEG_OIDC_RSA_PRIVATE_KEY": rsa_pem(),
        "PROGBAT_BASE_URL": "https://api.progbat.example",
        "PROGBAT_CLIENT_ID": "meg-production",
        "PROGBAT_CLIENT_SECRET": secrets.token_urlsafe(32),
        "PROGBAT_WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "LIBEO_BASE_URL": "https://app.libeo.example",
        "LIBEO_OIDC_CLIENT_ID": "libeo-production",
        "LIBEO_OIDC_CLIENT_SECRET": secrets.token_urlsafe(40),
        "LIBEO_OIDC_REDIRECT_URIS": "https://app.libeo.example/connect/meg/callback",
    })
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args, env):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True,
                          text=True, env=env, timeout=120)
