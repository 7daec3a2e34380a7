#include "daemon/pg_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define COPY_CHUNK (256 * 1024)
/*
 * Rows of a pipelined step handed to libpq per loop turn: small enough that
 * results are read between chunks (the server blocks when its results are not
 * read) and other handles get their turn, large enough to fill the socket.
 */
#define PIPE_CHUNK 256

typedef struct pgc_job {
    const pgc_step *steps; /* borrowed from the caller until done */
    size_t nsteps;
    pgc_done_cb done;
    void *user;
    struct pgc_job *next;
} pgc_job;

typedef enum {
    PGC_IDLE,       /* not connected */
    PGC_CONNECTING, /* PQconnectPoll in progress */
    PGC_SETUP,      /* connected; the session SQL runs before the connect callback */
    PGC_READY,      /* connected, no job */
    PGC_RUNNING,    /* a job's step is in flight */
    PGC_CLEANUP,    /* the ROLLBACK after a failed job runs */
    PGC_BROKEN,     /* the connection failed; pgc_reconnect or pgc_free is left */
} pgc_state;

/* A poll handle is allocated per socket: libpq may change sockets while connecting. */
typedef struct pgc_poll {
    uv_poll_t handle;
    pgc_conn *conn; /* NULL once detached from its connection */
} pgc_poll;

struct pgc_conn {
    uv_loop_t *loop;
    const sd_config *config; /* borrowed for the connection's lifetime */
    PGconn *pg;
    pgc_state state;
    pgc_poll *poll;
    int poll_fd;
    int poll_events;

    pgc_done_cb connect_done;
    void *connect_user;
    char *session_sql; /* owned; NULL: none */

    /* Names of the statements prepared on the current PGconn, owned. */
    char **prepared;
    size_t nprepared, prepared_cap;

    pgc_job *job; /* running job, or NULL */
    pgc_job *queue_head, *queue_tail;
    size_t step;     /* index of the running step */
    bool flushing;   /* PQflush returned 1: wait for writable */
    bool copying;    /* between PGRES_COPY_IN and a successful PQputCopyEnd */
    bool all_queued; /* everything of the step has been handed to libpq */
    size_t copy_offset;
    bool sent_notified; /* on_sent already ran for this step */

    /* The running PGC_STEP_PIPELINE step. */
    size_t pipe_row;     /* rows handed to libpq */
    size_t pipe_sent;    /* commands handed to libpq: the prepare, if any, and the rows */
    size_t pipe_done;    /* commands whose result has been read */
    bool pipe_preparing; /* the first command is the step's PQsendPrepare */
    bool pipe_synced;    /* PQpipelineSync has been called */

    char step_error[1024]; /* first error of the running step or internal command */
    char describe[256];
};

static void on_poll(uv_poll_t *handle, int status, int events);
static void fail_connection(pgc_conn *conn, const char *what);
static void fail_connection_msg(pgc_conn *conn, const char *base);

static const pgc_step *current_step(const pgc_conn *conn)
{
    return &conn->job->steps[conn->step];
}

static void poll_close_cb(uv_handle_t *handle)
{
    free(handle->data);
}

static void detach_poll(pgc_conn *conn)
{
    if (!conn->poll)
        return;
    uv_poll_stop(&conn->poll->handle);
    conn->poll->conn = NULL;
    uv_close((uv_handle_t *)&conn->poll->handle, poll_close_cb);
    conn->poll = NULL;
    conn->poll_fd = -1;
    conn->poll_events = 0;
}

/* Watches the connection's current socket for events; re-creates the handle if it changed. */
static int watch(pgc_conn *conn, int events)
{
    int fd = PQsocket(conn->pg);
    if (fd < 0) {
        fail_connection(conn, "connection has no socket");
        return -1;
    }
    if (conn->poll && conn->poll_fd != fd)
        detach_poll(conn);
    if (!conn->poll) {
        pgc_poll *poll = calloc(1, sizeof(*poll));
        if (!poll) {
            fail_connection(conn, "out of memory");
            return -1;
        }
        int rc = uv_poll_init_socket(conn->loop, &poll->handle, fd);
        if (rc != 0) {
            free(poll);
            fail_connection(conn, uv_strerror(rc));
            return -1;
        }
        poll->handle.data = poll;
        poll->conn = conn;
        conn->poll = poll;
        conn->poll_fd = fd;
        conn->poll_events = 0;
    }
    if (conn->poll_events != events) {
        int rc = uv_poll_start(&conn->poll->handle, events, on_poll);
        if (rc != 0) {
            fail_connection(conn, uv_strerror(rc));
            return -1;
        }
        conn->poll_events = events;
    }
    return 0;
}

/* ---- Prepared statements of the current connection ------------------------------------- */

static bool is_prepared(const pgc_conn *conn, const char *name)
{
    for (size_t i = 0; i < conn->nprepared; i++)
        if (strcmp(conn->prepared[i], name) == 0)
            return true;
    return false;
}

static int mark_prepared(pgc_conn *conn, const char *name)
{
    if (conn->nprepared == conn->prepared_cap) {
        size_t cap = conn->prepared_cap ? conn->prepared_cap * 2 : 8;
        char **grown = realloc(conn->prepared, cap * sizeof(*grown));
        if (!grown)
            return -1;
        conn->prepared = grown;
        conn->prepared_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    conn->prepared[conn->nprepared++] = copy;
    return 0;
}

/* Prepared statements die with their connection. */
static void forget_prepared(pgc_conn *conn)
{
    for (size_t i = 0; i < conn->nprepared; i++)
        free(conn->prepared[i]);
    conn->nprepared = 0;
}

/* ---- Failing ----------------------------------------------------------------------------- */

/* Ends the running job and starts the next queued one, if any. */
static void finish_job(pgc_conn *conn, int status, const char *error);

/* SQLSTATE classes after which the server has ended (or is ending) the session. */
static bool sqlstate_ends_session(const char *state)
{
    return state && (strncmp(state, "57P0", 4) == 0 || strncmp(state, "08", 2) == 0);
}

/*
 * Marks the connection broken and reports base: to the connect callback while
 * connecting, else to the running job, prefixed "connection lost: ". Queued
 * jobs stay queued for pgc_reconnect. A second failure changes nothing.
 */
static void fail_connection_msg(pgc_conn *conn, const char *base)
{
    pgc_state previous = conn->state;
    if (previous == PGC_BROKEN)
        return;
    conn->state = PGC_BROKEN;
    detach_poll(conn);
    if (previous == PGC_CONNECTING || previous == PGC_SETUP) {
        pgc_done_cb done = conn->connect_done;
        conn->connect_done = NULL;
        if (done)
            done(conn->connect_user, -1, base);
        else /* Failed inside pgc_connect, which returns -1: the reason would be lost. */
            sd_log_warning("postgres", "cannot connect: %s", base);
    }
    if (!conn->job) {
        if (previous != PGC_CONNECTING && previous != PGC_SETUP)
            sd_log_warning("postgres", "connection lost: %s", base);
        return;
    }
    const pgc_step *step = current_step(conn);
    char message[2400];
    snprintf(message, sizeof(message), "connection lost: step %zu (%.60s): %s%s%s", conn->step + 1,
             step->sql ? step->sql : "", conn->step_error, conn->step_error[0] ? "; " : "", base);
    finish_job(conn, -1, message);
}

/* fail_connection_msg with what and libpq's error message, on one line. */
static void fail_connection(pgc_conn *conn, const char *what)
{
    char message[1200];
    const char *pq = conn->pg ? PQerrorMessage(conn->pg) : "";
    snprintf(message, sizeof(message), "%s%s%s", what, pq[0] ? ": " : "", pq);
    /* libpq messages end with a newline and may hold "\n\t" inside; the log wants one line. */
    for (char *c = message; *c; c++)
        if (*c == '\n' || *c == '\t')
            *c = ' ';
    size_t len = strlen(message);
    while (len && message[len - 1] == ' ')
        message[--len] = '\0';
    fail_connection_msg(conn, message);
}

/*
 * Keeps the first error of the step ("SQLSTATE message", prefixed by where, if
 * given). Returns true when the error means the server ended the session.
 */
static bool record_error(pgc_conn *conn, const PGresult *res, const char *where)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (!conn->step_error[0]) {
        snprintf(conn->step_error, sizeof(conn->step_error), "%s%s%s%s", where ? where : "",
                 state ? state : "", state ? " " : "", PQresultErrorMessage(res));
        size_t len = strlen(conn->step_error);
        while (len && conn->step_error[len - 1] == '\n')
            conn->step_error[--len] = '\0';
    }
    return sqlstate_ends_session(state);
}

/* ---- Jobs and steps ---------------------------------------------------------------------- */

static void start_step(pgc_conn *conn);

static void start_next_job(pgc_conn *conn)
{
    if (conn->job || conn->state != PGC_READY || !conn->queue_head)
        return;
    conn->job = conn->queue_head;
    conn->queue_head = conn->job->next;
    if (!conn->queue_head)
        conn->queue_tail = NULL;
    conn->step = 0;
    conn->state = PGC_RUNNING;
    start_step(conn);
}

/* True while the running step still has something to hand to libpq, or libpq to the kernel. */
static bool wants_to_send(const pgc_conn *conn)
{
    if (conn->flushing)
        return true;
    return conn->state == PGC_RUNNING && conn->job &&
           current_step(conn)->kind == PGC_STEP_PIPELINE && !conn->pipe_synced;
}

/* Sends pending output; watches writable too while there is more to send. */
static int flush_and_watch(pgc_conn *conn)
{
    int rc = PQflush(conn->pg);
    if (rc < 0) {
        fail_connection(conn, "sending to the server failed");
        return -1;
    }
    conn->flushing = rc == 1;
    return watch(conn, wants_to_send(conn) ? UV_READABLE | UV_WRITABLE : UV_READABLE);
}

/* Sends one of our own commands (session SQL, ROLLBACK) as a simple query. Returns 0 or -1. */
static int send_internal(pgc_conn *conn, const char *sql, pgc_state state)
{
    conn->step_error[0] = '\0';
    conn->state = state;
    if (!PQsendQuery(conn->pg, sql)) {
        fail_connection(conn, state == PGC_SETUP ? "sending the session SQL failed"
                                                 : "sending ROLLBACK failed");
        return -1;
    }
    return flush_and_watch(conn);
}

/* A failed job may leave the session in an (aborted) transaction that the next job would hit. */
static bool needs_rollback(const pgc_conn *conn)
{
    if (PQstatus(conn->pg) != CONNECTION_OK)
        return false;
    PGTransactionStatusType tx = PQtransactionStatus(conn->pg);
    return tx == PQTRANS_INERROR || tx == PQTRANS_INTRANS;
}

static void finish_job(pgc_conn *conn, int status, const char *error)
{
    pgc_job *job = conn->job;
    if (!job)
        return;
    conn->job = NULL;
    if (conn->state == PGC_RUNNING) {
        conn->state = PGC_READY;
        /* Sent before the callback, so a job it queues cannot start ahead of the ROLLBACK. */
        if (status != 0 && needs_rollback(conn))
            send_internal(conn, "ROLLBACK", PGC_CLEANUP);
    }
    job->done(job->user, status, error);
    free(job);
    if (conn->state == PGC_READY) {
        if (watch(conn, UV_READABLE) == 0)
            start_next_job(conn);
    }
}

static void notify_sent_if_flushed(pgc_conn *conn)
{
    if (!conn->job || conn->state != PGC_RUNNING || conn->flushing || !conn->all_queued ||
        conn->sent_notified)
        return;
    const pgc_step *step = current_step(conn);
    conn->sent_notified = true;
    if (step->on_sent)
        step->on_sent(step->user);
}

/* Flushes; once all of the step is out, on_sent runs. Returns 0, or -1 once failed. */
static int flush_step(pgc_conn *conn)
{
    if (flush_and_watch(conn) != 0)
        return -1;
    notify_sent_if_flushed(conn);
    return 0;
}

static const char *statement_name(const pgc_step *step)
{
    return step->name ? step->name : "";
}

/*
 * Hands the next chunk of rows of a pipelined step to libpq (and the sync
 * after the last row, or right after an error: the server skips everything up
 * to the sync anyway) and flushes. Nothing is handed over while libpq still
 * holds unsent data; while rows remain, writable is watched so the next chunk
 * goes out on a later loop turn, after the results that came meanwhile have
 * been read. Returns 0, or -1 once failed.
 */
static int pump_pipeline(pgc_conn *conn)
{
    if (conn->pipe_synced || conn->flushing)
        return 0;
    const pgc_step *step = current_step(conn);
    const char *name = statement_name(step);
    size_t end = conn->step_error[0] ? conn->pipe_row : conn->pipe_row + PIPE_CHUNK;
    if (end > step->nrows)
        end = step->nrows;
    for (; conn->pipe_row < end; conn->pipe_row++, conn->pipe_sent++) {
        const char *const *params =
            step->nparams > 0 ? step->params + conn->pipe_row * (size_t)step->nparams : NULL;
        if (!PQsendQueryPrepared(conn->pg, name, step->nparams, params, NULL, NULL, 0)) {
            fail_connection(conn, "sending a pipelined query failed");
            return -1;
        }
    }
    if (conn->pipe_row == step->nrows || conn->step_error[0]) {
        if (!PQpipelineSync(conn->pg)) {
            fail_connection(conn, "sending a pipeline sync failed");
            return -1;
        }
        conn->pipe_synced = true;
        conn->all_queued = true;
    }
    return flush_step(conn);
}

/* Enters pipeline mode, prepares the statement unless this connection has it, starts the rows. */
static void start_pipeline(pgc_conn *conn)
{
    const pgc_step *step = current_step(conn);
    const char *name = statement_name(step);
    if (!PQenterPipelineMode(conn->pg)) {
        fail_connection(conn, "entering pipeline mode failed");
        return;
    }
    if (!name[0] || !is_prepared(conn, name)) {
        if (!PQsendPrepare(conn->pg, name, step->sql, step->nparams, NULL)) {
            fail_connection(conn, "sending a prepare failed");
            return;
        }
        conn->pipe_preparing = true;
        conn->pipe_sent = 1;
    }
    pump_pipeline(conn);
}

static void start_step(pgc_conn *conn)
{
    const pgc_step *step = current_step(conn);
    conn->step_error[0] = '\0';
    conn->copying = false;
    conn->copy_offset = 0;
    conn->all_queued = false;
    conn->sent_notified = false;
    conn->pipe_row = conn->pipe_sent = conn->pipe_done = 0;
    conn->pipe_preparing = conn->pipe_synced = false;
    if (step->kind == PGC_STEP_PIPELINE) {
        start_pipeline(conn);
        return;
    }
    if (!PQsendQueryParams(conn->pg, step->sql, step->nparams, NULL, step->params, NULL, NULL, 0)) {
        fail_connection(conn, "sending a query failed");
        return;
    }
    conn->all_queued = step->kind == PGC_STEP_QUERY;
    flush_step(conn);
}

/* Feeds COPY data until done or the socket is full. Returns 1 done, 0 must wait, -1 failed. */
static int pump_copy(pgc_conn *conn)
{
    const pgc_step *step = current_step(conn);
    while (conn->copy_offset < step->copy_len) {
        size_t chunk = step->copy_len - conn->copy_offset;
        if (chunk > COPY_CHUNK)
            chunk = COPY_CHUNK;
        int rc = PQputCopyData(conn->pg, step->copy_data + conn->copy_offset, (int)chunk);
        if (rc < 0) {
            fail_connection(conn, "sending COPY data failed");
            return -1;
        }
        if (rc == 0) {
            conn->flushing = true;
            return watch(conn, UV_READABLE | UV_WRITABLE) == 0 ? 0 : -1;
        }
        conn->copy_offset += chunk;
    }
    int rc = PQputCopyEnd(conn->pg, NULL);
    if (rc < 0) {
        fail_connection(conn, "ending COPY failed");
        return -1;
    }
    if (rc == 0) {
        conn->flushing = true;
        return watch(conn, UV_READABLE | UV_WRITABLE) == 0 ? 0 : -1;
    }
    conn->copying = false;
    conn->all_queued = true;
    return flush_step(conn) == 0 ? 1 : -1;
}

/* Reads a QUERY or COPY step's results. Returns 1 once the step is complete, 0 wait, -1 failed. */
static int read_plain(pgc_conn *conn)
{
    const pgc_step *step = current_step(conn);
    for (;;) {
        if (conn->copying) {
            int rc = pump_copy(conn);
            if (rc <= 0)
                return rc;
        }
        if (PQisBusy(conn->pg))
            return 0;
        PGresult *res = PQgetResult(conn->pg);
        if (!res) {
            /* A NULL result also ends a command whose connection broke: that is no success. */
            if (PQstatus(conn->pg) == CONNECTION_BAD) {
                fail_connection(conn, "the server closed the connection");
                return -1;
            }
            return 1;
        }
        bool ended = false;
        switch (PQresultStatus(res)) {
        case PGRES_COMMAND_OK:
            break;
        case PGRES_TUPLES_OK:
        case PGRES_SINGLE_TUPLE:
            if (step->on_result)
                step->on_result(step->user, res);
            break;
        case PGRES_COPY_IN:
            if (step->kind != PGC_STEP_COPY) {
                PQputCopyEnd(conn->pg, "storyd: unexpected COPY");
                snprintf(conn->step_error, sizeof(conn->step_error), "unexpected COPY IN");
                break;
            }
            conn->copying = true;
            break;
        default:
            ended = record_error(conn, res, NULL);
            break;
        }
        PQclear(res);
        if (ended) {
            fail_connection_msg(conn, "the server ended the session");
            return -1;
        }
    }
}

/* Reads a pipelined step's results. Returns 1 once the step is complete, 0 wait, -1 failed. */
static int read_pipeline(pgc_conn *conn)
{
    if (pump_pipeline(conn) != 0)
        return -1;
    /*
     * Reading right after each chunk keeps the server from blocking on results
     * we do not read. Only here, where the loop below parses what was read: input
     * read elsewhere would sit in libpq with no poll event left to announce it.
     */
    if (!PQconsumeInput(conn->pg)) {
        fail_connection(conn, "reading from the server failed");
        return -1;
    }
    const pgc_step *step = current_step(conn);
    bool after_null = false;
    for (;;) {
        if (PQisBusy(conn->pg))
            return 0;
        PGresult *res = PQgetResult(conn->pg);
        if (!res) {
            if (PQstatus(conn->pg) == CONNECTION_BAD) {
                fail_connection(conn, "the server closed the connection");
                return -1;
            }
            /*
             * In pipeline mode a NULL ends each command's results. Twice in a row, or
             * with nothing outstanding (not even the sync), nothing more is due now.
             */
            if (after_null || (conn->pipe_done == conn->pipe_sent && !conn->pipe_synced))
                return 0;
            after_null = true;
            continue;
        }
        after_null = false;
        ExecStatusType status = PQresultStatus(res);
        if (status == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            if (!PQexitPipelineMode(conn->pg)) {
                fail_connection(conn, "leaving pipeline mode failed");
                return -1;
            }
            return 1;
        }
        bool is_prepare = conn->pipe_preparing && conn->pipe_done == 0;
        conn->pipe_done++;
        bool ended = false;
        switch (status) {
        case PGRES_COMMAND_OK:
            if (is_prepare && step->name && step->name[0] && mark_prepared(conn, step->name) != 0) {
                PQclear(res);
                fail_connection_msg(conn, "out of memory");
                return -1;
            }
            break;
        case PGRES_TUPLES_OK:
            if (step->on_result)
                step->on_result(step->user, res);
            break;
        case PGRES_PIPELINE_ABORTED:
            /* Only after an error, which has been kept already. */
            if (!conn->step_error[0])
                snprintf(conn->step_error, sizeof(conn->step_error), "pipeline aborted");
            break;
        default: {
            char where[48];
            if (is_prepare)
                snprintf(where, sizeof(where), "prepare: ");
            else
                snprintf(where, sizeof(where),
                         "row %zu: ", conn->pipe_done - (conn->pipe_preparing ? 1 : 0));
            ended = record_error(conn, res, where);
            break;
        }
        }
        PQclear(res);
        if (ended) {
            fail_connection_msg(conn, "the server ended the session");
            return -1;
        }
    }
}

/*
 * The running step is complete: fails the job with its error, or moves on.
 * Returns true when the next step of the same job is running.
 */
static bool end_step(pgc_conn *conn)
{
    const pgc_step *step = current_step(conn);
    if (conn->step_error[0]) {
        char error[1200];
        snprintf(error, sizeof(error), "step %zu (%.60s): %s", conn->step + 1, step->sql,
                 conn->step_error);
        finish_job(conn, -1, error);
        return false;
    }
    if (++conn->step == conn->job->nsteps) {
        finish_job(conn, 0, NULL);
        return false;
    }
    start_step(conn);
    return conn->state == PGC_RUNNING;
}

/* Reads every result available without blocking; moves to the next step when one ends. */
static void process_results(pgc_conn *conn)
{
    while (conn->job && conn->state == PGC_RUNNING) {
        int rc =
            current_step(conn)->kind == PGC_STEP_PIPELINE ? read_pipeline(conn) : read_plain(conn);
        if (rc <= 0 || !end_step(conn))
            return;
    }
}

/* ---- Connecting, session SQL, ROLLBACK --------------------------------------------------- */

/* The connection is usable: the connect callback runs, then the queued jobs. */
static void connected(pgc_conn *conn)
{
    conn->state = PGC_READY;
    if (watch(conn, UV_READABLE) != 0)
        return;
    pgc_done_cb done = conn->connect_done;
    conn->connect_done = NULL;
    if (done)
        done(conn->connect_user, 0, NULL);
    if (conn->state == PGC_READY)
        start_next_job(conn);
}

/* Reads the results of the session SQL or the ROLLBACK, and goes on when it is complete. */
static void read_internal(pgc_conn *conn)
{
    for (;;) {
        if (PQisBusy(conn->pg))
            return;
        PGresult *res = PQgetResult(conn->pg);
        if (!res)
            break;
        ExecStatusType status = PQresultStatus(res);
        bool ended = false;
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY)
            ended = record_error(conn, res, NULL);
        PQclear(res);
        if (ended) {
            fail_connection_msg(conn, conn->step_error);
            return;
        }
    }
    if (PQstatus(conn->pg) == CONNECTION_BAD) {
        fail_connection(conn, "the server closed the connection");
        return;
    }
    char message[1200];
    if (conn->state == PGC_SETUP) {
        if (conn->step_error[0]) {
            snprintf(message, sizeof(message), "session SQL failed: %s", conn->step_error);
            fail_connection_msg(conn, message);
            return;
        }
        connected(conn);
        return;
    }
    /* An unknown transaction state is no place for the next job: the connection is given up. */
    if (conn->step_error[0] || PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
        snprintf(message, sizeof(message), "ROLLBACK after a failed job failed: %s",
                 conn->step_error[0] ? conn->step_error : "still in a transaction");
        fail_connection_msg(conn, message);
        return;
    }
    conn->state = PGC_READY;
    if (watch(conn, UV_READABLE) == 0)
        start_next_job(conn);
}

static void continue_connect(pgc_conn *conn)
{
    switch (PQconnectPoll(conn->pg)) {
    case PGRES_POLLING_READING:
        watch(conn, UV_READABLE);
        return;
    case PGRES_POLLING_WRITING:
        watch(conn, UV_WRITABLE);
        return;
    case PGRES_POLLING_FAILED:
        fail_connection(conn, "connecting to PostgreSQL failed");
        return;
    case PGRES_POLLING_OK:
    default:
        break;
    }
    if (PQsetnonblocking(conn->pg, 1) != 0) {
        fail_connection(conn, "PQsetnonblocking failed");
        return;
    }
    snprintf(conn->describe, sizeof(conn->describe), "PostgreSQL %d.%d at %s:%s as %s/%s",
             PQserverVersion(conn->pg) / 10000, PQserverVersion(conn->pg) % 10000, PQhost(conn->pg),
             PQport(conn->pg), PQuser(conn->pg), PQdb(conn->pg));
    if (conn->session_sql)
        send_internal(conn, conn->session_sql, PGC_SETUP);
    else
        connected(conn);
}

static void on_poll_io(pgc_conn *conn, int status, int events)
{
    if (status < 0) {
        /*
         * libuv reports POLLERR as an error and stops the handle. While connecting
         * that is a refused connect, which PQconnectPoll reads and reports (or
         * moves on to the next address); otherwise the pending input (say, the
         * server's reason for closing) is read first, and the connection fails.
         */
        conn->poll_events = 0;
        events = UV_READABLE;
    }
    if (conn->state == PGC_CONNECTING) {
        continue_connect(conn);
        return;
    }
    if (events & UV_READABLE) {
        if (!PQconsumeInput(conn->pg)) {
            fail_connection(conn, "reading from the server failed");
            return;
        }
    }
    if (conn->flushing && (events & UV_WRITABLE) && flush_step(conn) != 0)
        return;
    switch (conn->state) {
    case PGC_RUNNING:
        process_results(conn);
        break;
    case PGC_SETUP:
    case PGC_CLEANUP:
        read_internal(conn);
        break;
    case PGC_READY:
        /* Idle: drain notices; a closed connection shows up here. */
        if (PQstatus(conn->pg) == CONNECTION_BAD) {
            fail_connection(conn, "the server closed the idle connection");
            return;
        }
        while (!PQisBusy(conn->pg)) {
            PGresult *res = PQgetResult(conn->pg);
            if (!res)
                break;
            PQclear(res);
        }
        break;
    default:
        break;
    }
    if (status < 0)
        fail_connection(conn, uv_strerror(status));
}

/* Every line logged while a connection's input is handled is about that connection. */
static void on_poll(uv_poll_t *handle, int status, int events)
{
    pgc_poll *poll = handle->data;
    pgc_conn *conn = poll->conn;
    if (!conn)
        return;
    sd_log_scope_set("connection", conn->describe);
    on_poll_io(conn, status, events);
    sd_log_scope_clear();
}

/* Closes the PGconn and forgets everything that lived on it. */
static void close_connection(pgc_conn *conn)
{
    detach_poll(conn);
    if (conn->pg)
        PQfinish(conn->pg);
    conn->pg = NULL;
    conn->state = PGC_IDLE;
    forget_prepared(conn);
    conn->flushing = conn->copying = conn->all_queued = conn->sent_notified = false;
    conn->copy_offset = 0;
    conn->pipe_row = conn->pipe_sent = conn->pipe_done = 0;
    conn->pipe_preparing = conn->pipe_synced = false;
    conn->step = 0;
    conn->step_error[0] = '\0';
    snprintf(conn->describe, sizeof(conn->describe), "PostgreSQL (not connected)");
}

static int start_connect(pgc_conn *conn, pgc_done_cb done, void *user)
{
    const sd_kv_list *list = &conn->config->postgres;
    size_t n = list->count;
    const char **keywords = calloc(n + 2, sizeof(char *));
    const char **values = calloc(n + 2, sizeof(char *));
    if (!keywords || !values) {
        free(keywords);
        free(values);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++, k++) {
        keywords[k] = list->keys[i];
        values[k] = list->values[i];
    }
    if (!sd_kv_get(list, "application_name")) {
        keywords[k] = "application_name";
        values[k] = "storyd";
        k++;
    }
    conn->pg = PQconnectStartParams(keywords, values, 0);
    free(keywords);
    free(values);
    /* From here on a failure leaves the connection lost, so pgc_reconnect may try again. */
    conn->state = PGC_BROKEN;
    if (!conn->pg)
        return -1;
    if (PQstatus(conn->pg) == CONNECTION_BAD) {
        char message[1024];
        snprintf(message, sizeof(message), "%s", PQerrorMessage(conn->pg));
        message[strcspn(message, "\n")] = '\0';
        sd_log_warning("postgres", "cannot start connecting: %s", message);
        return -1;
    }
    conn->state = PGC_CONNECTING;
    /* Without a callback yet, a failure here is reported by the return value alone. */
    conn->connect_done = NULL;
    /* PQconnectStartParams behaves as if the last poll said "writing". */
    if (watch(conn, UV_WRITABLE) != 0)
        return -1;
    conn->connect_done = done;
    conn->connect_user = user;
    return 0;
}

pgc_conn *pgc_new(uv_loop_t *loop, const sd_config *config)
{
    pgc_conn *conn = calloc(1, sizeof(*conn));
    if (!conn)
        return NULL;
    conn->loop = loop;
    conn->config = config;
    conn->poll_fd = -1;
    conn->state = PGC_IDLE;
    snprintf(conn->describe, sizeof(conn->describe), "PostgreSQL (not connected)");
    return conn;
}

int pgc_set_session_sql(pgc_conn *conn, const char *sql)
{
    char *copy = NULL;
    if (sql && !(copy = strdup(sql)))
        return -1;
    free(conn->session_sql);
    conn->session_sql = copy;
    return 0;
}

int pgc_connect(pgc_conn *conn, pgc_done_cb done, void *user)
{
    if (conn->state != PGC_IDLE)
        return -1;
    return start_connect(conn, done, user);
}

int pgc_reconnect(pgc_conn *conn, pgc_done_cb done, void *user)
{
    if (conn->state == PGC_CONNECTING || conn->state == PGC_SETUP)
        return -1;
    if (conn->job) {
        /* The job cannot finish on a connection about to close. */
        pgc_job *job = conn->job;
        conn->job = NULL;
        conn->state = PGC_BROKEN;
        job->done(job->user, -1, "connection lost: pgc_reconnect closed the connection");
        free(job);
    }
    close_connection(conn);
    return start_connect(conn, done, user);
}

int pgc_run(pgc_conn *conn, const pgc_step *steps, size_t nsteps, pgc_done_cb done, void *user)
{
    if (conn->state == PGC_BROKEN || conn->state == PGC_IDLE || nsteps == 0)
        return -1;
    pgc_job *job = calloc(1, sizeof(*job));
    if (!job)
        return -1;
    job->steps = steps;
    job->nsteps = nsteps;
    job->done = done;
    job->user = user;
    if (conn->queue_tail)
        conn->queue_tail->next = job;
    else
        conn->queue_head = job;
    conn->queue_tail = job;
    start_next_job(conn);
    return 0;
}

bool pgc_is_lost(const pgc_conn *conn)
{
    return conn->state == PGC_BROKEN || (conn->pg && PQstatus(conn->pg) == CONNECTION_BAD);
}

bool pgc_busy(const pgc_conn *conn)
{
    return conn->job != NULL || conn->queue_head != NULL;
}

bool pgc_running(const pgc_conn *conn)
{
    return conn->job != NULL;
}

const char *pgc_describe(const pgc_conn *conn)
{
    return conn->describe;
}

void pgc_free(pgc_conn *conn)
{
    if (!conn)
        return;
    close_connection(conn);
    free(conn->prepared);
    free(conn->session_sql);
    free(conn->job);
    for (pgc_job *job = conn->queue_head; job;) {
        pgc_job *next = job->next;
        free(job);
        job = next;
    }
    free(conn);
}
