/*
 * One PostgreSQL connection driven by the libuv loop: non-blocking connect,
 * and jobs made of steps (queries with parameters, COPY FROM STDIN) run one
 * after the other on it. Nothing here blocks the loop: every wait is a
 * uv_poll on the connection's socket, for readable and, while libpq has
 * unsent data, writable too (reading while flushing avoids the COPY deadlock
 * where the server waits for us to read).
 *
 * A job's steps are usually BEGIN ... COMMIT; the connection runs one job at
 * a time and queues the rest in order.
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
} pgc_step_kind;

typedef struct pgc_step {
    pgc_step_kind kind;
    const char *sql; /* borrowed until the job's done callback */
    int nparams;
    const char *const *params; /* borrowed; a NULL entry is SQL NULL */
    const char *copy_data;     /* borrowed; PGC_STEP_COPY only */
    size_t copy_len;
    /* Called with each result that carries rows; the result is borrowed for the call. */
    void (*on_result)(void *user, const PGresult *result);
    /* Called once the step's query (and COPY data) has been handed to the kernel. */
    void (*on_sent)(void *user);
    void *user;
} pgc_step;

/* status 0: every step succeeded. Otherwise error says what failed (borrowed for the call). */
typedef void (*pgc_done_cb)(void *user, int status, const char *error);

/*
 * Creates a connection object; nothing is sent until pgc_connect. The
 * [postgres] keys of config become libpq connection keywords. Returns NULL
 * when out of memory.
 */
pgc_conn *pgc_new(uv_loop_t *loop, const sd_config *config);

/* Starts connecting; done runs once connected (status 0) or failed. Returns 0 or -1. */
int pgc_connect(pgc_conn *conn, pgc_done_cb done, void *user) __attribute__((warn_unused_result));

/*
 * Queues a job of nsteps steps (the array is borrowed until done runs).
 * done is always called exactly once when this returns 0, never when it
 * returns -1 (not connected, or out of memory).
 */
int pgc_run(pgc_conn *conn, const pgc_step *steps, size_t nsteps, pgc_done_cb done, void *user)
    __attribute__((warn_unused_result));

/* True while a job runs or waits. */
bool pgc_busy(const pgc_conn *conn);

/* A short description of the server ("PostgreSQL 15.18 at host:port"), borrowed. */
const char *pgc_describe(const pgc_conn *conn);

/*
 * Closes the connection and frees the object; the poll handle is released on
 * a later loop turn. Queued jobs are NOT called back. Must not be called from
 * inside one of this connection's callbacks.
 */
void pgc_free(pgc_conn *conn);

#endif
