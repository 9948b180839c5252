"""The activity log is read by the whole firm: its summaries are written in MEG's default
language (French), whatever language the person who acted reads MEG in."""

import ast
from pathlib import Path

from audit.models import AuditEvent
from tests.conftest import client_for

ROOT = Path(__file__).resolve().parents[2]


def english(user):
    client = client_for(user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


def test_an_english_users_actions_are_logged_in_french(company, accountant, firm):
    client = english(accountant)
    response = client.post(f"/entreprise/{company.pk}/parametres/modules/",
                           {"modules": ["achats"]}, follow=True)
    assert "Achats" in response.content.decode() and response["Content-Language"] == "en"
    response = client.post("/cabinet/parametres/sites/", {"name": "Lyon", "city": "Lyon"})
    assert response.status_code in (200, 302)
    summaries = dict(AuditEvent.objects.filter(firm=firm).values_list("action", "summary"))
    assert summaries["module.activated"] == "Module « Achats » activé"
    assert summaries["site.created"] == "Site créé : Lyon"
    # ... and shown as written to the English reader of the log
    log = client.get("/cabinet/journal-activite/").content.decode()
    assert "Site créé : Lyon" in log and "Activity log" in log


def test_a_french_users_actions_are_logged_in_french_too(company, accountant, firm):
    client_for(accountant).post(f"/entreprise/{company.pk}/parametres/modules/",
                                {"modules": ["achats"]})
    assert AuditEvent.objects.get(action="module.activated").summary == (
        "Module « Achats » activé")


def _summary_is_built_at_record_time(call):
    """True when ``summary=`` is an expression evaluated in the caller's language (a gettext
    call formatted, or a variable holding one): the log would speak the actor's language."""
    summary = next((kw.value for kw in call.keywords if kw.arg == "summary"), None)
    return not (summary is None or isinstance(summary, ast.Lambda)
                or (isinstance(summary, ast.Constant) and isinstance(summary.value, str))
                or (isinstance(summary, ast.Call)
                    and getattr(summary.func, "id", "") in ("gettext_lazy", "pgettext_lazy")))


def test_every_summary_in_the_code_is_built_in_french():
    """New code follows the rule: ``summary=lambda: _("…") % {…}`` (or a lazy text), so that
    ``audit_record`` builds it in French (tests/ and the partners' sandboxes left out)."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in (".venv", "tests", "sandboxes", "node_modules", "var"):
            continue
        source = path.read_text()
        if "audit_record(" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if (isinstance(node, ast.Call)
                    and getattr(node.func, "id", getattr(node.func, "attr", "")) == "audit_record"
                    and _summary_is_built_at_record_time(node)):
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == []
