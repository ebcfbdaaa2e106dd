"""Two holes an attack found in the chain's write path (issue 16 review):

- the app role could INSERT a row with its chain columns already set: a row placed in the
  chain without the sealer, or one the sealer could never seal (it stopped all sealing);
  a new row now starts unsealed, always;
- ``audit_seal`` wrote whatever places it was given: one call with place 2^63-1 broke
  every later seal. It now takes places only in order, right after the chain's head.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION {schema}.audit_event_starts_unsealed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.chain_seq IS NOT NULL OR NEW.chain_hash IS DISTINCT FROM '' THEN
        RAISE EXCEPTION 'audit events start unsealed: only audit_seal places them in the chain'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_event_starts_unsealed
    BEFORE INSERT ON {schema}.audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION {schema}.audit_event_starts_unsealed();

CREATE OR REPLACE FUNCTION {schema}.audit_seal(ids bigint[], seqs bigint[], hashes text[])
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    head bigint;
    sealed bigint;
BEGIN
    IF cardinality(ids) <> cardinality(seqs) OR cardinality(ids) <> cardinality(hashes) THEN
        RAISE EXCEPTION 'audit_seal: ids, seqs and hashes differ in length';
    END IF;
    -- One sealer at a time (the chain's own lock, audit.chain.SEAL_LOCK, is taken by the
    -- caller); the places must follow the head, one by one.
    SELECT coalesce(max(chain_seq), 0) INTO head FROM {schema}.audit_auditevent;
    IF EXISTS (
        SELECT 1 FROM unnest(seqs) WITH ORDINALITY AS s(seq, n) WHERE s.seq <> head + s.n
    ) THEN
        RAISE EXCEPTION 'audit_seal: places must follow the head (%) one by one', head
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE {schema}.audit_auditevent AS a
       SET chain_seq = v.seq, chain_hash = v.hash
      FROM unnest(ids, seqs, hashes) AS v(id, seq, hash)
     WHERE a.id = v.id AND a.chain_seq IS NULL;
    GET DIAGNOSTICS sealed = ROW_COUNT;
    RETURN sealed;
END;
$$;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_event_starts_unsealed ON {schema}.audit_auditevent;
DROP FUNCTION IF EXISTS {schema}.audit_event_starts_unsealed();
"""


def _run(sql):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            schema = connection.ops.quote_name(cursor.fetchone()[0])
            cursor.execute(sql.format(schema=schema))

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_seal_function")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
