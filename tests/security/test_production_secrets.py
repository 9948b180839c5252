"""Finding 1: production refuses its development secrets.

With ``MEG_ENV=production`` every secret comes from the environment: MEG refuses to start (a
system check error, so ``check``, ``runserver``, ``migrate`` fail, and gunicorn/Celery refuse
too) when one is missing or is one of the public development values.
"""

import re

import pytest
import yaml
from django.conf import settings

from devtools.procs import BIN, Child, free_port, wait_until
from tests.security.production import ROOT, SECRETS, manage, production_env


def development_value(name):
    if name == "MEG_OIDC_RSA_PRIVATE_KEY":
        return settings.MEG_OIDC_DEVELOPMENT_KEY_PATH.read_text()
    return settings.MEG_DEVELOPMENT_SECRETS[name]


def check(env, *args):
    result = manage("check", *args, env=env)
    return result.returncode, result.stdout + result.stderr


def test_real_values_pass_check_deploy():
    returncode, output = check(production_env(), "--deploy", "--fail-level", "WARNING")
    assert returncode == 0, output


@pytest.mark.parametrize("name", SECRETS)
def test_a_missing_secret_stops_production(name):
    returncode, output = check(production_env(**{name: None}))
    assert returncode != 0
    assert re.search(rf"\(meg\.E00[123]\) {name} is not set", output), output


@pytest.mark.parametrize("name", SECRETS)
def test_a_development_secret_stops_production(name):
    returncode, output = check(production_env(**{name: development_value(name)}))
    assert returncode != 0
    assert f"(meg.E004) {name} is a development value" in output, output


def test_the_webhook_secret_of_the_readme_is_refused_by_check_deploy():
    """The finding exactly: the README's ``whsec_…`` was accepted, `check --deploy` was clean."""
    readme_secret = re.search(r"whsec_[A-Za-z0-9+/=]+",
                              (ROOT / "meg" / "settings.py").read_text())[0]
    returncode, output = check(production_env(PROGBAT_WEBHOOK_SECRET=readme_secret), "--deploy")
    assert returncode != 0
    assert "PROGBAT_WEBHOOK_SECRET is a development value" in output


def test_an_old_development_fernet_key_among_others_is_refused():
    keys = production_env()["MEG_FERNET_KEYS"] + "," + development_value("MEG_FERNET_KEYS")
    returncode, output = check(production_env(MEG_FERNET_KEYS=keys))
    assert returncode != 0
    assert "(meg.E004) MEG_FERNET_KEYS" in output


@pytest.mark.parametrize(("name", "value"), [
    ("MEG_FERNET_KEYS", "not-a-fernet-key"),
    ("PROGBAT_WEBHOOK_SECRET", "whsec_c2hvcnQ="),
    ("PROGBAT_WEBHOOK_SECRET", "whsec_not base64!"),
    ("MEG_OIDC_RSA_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"),
])
def test_a_secret_of_the_wrong_shape_stops_production(name, value):
    returncode, output = check(production_env(**{name: value}))
    assert returncode != 0
    assert f"(meg.E005) {name}" in output, output


def test_development_mode_keeps_its_defaults():
    env = production_env(MEG_ENV="development", DJANGO_ALLOWED_HOSTS=None,
                         **dict.fromkeys(SECRETS))
    returncode, output = check(env)
    assert returncode == 0, output


def test_partner_settings_left_at_the_sandboxes_warn_on_check_deploy():
    env = production_env(PROGBAT_BASE_URL=None, LIBEO_OIDC_CLIENT_ID=None)
    returncode, output = check(env, "--deploy", "--fail-level", "WARNING")
    assert returncode != 0
    assert "(meg.W001) PROGBAT_BASE_URL" in output
    assert "(meg.W001) LIBEO_OIDC_CLIENT_ID" in output


def test_gunicorn_refuses_to_serve_with_a_development_secret(tmp_path):
    """gunicorn runs no system checks: meg.wsgi refuses itself, and no worker boots."""
    env = production_env(PROGBAT_WEBHOOK_SECRET=development_value("PROGBAT_WEBHOOK_SECRET"),
                         DJANGO_ALLOWED_HOSTS="127.0.0.1")
    port = free_port()
    command = [str(BIN / "gunicorn"), "meg.wsgi:application", "--bind", f"127.0.0.1:{port}",
               "--no-control-socket"]
    with Child("gunicorn", command, env=env, log_path=tmp_path / "gunicorn.log") as web:
        wait_until(lambda: not web.alive(), timeout=60, message=web.tail)
        assert web.process.returncode != 0
        assert "PROGBAT_WEBHOOK_SECRET is a development value" in web.log()


def test_a_celery_worker_refuses_to_start_with_a_missing_secret(tmp_path):
    env = production_env(LIBEO_OIDC_CLIENT_SECRET=None,
                         CELERY_BROKER_URL="redis://127.0.0.1:9/0")  # never reached
    with Child("celery", [str(BIN / "celery"), "-A", "meg", "worker", "--pool", "solo"],
               env=env, log_path=tmp_path / "celery.log") as worker:
        wait_until(lambda: not worker.alive(), timeout=60, message=worker.tail)
        assert worker.process.returncode != 0
        assert "LIBEO_OIDC_CLIENT_SECRET is not set" in worker.log()


def test_docker_compose_requires_every_secret():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in ("web", "worker", "beat"):
        environment = compose["services"][service]["environment"]
        for name in SECRETS:
            assert environment[name] == f"${{{name}:?set {name}}}", (service, name)
        assert ":?set POSTGRES_PASSWORD}" in environment["DATABASE_URL"]
    assert compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?")
