-- Least privilege for the daemon. `storyd migrate` runs as the owner of storyd's tables; with
-- storyd.daemon_role set it then calls this function, so that the role `storyd run` logs in as
-- may read and write the rows of storyd's tables and do nothing else: no DDL, no TRUNCATE, no
-- ownership, and only SELECT on the migration history. It runs again after every migrate, so a
-- table a later migration adds is granted too. The role name is quoted with format(%I).
CREATE FUNCTION storyd_grant_daemon(p_role name) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    rel record;
    granted integer := 0;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), p_role);
    FOR rel IN
        SELECT c.relname, c.relkind
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema()
           AND c.relname LIKE 'storyd\_%'
           AND c.relkind IN ('r', 'S')
    LOOP
        IF rel.relkind = 'S' THEN
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %I TO %I', rel.relname, p_role);
        ELSIF rel.relname = 'storyd_schema_migration' THEN
            EXECUTE format('GRANT SELECT ON TABLE %I TO %I', rel.relname, p_role);
        ELSE
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %I TO %I',
                           rel.relname, p_role);
        END IF;
        granted := granted + 1;
    END LOOP;
    RETURN granted;
END
$$;
