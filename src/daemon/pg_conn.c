#include "daemon/pg_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define COPY_CHUNK (256 * 1024)

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
    PGC_READY,      /* connected, no job */
    PGC_RUNNING,    /* a job's step is in flight */
    PGC_BROKEN,     /* the connection failed; only pgc_free is left */
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

    pgc_job *job; /* running job, or NULL */
    pgc_job *queue_head, *queue_tail;
    size_t step;   /* index of the running step */
    bool flushing; /* PQflush returned 1: wait for writable */
    bool copying;  /* between PGRES_COPY_IN and a successful PQputCopyEnd */
    size_t copy_offset;
    bool sent_notified;    /* on_sent already ran for this step */
    char step_error[1024]; /* first error of the running step */
    char describe[256];
};

static void on_poll(uv_poll_t *handle, int status, int events);
static void fail_connection(pgc_conn *conn, const char *what);

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

/* Ends the running job and starts the next queued one, if any. */
static void finish_job(pgc_conn *conn, int status, const char *error);

static void fail_connection(pgc_conn *conn, const char *what)
{
    char message[1200];
    snprintf(message, sizeof(message), "%s%s%s", what, conn->pg ? ": " : "",
             conn->pg ? PQerrorMessage(conn->pg) : "");
    /* libpq messages end with a newline; the log wants one line. */
    size_t len = strlen(message);
    while (len && (message[len - 1] == '\n' || message[len - 1] == ' '))
        message[--len] = '\0';
    pgc_state previous = conn->state;
    conn->state = PGC_BROKEN;
    detach_poll(conn);
    if (previous == PGC_CONNECTING && conn->connect_done) {
        pgc_done_cb done = conn->connect_done;
        conn->connect_done = NULL;
        done(conn->connect_user, -1, message);
        return;
    }
    if (conn->job)
        finish_job(conn, -1, message);
}

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

static void finish_job(pgc_conn *conn, int status, const char *error)
{
    pgc_job *job = conn->job;
    conn->job = NULL;
    if (conn->state == PGC_RUNNING)
        conn->state = PGC_READY;
    job->done(job->user, status, error);
    free(job);
    if (conn->state == PGC_READY) {
        if (watch(conn, UV_READABLE) == 0)
            start_next_job(conn);
    }
}

/* Sends pending output; watches writable too while libpq still holds some. */
static int flush_and_watch(pgc_conn *conn)
{
    int rc = PQflush(conn->pg);
    if (rc < 0) {
        fail_connection(conn, "sending to the server failed");
        return -1;
    }
    conn->flushing = rc == 1;
    return watch(conn, conn->flushing ? UV_READABLE | UV_WRITABLE : UV_READABLE);
}

static void notify_sent_if_flushed(pgc_conn *conn)
{
    if (conn->flushing || conn->copying || conn->sent_notified || !conn->job)
        return;
    const pgc_step *step = &conn->job->steps[conn->step];
    conn->sent_notified = true;
    if (step->on_sent)
        step->on_sent(step->user);
}

static void start_step(pgc_conn *conn)
{
    const pgc_step *step = &conn->job->steps[conn->step];
    conn->step_error[0] = '\0';
    conn->copying = false;
    conn->copy_offset = 0;
    conn->sent_notified = false;
    if (!PQsendQueryParams(conn->pg, step->sql, step->nparams, NULL, step->params, NULL, NULL, 0)) {
        fail_connection(conn, "sending a query failed");
        return;
    }
    if (flush_and_watch(conn) == 0 && step->kind == PGC_STEP_QUERY)
        notify_sent_if_flushed(conn);
}

/* Feeds COPY data until done or the socket is full. Returns 1 done, 0 must wait, -1 failed. */
static int pump_copy(pgc_conn *conn)
{
    const pgc_step *step = &conn->job->steps[conn->step];
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
    if (flush_and_watch(conn) != 0)
        return -1;
    notify_sent_if_flushed(conn);
    return 1;
}

/* Reads every result available without blocking; moves to the next step when one ends. */
static void process_results(pgc_conn *conn)
{
    while (conn->job) {
        if (conn->copying) {
            int rc = pump_copy(conn);
            if (rc <= 0)
                return;
        }
        if (PQisBusy(conn->pg))
            return;
        PGresult *res = PQgetResult(conn->pg);
        const pgc_step *step = &conn->job->steps[conn->step];
        if (!res) {
            /* The step's command is complete. */
            if (conn->step_error[0]) {
                char error[1100];
                snprintf(error, sizeof(error), "step %zu (%.60s): %s", conn->step + 1, step->sql,
                         conn->step_error);
                finish_job(conn, -1, error);
                return;
            }
            if (++conn->step == conn->job->nsteps) {
                finish_job(conn, 0, NULL);
                return;
            }
            start_step(conn);
            if (conn->state != PGC_RUNNING)
                return;
            continue;
        }
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
            if (!conn->step_error[0]) {
                const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
                snprintf(conn->step_error, sizeof(conn->step_error), "%s%s%s", state ? state : "",
                         state ? " " : "", PQresultErrorMessage(res));
                size_t len = strlen(conn->step_error);
                while (len && conn->step_error[len - 1] == '\n')
                    conn->step_error[--len] = '\0';
            }
            break;
        }
        PQclear(res);
    }
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

static void on_poll(uv_poll_t *handle, int status, int events)
{
    pgc_poll *poll = handle->data;
    pgc_conn *conn = poll->conn;
    if (!conn)
        return;
    if (status < 0) {
        fail_connection(conn, uv_strerror(status));
        return;
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
    if (conn->flushing && (events & UV_WRITABLE)) {
        if (flush_and_watch(conn) != 0)
            return;
        if (conn->job && conn->job->steps[conn->step].kind == PGC_STEP_QUERY)
            notify_sent_if_flushed(conn);
    }
    if (conn->state == PGC_RUNNING) {
        process_results(conn);
    } else if (conn->state == PGC_READY) {
        /* Idle: drain notices; a closed connection shows up here. */
        if (PQstatus(conn->pg) == CONNECTION_BAD) {
            fail_connection(conn, "connection lost");
            return;
        }
        while (!PQisBusy(conn->pg)) {
            PGresult *res = PQgetResult(conn->pg);
            if (!res)
                break;
            PQclear(res);
        }
    }
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

int pgc_connect(pgc_conn *conn, pgc_done_cb done, void *user)
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
    if (!conn->pg)
        return -1;
    conn->connect_done = done;
    conn->connect_user = user;
    if (PQstatus(conn->pg) == CONNECTION_BAD) {
        /* Reported through the callback on the next loop turn would be nicer; this is early. */
        conn->connect_done = NULL;
        return -1;
    }
    conn->state = PGC_CONNECTING;
    /* PQconnectStartParams behaves as if the last poll said "writing". */
    return watch(conn, UV_WRITABLE);
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

bool pgc_busy(const pgc_conn *conn)
{
    return conn->job != NULL || conn->queue_head != NULL;
}

const char *pgc_describe(const pgc_conn *conn)
{
    return conn->describe;
}

void pgc_free(pgc_conn *conn)
{
    if (!conn)
        return;
    detach_poll(conn);
    if (conn->pg)
        PQfinish(conn->pg);
    free(conn->job);
    for (pgc_job *job = conn->queue_head; job;) {
        pgc_job *next = job->next;
        free(job);
        job = next;
    }
    free(conn);
}
