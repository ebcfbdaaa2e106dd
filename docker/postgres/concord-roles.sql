-- Concord's two database roles (README, "Database roles"), created or brought up to date
-- by an administrator (a superuser) connected to Concord's database. Idempotent.
--
-- Set beforehand with set_config(name, value, false):
--   concord.owner_role, concord.app_role          role names (two different ones)
--   concord.owner_password, concord.app_password  passwords ('' leaves a password as it is)
--   concord.owner_createdb                        'on' when the owner runs the test suite
--                                                 (it creates the test database)
--
-- The owner owns the database and everything in its schema (a database made before the
-- roles is handed over); the app role owns nothing, may create nothing, and gets its
-- table privileges from `manage.py migrate` (audit.roles.grant_app_role).
DO $roles$
DECLARE
    owner_role text := current_setting('concord.owner_role');
    app_role text := current_setting('concord.app_role');
    owner_password text := coalesce(current_setting('concord.owner_password', true), '');
    app_password text := coalesce(current_setting('concord.app_password', true), '');
    createdb text := CASE WHEN current_setting('concord.owner_createdb', true) = 'on'
                          THEN 'CREATEDB' ELSE 'NOCREATEDB' END;
    schema_name text := current_schema();
    owner_oid oid;
    item record;
BEGIN
    IF owner_role = '' OR app_role = '' OR owner_role = app_role THEN
        RAISE EXCEPTION 'Concord needs two different roles, the owner and the app';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = owner_role) THEN
        EXECUTE format('CREATE ROLE %I', owner_role);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app_role) THEN
        EXECUTE format('CREATE ROLE %I', app_role);
    END IF;
    EXECUTE format(
        'ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEROLE %s NOREPLICATION NOBYPASSRLS',
        owner_role, createdb);
    EXECUTE format(
        'ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS',
        app_role);
    IF owner_password <> '' THEN
        EXECUTE format('ALTER ROLE %I PASSWORD %L', owner_role, owner_password);
    END IF;
    IF app_password <> '' THEN
        EXECUTE format('ALTER ROLE %I PASSWORD %L', app_role, app_password);
    END IF;
    SELECT oid INTO owner_oid FROM pg_roles WHERE rolname = owner_role;

    -- The database and its schema belong to the owner; only the owner creates in it.
    EXECUTE format('ALTER DATABASE %I OWNER TO %I', current_database(), owner_role);
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO %I', schema_name, owner_role);
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', schema_name);
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), app_role);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', schema_name, app_role);

    -- Whatever the app role owned, here or anywhere, goes to the owner.
    EXECUTE format('REASSIGN OWNED BY %I TO %I', app_role, owner_role);

    -- Tables, views and sequences made before the roles (by this administrator) go to the
    -- owner: tables first, which takes their own sequences with them.
    FOR item IN
        SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = schema_name AND c.relkind IN ('r', 'p', 'v', 'm')
          AND c.relowner <> owner_oid
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I',
            CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              ELSE 'TABLE' END,
            item.name, owner_role);
    END LOOP;
    FOR item IN
        SELECT c.oid::regclass AS name FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = schema_name AND c.relkind = 'S' AND c.relowner <> owner_oid
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', item.name, owner_role);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS name FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = schema_name AND p.proowner <> owner_oid
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.name, owner_role);
    END LOOP;
END
$roles$;
