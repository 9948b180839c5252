"""Database helpers."""

from django.db import connection
from django.db.models import F
from django.db.models.functions import Collate


def french_order(field):
    """Sort a text column as a French reader expects (« Électricité » beside « Enduits »).

    PostgreSQL databases often use the C collation, which puts accented capitals last; ICU's
    French collation fixes that. SQLite (embedded mode) keeps its own order.
    """
    if connection.vendor == "postgresql":
        return Collate(field, "fr-x-icu")
    return F(field)
