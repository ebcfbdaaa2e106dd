"""Sealing without UPDATE (issue 16, item 2): the app role holds only INSERT and SELECT on
the audit table, so beat seals rows through ``audit_seal``, a SECURITY DEFINER function
owned by the schema owner that sets the two chain columns of rows not sealed yet and
nothing else (the append-only trigger still checks every row). EXECUTE is granted to the
app role by ``audit.roles.grant_app_role``, to no one else."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION {schema}.audit_seal(ids bigint[], seqs bigint[], hashes text[])
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sealed bigint;
BEGIN
    IF cardinality(ids) <> cardinality(seqs) OR cardinality(ids) <> cardinality(hashes) THEN
        RAISE EXCEPTION 'audit_seal: ids, seqs and hashes differ in length';
    END IF;
    UPDATE {schema}.audit_auditevent AS a
       SET chain_seq = v.seq, chain_hash = v.hash
      FROM unnest(ids, seqs, hashes) AS v(id, seq, hash)
     WHERE a.id = v.id AND a.chain_seq IS NULL;
    GET DIAGNOSTICS sealed = ROW_COUNT;
    RETURN sealed;
END;
$$;
REVOKE ALL ON FUNCTION {schema}.audit_seal(bigint[], bigint[], text[]) FROM PUBLIC;
"""

BACKWARD = "DROP FUNCTION IF EXISTS {schema}.audit_seal(bigint[], bigint[], text[]);"


def _run(sql):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            # The function reads a fixed search_path, so it names the table's schema.
            cursor.execute("SELECT current_schema()")
            schema = connection.ops.quote_name(cursor.fetchone()[0])
            cursor.execute(sql.format(schema=schema))

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
