"""Exported entries never change, whatever writes to the database (ORM, bulk, raw SQL).

On PostgreSQL a trigger refuses any UPDATE or DELETE of an entry that is no longer a draft,
and any INSERT, UPDATE or DELETE of its lines (SQLSTATE 23001: Django raises IntegrityError).
The embedded SQLite mode relies on the model and the services.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION accounting_final_entry_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.state <> 'draft' THEN
        RAISE EXCEPTION 'MEG: l''écriture % est définitive (%) : elle ne peut plus changer',
            OLD.id, OLD.state USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION accounting_final_entry_lines_immutable() RETURNS trigger AS $$
DECLARE
    entry_ids bigint[];
    final_id bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN entry_ids := ARRAY[NEW.entry_id];
    ELSIF TG_OP = 'DELETE' THEN entry_ids := ARRAY[OLD.entry_id];
    ELSE entry_ids := ARRAY[OLD.entry_id, NEW.entry_id];
    END IF;
    SELECT id INTO final_id FROM accounting_entry
        WHERE id = ANY(entry_ids) AND state <> 'draft' LIMIT 1;
    IF final_id IS NOT NULL THEN
        RAISE EXCEPTION 'MEG: les lignes de l''écriture définitive % ne peuvent plus changer',
            final_id USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS final_entry_immutable ON accounting_entry;
CREATE TRIGGER final_entry_immutable BEFORE UPDATE OR DELETE ON accounting_entry
    FOR EACH ROW EXECUTE FUNCTION accounting_final_entry_immutable();
DROP TRIGGER IF EXISTS final_entry_lines_immutable ON accounting_entryline;
CREATE TRIGGER final_entry_lines_immutable BEFORE INSERT OR UPDATE OR DELETE
    ON accounting_entryline
    FOR EACH ROW EXECUTE FUNCTION accounting_final_entry_lines_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS final_entry_immutable ON accounting_entry;
DROP TRIGGER IF EXISTS final_entry_lines_immutable ON accounting_entryline;
DROP FUNCTION IF EXISTS accounting_final_entry_immutable();
DROP FUNCTION IF EXISTS accounting_final_entry_lines_immutable();
"""


def _run(schema_editor, sql):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)  # no parameters: the % in the messages stay as they are


def forwards(apps, schema_editor):
    _run(schema_editor, CREATE)


def backwards(apps, schema_editor):
    _run(schema_editor, DROP)


class Migration(migrations.Migration):
    dependencies = [("accounting", "0003_journal_per_source_inbox_draft")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
