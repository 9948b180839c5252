"""Databases created while the activity log lived in ``firms`` keep their events."""

import importlib

from django.apps import apps
from django.db import connection

from audit.models import AuditEvent
from audit.services import audit_record

take_over = importlib.import_module("audit.migrations.0002_take_over_firms_auditevent")


def test_old_firms_table_is_copied_with_its_ids_then_dropped(firm, company, accountant):
    with connection.cursor() as cursor:
        # The old table as firms' initial migrations used to create it.
        cursor.execute("CREATE TABLE firms_auditevent (LIKE audit_auditevent INCLUDING ALL)")
        cursor.execute(
            "INSERT INTO firms_auditevent (id, firm_id, company_id, actor_id, action, summary,"
            " data, created_at) VALUES (41, %s, %s, %s, 'company.created', 'Ancien', '{}',"
            " now()), (42, %s, NULL, NULL, 'site.created', 'Ancien site', '{\"x\": 1}', now())",
            [firm.pk, company.pk, accountant.pk, firm.pk])
    AuditEvent.objects.all().delete()

    with connection.schema_editor() as schema_editor:
        take_over.take_over_old_table(apps, schema_editor)

    assert "firms_auditevent" not in connection.introspection.table_names()
    events = {e.pk: e for e in AuditEvent.objects.all()}
    assert sorted(events) == [41, 42]
    assert (events[41].company, events[41].actor, events[41].summary) == (
        company, accountant, "Ancien")
    assert events[42].data == {"x": 1}
    # New rows continue after the copied ids.
    assert audit_record(firm=firm, actor=None, action="t", summary="nouveau").pk > 42


def test_fresh_database_has_nothing_to_take_over(firm):
    audit_record(firm=firm, actor=None, action="t", summary="déjà là")
    with connection.schema_editor() as schema_editor:
        take_over.take_over_old_table(apps, schema_editor)
    assert AuditEvent.objects.count() == 1


def test_summaries_are_cut_to_the_column_size(firm):
    event = audit_record(firm=firm, actor=None, action="t", summary="x" * 400)
    assert len(event.summary) == 300 and event.data == {}
