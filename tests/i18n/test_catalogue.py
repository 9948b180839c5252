"""The English catalogue is complete: `makemessages` finds no string without its English
translation and none marked fuzzy, and the committed .mo says what the .po says.

A string marked for translation later and not translated fails here: run `make messages`,
translate the new entries of locale/en/LC_MESSAGES/django.po, then `make compilemessages`.
"""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES"
# What `make messages` leaves out: the partners' sandboxes (other products), tests and tools.
IGNORE = [".venv", "sandboxes", "tests", "benchmarks", "devtools", "var", "staticfiles"]

pytestmark = pytest.mark.skipif(not shutil.which("msgattrib"),
                                reason="gettext tools (msgattrib, msgfmt) are not installed")


def entries(po_path, *flags):
    """The msgids msgattrib selects with ``flags`` (header left out)."""
    out = subprocess.run(["msgattrib", "--no-wrap", *flags, str(po_path)], check=True,
                         capture_output=True, text=True).stdout
    return [msgid for msgid in re.findall(r'^msgid "(.*)"$', out, flags=re.M) if msgid]


@pytest.fixture
def regenerated(tmp_path, settings, monkeypatch):
    """The committed catalogue brought up to date with the code by `makemessages`, in a copy of
    the sources (makemessages writes to every locale folder it finds, never to ours here)."""
    copy = tmp_path / "meg"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", *IGNORE, "__pycache__",
                                                              "*.mo", "node_modules"))
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["en"], ignore_patterns=IGNORE, no_location=True,
                 no_obsolete=True, verbosity=0)
    return copy / "locale" / "en" / "LC_MESSAGES" / "django.po"


def test_every_string_marked_in_the_code_has_an_english_translation(regenerated):
    assert entries(regenerated, "--untranslated") == []
    assert entries(regenerated, "--only-fuzzy") == []
    assert len(entries(regenerated, "--translated")) > 1000


def test_the_committed_catalogue_is_the_regenerated_one(regenerated):
    """Nothing marked in the code is missing from the committed .po, nothing obsolete stays."""
    assert entries(regenerated) == entries(CATALOGUE / "django.po")


def test_the_compiled_catalogue_matches_its_source():
    with open(CATALOGUE / "django.mo", "rb") as compiled:
        mo = gettext.GNUTranslations(compiled)
    out = subprocess.run(["msgattrib", "--no-wrap", "--translated", str(CATALOGUE / "django.po")],
                         check=True, capture_output=True, text=True).stdout
    singles = re.findall(r'^(?:msgctxt "(.*)"\n)?msgid "(.+)"\nmsgstr "(.*)"$', out, flags=re.M)
    assert len(singles) > 1000
    unescape = lambda s: s.encode().decode("unicode_escape").encode("latin-1").decode()  # noqa: E731
    for context, msgid, msgstr in singles:
        found = (mo.pgettext(unescape(context), unescape(msgid)) if context
                 else mo.gettext(unescape(msgid)))
        assert found == unescape(msgstr), f"{msgid!r}: the .mo is stale, run make compilemessages"
