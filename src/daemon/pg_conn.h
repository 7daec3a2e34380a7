/*
 * One PostgreSQL connection driven by the libuv loop: non-blocking connect,
 * and jobs made of steps (queries with parameters, COPY FROM STDIN, pipelined
 * executions of a prepared statement) run one after the other on it. Nothing
 * here blocks the loop: every wait is a uv_poll on the connection's socket,
 * for readable and, while libpq has unsent data, writable too (reading while
 * flushing avoids the COPY and pipeline deadlock where the server waits for
 * us to read its results).
 *
 * A job's steps are usually BEGIN ... COMMIT; the connection runs one job at
 * a time and queues the rest in order.
 *
 * Around the jobs:
 * - Session SQL (pgc_set_session_sql) runs after every connect and reconnect,
 *   before the connect callback and before any job: temporary staging tables
 *   die with a connection, so each new one creates them again.
 * - A job that fails on a live connection inside a transaction is followed
 *   by a ROLLBACK before the next job starts, so one failed batch does not
 *   turn every later one into "current transaction is aborted".
 * - A lost connection (the socket closed, or the server ended the session
 *   with SQLSTATE class 57P0x or 08) fails the running job with an error
 *   starting "connection lost: ", after which pgc_is_lost is true. Queued
 *   jobs stay queued; pgc_reconnect opens a new connection (again and again
 *   if need be) and runs them there. Prepared statements are remembered per
 *   connection, so a pipelined step prepares its statement again after a
 *   reconnect.
 *
 * Connection keys: every [postgres] key of the config is one libpq keyword,
 * passed with expand_dbname off, so `dbname` is a database name, never a
 * connection string.
 */
#ifndef SD_DAEMON_PG_CONN_H
#define SD_DAEMON_PG_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "common/config.h"

typedef struct pgc_conn pgc_conn;

typedef enum {
    PGC_STEP_QUERY, /* sql with params; any number of result rows */
    PGC_STEP_COPY,  /* "COPY ... FROM STDIN" followed by copy_data */
    /*
     * sql (with $1..$nparams) prepared as `name` and executed once per row in
     * pipeline mode: nrows executions, one sync, one round trip. The step fails
     * with the first error ("step N (sql): row K: SQLSTATE message"); the rows
     * after it are not executed. Pipeline mode is entered and left inside the
     * step, so it mixes with the other kinds in one job.
     */
    PGC_STEP_PIPELINE,
} pgc_step_kind;

typedef struct pgc_step {
    pgc_step_kind kind;
    const char *sql; /* borrowed until the job's done callback */
    int nparams;
    /*
     * Borrowed; a NULL entry is SQL NULL. QUERY and COPY: nparams values.
     * PIPELINE: nrows * nparams values, row after row.
     */
    const char *const *params;
    const char *copy_data; /* borrowed; PGC_STEP_COPY only */
    size_t copy_len;
    /*
     * PGC_STEP_PIPELINE only. name (borrowed) is the prepared statement's
     * name: prepared on its first use on each connection, so one name must
     * always go with the same sql. NULL or "" prepares the unnamed statement
     * every time. nrows may be 0.
     */
    const char *name;
    size_t nrows;
    /*
     * Called with each result that carries rows (in a pipeline, one per row
     * whose statement returns rows); the result is borrowed for the call.
     */
    void (*on_result)(void *user, const PGresult *result);
    /*
     * Called once the step's query (and COPY data, or every pipelined row and
     * the sync) has been handed to the kernel.
     */
    void (*on_sent)(void *user);
    void *user;
} pgc_step;

/* status 0: every step succeeded. Otherwise error says what failed (borrowed for the call). */
typedef void (*pgc_done_cb)(void *user, int status, const char *error);

/*
 * Creates a connection object; nothing is sent until pgc_connect. The
 * [postgres] keys of config become libpq connection keywords; config is
 * borrowed until pgc_free and read again by every (re)connect. Returns NULL
 * when out of memory.
 */
pgc_conn *pgc_new(uv_loop_t *loop, const sd_config *config);

/*
 * SQL run after every connect and reconnect, before the connect callback and
 * before any queued job (for CREATE TEMP TABLE of staging tables). It may hold
 * several statements separated by ';' (sent as one simple query). sql is
 * copied; NULL clears it. If it fails, the connect fails with its error. It
 * takes effect from the next connect. Returns 0, or -1 when out of memory (the
 * earlier session SQL stays).
 */
int pgc_set_session_sql(pgc_conn *conn, const char *sql) __attribute__((warn_unused_result));

/*
 * Starts connecting; then the session SQL runs, if any. done runs once
 * connected (status 0) or failed, and is never called when this returns -1
 * (already connected or connecting, out of memory, or libpq refused at once:
 * the reason is logged, and pgc_is_lost is then true so pgc_reconnect may
 * retry).
 */
int pgc_connect(pgc_conn *conn, pgc_done_cb done, void *user) __attribute__((warn_unused_result));

/*
 * True once the connection failed (a lost connection, or a failed connect):
 * jobs cannot run until pgc_reconnect succeeds. Reliable inside a job's done
 * callback: a job failed by a lost connection sees true there.
 */
bool pgc_is_lost(const pgc_conn *conn);

/*
 * Closes the current PGconn (if any) and connects again exactly like
 * pgc_connect, with the same done semantics; the session SQL runs again and
 * every statement counts as unprepared. Jobs queued and never started stay
 * queued and run once connected. A job that was running when the connection
 * broke has already been failed through its done callback; one running on a
 * connection that still looked alive is failed now ("connection lost: ...").
 * May be called again after a failed attempt, as often as needed. Returns -1
 * while a connect is already in progress, and as pgc_connect does.
 *
 * Must not be called from inside one of this connection's callbacks (a
 * daemon retries from a uv_timer, with backoff).
 */
int pgc_reconnect(pgc_conn *conn, pgc_done_cb done, void *user) __attribute__((warn_unused_result));

/*
 * Queues a job of nsteps steps (the array is borrowed until done runs).
 * done is always called exactly once when this returns 0 (possibly before
 * this returns, when the connection turns out to be broken), never when it
 * returns -1 (not connected, lost, or out of memory). If the job fails on a
 * live connection inside a transaction, done still gets the job's own error,
 * and a ROLLBACK runs before the next job.
 */
int pgc_run(pgc_conn *conn, const pgc_step *steps, size_t nsteps, pgc_done_cb done, void *user)
    __attribute__((warn_unused_result));

/* True while a job runs or waits. */
bool pgc_busy(const pgc_conn *conn);
/* True while a job is running (not merely queued). */
bool pgc_running(const pgc_conn *conn);

/* A short description of the server ("PostgreSQL 15.18 at host:port"), borrowed. */
const char *pgc_describe(const pgc_conn *conn);

/*
 * Closes the connection and frees the object; the poll handle is released on
 * a later loop turn. Queued jobs are NOT called back. Must not be called from
 * inside one of this connection's callbacks.
 */
void pgc_free(pgc_conn *conn);

#endif
