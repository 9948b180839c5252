"""The immutability triggers of 0004, at a cost that does not grow with every draft written.

- Entries: the row trigger now fires only for rows that are no longer drafts
  (``WHEN (OLD.state <> 'draft')``), so that numbering and exporting hundreds of thousands of
  drafts never calls the function; a final entry still refuses any UPDATE or DELETE.
- Lines: one check per statement over its transition tables instead of one query per line
  (journalising a batch inserts 1,500 lines by COPY); a statement touching a line of a final
  entry still fails, with the same SQLSTATE (23001, Django's IntegrityError) and message.

The embedded SQLite mode has no trigger (it relies on the model and the services).
"""

import importlib

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION accounting_final_entry_lines_immutable_stmt() RETURNS trigger AS $$
DECLARE
    final_id bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT e.id INTO final_id FROM accounting_new_lines n
            JOIN accounting_entry e ON e.id = n.entry_id WHERE e.state <> 'draft' LIMIT 1;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT e.id INTO final_id FROM accounting_old_lines o
            JOIN accounting_entry e ON e.id = o.entry_id WHERE e.state <> 'draft' LIMIT 1;
    ELSE
        SELECT e.id INTO final_id FROM (SELECT entry_id FROM accounting_old_lines
                                        UNION SELECT entry_id FROM accounting_new_lines) l
            JOIN accounting_entry e ON e.id = l.entry_id WHERE e.state <> 'draft' LIMIT 1;
    END IF;
    IF final_id IS NOT NULL THEN
        RAISE EXCEPTION 'MEG: les lignes de l''écriture définitive % ne peuvent plus changer',
            final_id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS final_entry_immutable ON accounting_entry;
CREATE TRIGGER final_entry_immutable BEFORE UPDATE OR DELETE ON accounting_entry
    FOR EACH ROW WHEN (OLD.state <> 'draft')
    EXECUTE FUNCTION accounting_final_entry_immutable();

DROP TRIGGER IF EXISTS final_entry_lines_immutable ON accounting_entryline;
CREATE TRIGGER final_entry_lines_immutable_insert AFTER INSERT ON accounting_entryline
    REFERENCING NEW TABLE AS accounting_new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_final_entry_lines_immutable_stmt();
CREATE TRIGGER final_entry_lines_immutable_update AFTER UPDATE ON accounting_entryline
    REFERENCING OLD TABLE AS accounting_old_lines NEW TABLE AS accounting_new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_final_entry_lines_immutable_stmt();
CREATE TRIGGER final_entry_lines_immutable_delete AFTER DELETE ON accounting_entryline
    REFERENCING OLD TABLE AS accounting_old_lines
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_final_entry_lines_immutable_stmt();
"""

DROP = """
DROP TRIGGER IF EXISTS final_entry_lines_immutable_insert ON accounting_entryline;
DROP TRIGGER IF EXISTS final_entry_lines_immutable_update ON accounting_entryline;
DROP TRIGGER IF EXISTS final_entry_lines_immutable_delete ON accounting_entryline;
DROP FUNCTION IF EXISTS accounting_final_entry_lines_immutable_stmt();
"""


def _run(schema_editor, sql):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)  # no parameters: the % in the messages stay as they are


def forwards(apps, schema_editor):
    _run(schema_editor, CREATE)


def backwards(apps, schema_editor):
    _run(schema_editor, DROP)
    initial = importlib.import_module(
        "accounting.migrations.0004_final_entries_immutable_in_database")
    _run(schema_editor, initial.CREATE)  # the row triggers of 0004 again


class Migration(migrations.Migration):
    dependencies = [("accounting", "0008_integrity_check")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
