#include "db/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* An arbitrary constant identifying storyd's migration lock among advisory locks. */
#define MIGRATE_LOCK_KEY "7310356017101"

const char sd_migrate_version_sql[] =
    "SELECT coalesce(max(version), 0) FROM storyd_schema_migration";

static const char create_table_sql[] = "CREATE TABLE IF NOT EXISTS storyd_schema_migration ("
                                       " version integer PRIMARY KEY,"
                                       " name text NOT NULL,"
                                       " checksum text NOT NULL,"
                                       " applied_at timestamptz NOT NULL DEFAULT now())";

int sd_migrate_latest_version(void)
{
    return sd_migrations_count ? sd_migrations[sd_migrations_count - 1].version : 0;
}

/* Runs one command; returns 0 when its status is the expected one. */
static int exec_expect(PGconn *conn, const char *sql, ExecStatusType expected, char *err,
                       size_t errlen)
{
    PGresult *res = PQexec(conn, sql);
    int rc = 0;
    if (PQresultStatus(res) != expected) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(res));
        rc = -1;
    }
    PQclear(res);
    return rc;
}

static const sd_migration *find_migration(int version)
{
    for (size_t i = 0; i < sd_migrations_count; i++) {
        if (sd_migrations[i].version == version)
            return &sd_migrations[i];
    }
    return NULL;
}

/* Checks applied migrations against the embedded ones; returns 0 or -1. */
static int verify_applied(PGconn *conn, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, "SELECT version, name, checksum FROM storyd_schema_migration "
                                 "ORDER BY version");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "reading storyd_schema_migration: %s", PQresultErrorMessage(res));
        PQclear(res);
        return -1;
    }
    int rc = 0;
    for (int row = 0; row < PQntuples(res) && rc == 0; row++) {
        int version = atoi(PQgetvalue(res, row, 0));
        const sd_migration *m = find_migration(version);
        if (!m) {
            snprintf(err, errlen,
                     "the database has migration %04d (%s), which this storyd does not know "
                     "(it ends at %04d): refusing to run against a newer schema",
                     version, PQgetvalue(res, row, 1), sd_migrate_latest_version());
            rc = -1;
            break;
        }
        const char *params[1] = {m->sql};
        PGresult *sum = PQexecParams(conn, "SELECT md5($1)", 1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(sum) != PGRES_TUPLES_OK) {
            snprintf(err, errlen, "md5: %s", PQresultErrorMessage(sum));
            rc = -1;
        } else if (strcmp(PQgetvalue(sum, 0, 0), PQgetvalue(res, row, 2)) != 0) {
            snprintf(err, errlen,
                     "migration %s was changed after it was applied (checksum differs): "
                     "migrations are forward-only, add a new one instead",
                     m->name);
            rc = -1;
        }
        PQclear(sum);
    }
    PQclear(res);
    return rc;
}

static int apply_one(PGconn *conn, const sd_migration *m, char *err, size_t errlen)
{
    char inner[1024];
    if (exec_expect(conn, "BEGIN", PGRES_COMMAND_OK, inner, sizeof(inner)) != 0)
        goto fail;
    PGresult *res = PQexec(conn, m->sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(inner, sizeof(inner), "%s", PQresultErrorMessage(res));
        PQclear(res);
        goto rollback;
    }
    PQclear(res);
    char version[16];
    snprintf(version, sizeof(version), "%d", m->version);
    const char *params[3] = {version, m->name, m->sql};
    res = PQexecParams(conn,
                       "INSERT INTO storyd_schema_migration (version, name, checksum) "
                       "VALUES ($1, $2, md5($3))",
                       3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(inner, sizeof(inner), "%s", PQresultErrorMessage(res));
        PQclear(res);
        goto rollback;
    }
    PQclear(res);
    if (exec_expect(conn, "COMMIT", PGRES_COMMAND_OK, inner, sizeof(inner)) != 0)
        goto fail;
    return 0;

rollback:
    PQclear(PQexec(conn, "ROLLBACK"));
fail:
    snprintf(err, errlen, "schemas/%s.sql: %s", m->name, inner);
    return -1;
}

int sd_migrate_apply(PGconn *conn, int *applied, char *err, size_t errlen)
{
    *applied = 0;
    if (exec_expect(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", PGRES_TUPLES_OK, err,
                    errlen) != 0)
        return -1;
    int rc = -1;
    char inner[1024];
    if (exec_expect(conn, create_table_sql, PGRES_COMMAND_OK, inner, sizeof(inner)) != 0) {
        snprintf(err, errlen, "creating storyd_schema_migration: %s", inner);
        goto unlock;
    }
    if (verify_applied(conn, err, errlen) != 0)
        goto unlock;
    PGresult *res = PQexec(conn, sd_migrate_version_sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "reading the schema version: %s", PQresultErrorMessage(res));
        PQclear(res);
        goto unlock;
    }
    int current = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    for (size_t i = 0; i < sd_migrations_count; i++) {
        if (sd_migrations[i].version <= current)
            continue;
        sd_log_info("migrate", "applying %s", sd_migrations[i].name);
        if (apply_one(conn, &sd_migrations[i], err, errlen) != 0)
            goto unlock;
        (*applied)++;
    }
    rc = 0;
unlock:
    PQclear(PQexec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
    return rc;
}
