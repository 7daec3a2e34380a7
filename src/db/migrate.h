/*
 * Schema migrations: schemas/NNNN_name.sql, numbered and forward-only,
 * embedded in the binary at build time. Each applies in its own transaction
 * and is recorded in storyd_schema_migration with the md5 of its text, so a
 * migration edited after it was applied, or a database newer than this
 * binary, is refused instead of silently mixed.
 */
#ifndef SD_DB_MIGRATE_H
#define SD_DB_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct sd_migration {
    int version;
    const char *name; /* "0001_page_events_and_offsets" */
    const char *sql;
    size_t sql_len;
} sd_migration;

/* Generated from schemas/ by cmake/embed_migrations.cmake, sorted by version. */
extern const sd_migration sd_migrations[];
extern const size_t sd_migrations_count;

/* The version this binary's schema ends at. */
int sd_migrate_latest_version(void);

/*
 * Applies every migration the database lacks, on a connection in blocking
 * mode (the CLI's, not the daemon loop's). Holds an advisory lock so that two
 * concurrent runs apply each migration once. *applied receives the number
 * applied. Returns 0 or -1 with err filled.
 */
int sd_migrate_apply(PGconn *conn, int *applied, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The SQL that reads the database's schema version (0 when no migration ran). */
extern const char sd_migrate_version_sql[];

#endif
