"""The production shape: settings that pass `check --deploy`, and a valid docker-compose."""

import os
import subprocess
import sys
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent


def _rsa_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


PRODUCTION_ENV = {
    "MEG_OIDC_RSA_PRIVATE_KEY": _rsa_pem(),
    "MEG_ENV": "production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-for-the-test-" + "y" * 20,
    "DJANGO_ALLOWED_HOSTS": "meg.example.fr",
    "DATABASE_URL": "postgres://meg:secret@127.0.0.1:5432/meg",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "MEG_FERNET_KEYS": "xL5CeGxvRbIaOB1W3Km4Nt0cqEyZUNnJmq0e5W0nT1Y=",
}


def manage(*args, env):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


def test_production_settings_pass_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": ""}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_docker_compose_describes_db_redis_web_worker_and_beat():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    assert services["db"]["image"].startswith("postgres")
    assert services["redis"]["image"].startswith("redis")
    assert "gunicorn meg.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A meg worker")
    assert services["beat"]["command"].startswith("celery -A meg beat")
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["MEG_ENV"] == "production"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["CELERY_BROKER_URL"].startswith("redis://")
        assert set(services[name]["depends_on"]) == {"db", "redis"}
    assert (ROOT / services["web"]["build"] / "Dockerfile").exists()


def test_production_refuses_to_run_without_encryption_keys():
    env = {**PRODUCTION_ENV, "MEG_FERNET_KEYS": ""}
    result = manage("check", "--deploy", env=env)
    assert result.returncode != 0
    assert "meg.E001" in result.stdout + result.stderr


def test_production_refuses_to_run_without_an_openid_signing_key():
    result = manage("check", "--deploy", env={**PRODUCTION_ENV, "MEG_OIDC_RSA_PRIVATE_KEY": ""})
    assert result.returncode != 0
    assert "meg.E002" in result.stdout + result.stderr
