"""The production shape: settings that pass `check --deploy`, and a valid docker-compose."""

from pathlib import Path

import yaml

from tests.security.production import manage, production_env

ROOT = Path(__file__).resolve().parent.parent
# Every secret and partner setting set to a production value (tests/security/production.py).
PRODUCTION_ENV = production_env()


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
