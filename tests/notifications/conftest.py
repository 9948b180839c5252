import pytest

from tests.accounting.conftest import linked_company, post_webhook  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def emails_sent_on_commit(monkeypatch):
    """E-mails leave after their transaction commits; tests run inside one that never does,
    so the callbacks run at once here (as they would after the commit)."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())
