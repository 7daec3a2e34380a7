/*
 * Integration tests of the loop-driven PostgreSQL connection
 * (src/daemon/pg_conn.c) against the real server: pipelined steps mixed with
 * queries in one transaction, the automatic ROLLBACK after a failed job,
 * session SQL, COPY, and reconnecting after the server ended our backend or
 * when the server cannot be reached.
 *
 * The server comes from STORYD_PG_DSN, or from the STORYD_PG_DSN line of
 * .run/env that scripts/services.sh writes in the source tree. Without either
 * the tests fail: a skipped integration test would prove nothing. Every table
 * is temporary, so nothing outlives a test's connections.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <uv.h>

#include "common/config.h"
#include "daemon/pg_conn.h"

#define WAIT_MS 30000

#define STAGE_SQL                                                                                  \
    "CREATE TEMP TABLE stage_a (id int PRIMARY KEY, v text);"                                      \
    "CREATE TEMP TABLE stage_s (k text);"                                                          \
    "INSERT INTO stage_s VALUES ('from session')"
#define INSERT_A "INSERT INTO stage_a (id, v) VALUES ($1, $2)"

/* What a done callback saw. */
typedef struct outcome {
    pgc_conn *conn;
    int calls;
    int status;
    bool lost; /* pgc_is_lost inside the callback */
    char error[2600];
} outcome;

/* What a step's on_result and on_sent saw. */
typedef struct seen {
    int sent;
    int results;
    long long sum;       /* of the first column of every row */
    char first[128];     /* first column of the first row */
    long long second;    /* second column of the first row, if any */
    long long third;     /* third column of the first row, if any */
    struct fixture *fix; /* for on_sent actions */
} seen;

typedef struct fixture {
    uv_loop_t loop;
    uv_timer_t guard;
    bool timed_out;
    sd_config *config;
    char port[32]; /* the DSN's port, to restore after pointing elsewhere */
    pgc_conn *conn;
    PGconn *admin; /* blocking side connection: checks and pg_terminate_backend */
    int terminate_pid;
    bool loop_ready; /* the loop and the guard timer are initialized */
} fixture;

/* ---- Setup ------------------------------------------------------------------------------- */

/* The DSN from the environment or .run/env; fails the test when there is none. */
static void find_dsn(char *dsn, size_t len)
{
    const char *env = getenv("STORYD_PG_DSN");
    if (env && env[0]) {
        snprintf(dsn, len, "%s", env);
        return;
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/.run/env", STORYD_SOURCE_DIR);
    FILE *file = fopen(path, "r");
    if (!file)
        fail_msg("no STORYD_PG_DSN and no %s: start the services (scripts/services.sh start)",
                 path);
    char line[1024];
    dsn[0] = '\0';
    while (fgets(line, sizeof(line), file)) {
        if (strncmp(line, "STORYD_PG_DSN=", 14) != 0)
            continue;
        char *value = line + 14;
        value[strcspn(value, "\r\n")] = '\0';
        size_t n = strlen(value);
        if (n >= 2 && (value[0] == '\'' || value[0] == '"') && value[n - 1] == value[0]) {
            value[n - 1] = '\0';
            value++;
        }
        snprintf(dsn, len, "%s", value);
    }
    fclose(file);
    if (!dsn[0])
        fail_msg("%s has no STORYD_PG_DSN line", path);
}

/* Turns the DSN into [postgres] keys, one libpq keyword each, as a config file would hold. */
static void config_from_dsn(fixture *f, const char *dsn)
{
    char *err = NULL;
    PQconninfoOption *options = PQconninfoParse(dsn, &err);
    if (!options)
        fail_msg("cannot parse STORYD_PG_DSN '%s': %s", dsn, err ? err : "out of memory");
    for (PQconninfoOption *o = options; o->keyword; o++) {
        if (!o->val || !o->val[0])
            continue;
        char key[128], message[512];
        snprintf(key, sizeof(key), "postgres.%s", o->keyword);
        assert_int_equal(sd_config_set(f->config, key, o->val, "test", message, sizeof(message)),
                         0);
        if (strcmp(o->keyword, "port") == 0)
            snprintf(f->port, sizeof(f->port), "%s", o->val);
    }
    PQconninfoFree(options);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    *state = f;
    char dsn[1024];
    find_dsn(dsn, sizeof(dsn));
    f->config = sd_config_new();
    assert_non_null(f->config);
    config_from_dsn(f, dsn);
    if (!f->port[0])
        snprintf(f->port, sizeof(f->port), "5432");
    f->admin = PQconnectdb(dsn);
    if (PQstatus(f->admin) != CONNECTION_OK)
        fail_msg("cannot connect to '%s': %s", dsn, PQerrorMessage(f->admin));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(uv_timer_init(&f->loop, &f->guard), 0);
    f->guard.data = f;
    f->loop_ready = true;
    f->conn = pgc_new(&f->loop, f->config);
    assert_non_null(f->conn);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    pgc_free(f->conn);
    if (f->loop_ready) {
        uv_close((uv_handle_t *)&f->guard, NULL);
        /* One more turn runs the close callbacks of the guard and the poll handles. */
        uv_run(&f->loop, UV_RUN_DEFAULT);
        assert_int_equal(uv_loop_close(&f->loop), 0);
    }
    PQfinish(f->admin);
    sd_config_free(f->config);
    free(f);
    return 0;
}

/* ---- Running the loop -------------------------------------------------------------------- */

static void on_guard(uv_timer_t *timer)
{
    fixture *f = timer->data;
    f->timed_out = true;
}

/* Runs the loop until *calls is nonzero; fails after WAIT_MS, naming the caller's line. */
#define wait_for(f, calls) wait_for_at(f, calls, __LINE__)

static void wait_for_at(fixture *f, const int *calls, int line)
{
    f->timed_out = false;
    uv_timer_start(&f->guard, on_guard, WAIT_MS, 0);
    while (*calls == 0 && !f->timed_out)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_timer_stop(&f->guard);
    if (*calls == 0)
        fail_msg("line %d: nothing happened within %d ms", line, WAIT_MS);
}

static void on_done(void *user, int status, const char *error)
{
    outcome *o = user;
    o->calls++;
    o->status = status;
    o->lost = pgc_is_lost(o->conn);
    snprintf(o->error, sizeof(o->error), "%s", error ? error : "");
}

static void expect_ok(const outcome *o)
{
    assert_int_equal(o->calls, 1);
    if (o->status != 0)
        fail_msg("failed: %s", o->error);
}

static void expect_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

/* Connects (or reconnects) and waits for the outcome. */
static void connect_conn(fixture *f, bool again, outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->conn = f->conn;
    int rc = again ? pgc_reconnect(f->conn, on_done, o) : pgc_connect(f->conn, on_done, o);
    if (rc != 0) {
        /* libpq refused at once: reported by the return value, with no callback. */
        o->calls = 1;
        o->status = -1;
        o->lost = pgc_is_lost(f->conn);
        snprintf(o->error, sizeof(o->error), "refused at once");
        return;
    }
    wait_for(f, &o->calls);
}

static void connect_ok(fixture *f, const char *session_sql)
{
    assert_int_equal(pgc_set_session_sql(f->conn, session_sql), 0);
    outcome o;
    connect_conn(f, false, &o);
    expect_ok(&o);
    assert_false(pgc_is_lost(f->conn));
}

/* Queues a job; the outcome is filled once it ends. */
static void run_job(fixture *f, const pgc_step *steps, size_t nsteps, outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->conn = f->conn;
    assert_int_equal(pgc_run(f->conn, steps, nsteps, on_done, o), 0);
}

static void on_rows(void *user, const PGresult *res)
{
    seen *s = user;
    for (int row = 0; row < PQntuples(res); row++) {
        if (s->results == 0 && row == 0) {
            snprintf(s->first, sizeof(s->first), "%s", PQgetvalue(res, 0, 0));
            if (PQnfields(res) > 1)
                s->second = atoll(PQgetvalue(res, 0, 1));
            if (PQnfields(res) > 2)
                s->third = atoll(PQgetvalue(res, 0, 2));
        }
        s->sum += atoll(PQgetvalue(res, row, 0));
    }
    s->results++;
}

static void on_sent(void *user)
{
    seen *s = user;
    s->sent++;
}

static pgc_step query(const char *sql, seen *s)
{
    return (pgc_step){
        .kind = PGC_STEP_QUERY, .sql = sql, .on_result = on_rows, .on_sent = on_sent, .user = s};
}

/* One query as a job, run to its end; returns the first column of the first row. */
static void query_value(fixture *f, const char *sql, char *value, size_t len)
{
    seen s = {0};
    pgc_step step = query(sql, &s);
    outcome o;
    run_job(f, &step, 1, &o);
    wait_for(f, &o.calls);
    expect_ok(&o);
    snprintf(value, len, "%s", s.first);
}

static int backend_pid(fixture *f)
{
    char pid[32];
    query_value(f, "SELECT pg_backend_pid()", pid, sizeof(pid));
    return atoi(pid);
}

/* Ends the backend pid from the side connection, as an administrator would. */
static void terminate(fixture *f, int pid)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", pid);
    PGresult *res = PQexec(f->admin, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        fail_msg("pg_terminate_backend(%d) failed: %s", pid, PQerrorMessage(f->admin));
    PQclear(res);
}

static void terminate_on_sent(void *user)
{
    seen *s = user;
    s->sent++;
    terminate(s->fix, s->fix->terminate_pid);
}

/* Rows (id, v) for stage_a: ids from first, every 7th v NULL, the others 200 characters. */
typedef struct rows {
    char (*ids)[16];
    const char **params;
    size_t n;
} rows;

static const char long_text[] =
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijkl"
    "mnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz012345";

static void make_rows(rows *r, size_t n, int first)
{
    r->n = n;
    r->ids = calloc(n ? n : 1, sizeof(*r->ids));
    r->params = calloc(n ? 2 * n : 1, sizeof(*r->params));
    assert_non_null(r->ids);
    assert_non_null(r->params);
    for (size_t i = 0; i < n; i++) {
        snprintf(r->ids[i], sizeof(r->ids[i]), "%d", first + (int)i);
        r->params[2 * i] = r->ids[i];
        r->params[2 * i + 1] = (first + i) % 7 == 0 ? NULL : long_text;
    }
}

static void free_rows(rows *r)
{
    free(r->ids);
    free(r->params);
}

static pgc_step pipeline(const char *name, const char *sql, int nparams, const rows *r, seen *s)
{
    return (pgc_step){.kind = PGC_STEP_PIPELINE,
                      .sql = sql,
                      .name = name,
                      .nparams = nparams,
                      .params = r->params,
                      .nrows = r->n,
                      .on_result = on_rows,
                      .on_sent = on_sent,
                      .user = s};
}

/* ---- Tests ------------------------------------------------------------------------------- */

/* BEGIN, two pipelines on one prepared statement, one with rows back, SELECT, COMMIT. */
static void test_pipeline_in_transaction(void **state)
{
    fixture *f = *state;
    connect_ok(f, STAGE_SQL);
    rows big, more, doubled;
    make_rows(&big, 5000, 0);
    make_rows(&more, 1000, 5000);
    make_rows(&doubled, 10, 1);
    /* "SELECT $1 * 2" takes one parameter a row: the ids of doubled, read as single values. */
    const char *singles[10];
    for (size_t i = 0; i < 10; i++)
        singles[i] = doubled.ids[i];
    seen s_begin = {0}, s_big = {0}, s_more = {0}, s_double = {0}, s_count = {0}, s_commit = {0};
    pgc_step steps[6] = {
        query("BEGIN", &s_begin),
        pipeline("ins_a", INSERT_A, 2, &big, &s_big),
        pipeline("ins_a", INSERT_A, 2, &more, &s_more),
        pipeline("double", "SELECT $1::int * 2", 1, &doubled, &s_double),
        query("SELECT count(*), count(v), sum(id) FROM stage_a", &s_count),
        query("COMMIT", &s_commit),
    };
    steps[3].params = singles;
    outcome o;
    run_job(f, steps, 6, &o);
    wait_for(f, &o.calls);
    expect_ok(&o);

    long long nulls = 0, sum = 0;
    for (long long id = 0; id < 6000; id++) {
        nulls += id % 7 == 0;
        sum += id;
    }
    assert_string_equal(s_count.first, "6000");
    assert_int_equal(s_count.second, 6000 - nulls);
    assert_int_equal(s_count.third, sum);
    /* 2 * (1 + ... + 10), one result a row. */
    assert_int_equal(s_double.sum, 110);
    assert_int_equal(s_double.results, 10);
    /* INSERTs carry no rows; on_sent runs once a step. */
    assert_int_equal(s_big.results, 0);
    assert_int_equal(s_big.sent, 1);
    assert_int_equal(s_more.sent, 1);
    assert_int_equal(s_double.sent, 1);
    assert_int_equal(s_commit.sent, 1);

    /* Committed: the temp table keeps the rows for the session. */
    char count[32];
    query_value(f, "SELECT count(*) FROM stage_a", count, sizeof(count));
    assert_string_equal(count, "6000");

    /* The unnamed statement is prepared each time; an empty pipeline is a no-op. */
    rows none;
    make_rows(&none, 0, 0);
    for (int round = 0; round < 2; round++) {
        seen u = {0}, e = {0};
        pgc_step unnamed[2] = {pipeline(NULL, "SELECT $1::int + 1", 1, &doubled, &u),
                               pipeline("empty", INSERT_A, 2, &none, &e)};
        unnamed[0].params = singles;
        run_job(f, unnamed, 2, &o);
        wait_for(f, &o.calls);
        expect_ok(&o);
        assert_int_equal(u.sum, 65);
        assert_int_equal(e.sent, 1);
    }
    free_rows(&none);
    free_rows(&big);
    free_rows(&more);
    free_rows(&doubled);
}

/*
 * Large rows both ways: 1,000 parameters of 64 KiB fill the socket (PQflush
 * returns 1), and 2,000 results of 32 KiB each would block the server if they
 * were not read while the rows are still being sent.
 */
static void test_pipeline_backpressure(void **state)
{
    fixture *f = *state;
    connect_ok(f, "CREATE TEMP TABLE stage_big (id int, v text)");
    enum { BIG = 64 * 1024, NBIG = 1000, NECHO = 2000 };
    char *big = malloc(BIG + 1);
    assert_non_null(big);
    memset(big, 'b', BIG);
    big[BIG] = '\0';
    rows ins, echo;
    make_rows(&ins, NBIG, 0);
    for (size_t i = 0; i < NBIG; i++)
        ins.params[2 * i + 1] = big;
    make_rows(&echo, NECHO, 0);
    const char *singles[NECHO];
    for (size_t i = 0; i < NECHO; i++)
        singles[i] = echo.ids[i];
    seen s[5] = {0};
    pgc_step steps[5] = {
        query("BEGIN", &s[0]),
        pipeline("ins_big", "INSERT INTO stage_big VALUES ($1, $2)", 2, &ins, &s[1]),
        pipeline("echo", "SELECT $1::int, repeat('e', 32768)", 1, &echo, &s[2]),
        query("SELECT count(*), sum(length(v)), sum(id) FROM stage_big", &s[3]),
        query("COMMIT", &s[4]),
    };
    steps[2].params = singles;
    outcome o;
    run_job(f, steps, 5, &o);
    wait_for(f, &o.calls);
    expect_ok(&o);
    assert_int_equal(s[2].results, NECHO);
    assert_int_equal(s[2].sum, (long long)NECHO * (NECHO - 1) / 2);
    assert_string_equal(s[3].first, "1000");
    assert_int_equal(s[3].second, (long long)NBIG * BIG);
    assert_int_equal(s[3].third, (long long)NBIG * (NBIG - 1) / 2);
    assert_int_equal(s[1].sent, 1);
    assert_int_equal(s[2].sent, 1);
    free(big);
    free_rows(&ins);
    free_rows(&echo);
}

/* A failing row fails the job with its SQLSTATE; the ROLLBACK lets the next job run. */
static void test_pipeline_failure_rolls_back(void **state)
{
    fixture *f = *state;
    connect_ok(f, STAGE_SQL);
    rows r;
    make_rows(&r, 100, 0);
    /* Row 51 repeats the id of row 11. */
    r.params[2 * 50] = r.ids[10];
    seen s[3] = {0};
    pgc_step failing[3] = {
        query("BEGIN", &s[0]),
        pipeline("ins_a", INSERT_A, 2, &r, &s[1]),
        query("COMMIT", &s[2]),
    };
    seen s_count = {0};
    pgc_step count = query("SELECT count(*) FROM stage_a", &s_count);
    outcome o1, o2;
    /* Both queued at once: the ROLLBACK must come between them. */
    run_job(f, failing, 3, &o1);
    run_job(f, &count, 1, &o2);
    wait_for(f, &o2.calls);
    assert_int_equal(o1.calls, 1);
    assert_int_equal(o1.status, -1);
    assert_false(o1.lost);
    expect_contains(o1.error, "step 2 (INSERT INTO stage_a");
    expect_contains(o1.error, "row 51: 23505");
    assert_int_equal(s[2].sent, 0);
    expect_ok(&o2);
    assert_string_equal(s_count.first, "0");

    /* A failing plain query inside a transaction is rolled back the same way. */
    seen q[3] = {0};
    pgc_step division[3] = {query("BEGIN", &q[0]), query("SELECT 1/0", &q[1]),
                            query("COMMIT", &q[2])};
    run_job(f, division, 3, &o1);
    wait_for(f, &o1.calls);
    assert_int_equal(o1.status, -1);
    expect_contains(o1.error, "step 2 (SELECT 1/0): 22012");

    /* The statement prepared by the failed pipeline is still there and works. */
    rows ok;
    make_rows(&ok, 3, 1000);
    seen p[3] = {0};
    pgc_step again[3] = {query("BEGIN", &p[0]), pipeline("ins_a", INSERT_A, 2, &ok, &p[1]),
                         query("COMMIT", &p[2])};
    run_job(f, again, 3, &o1);
    wait_for(f, &o1.calls);
    expect_ok(&o1);
    char n[32];
    query_value(f, "SELECT count(*) FROM stage_a", n, sizeof(n));
    assert_string_equal(n, "3");
    free_rows(&r);
    free_rows(&ok);
}

/* Session SQL runs before the first job; a failing one fails the connect, and can be fixed. */
static void test_session_sql(void **state)
{
    fixture *f = *state;
    assert_int_equal(pgc_set_session_sql(f->conn, "SELECT 1; SELECT * FROM no_such_table"), 0);
    outcome o;
    connect_conn(f, false, &o);
    assert_int_equal(o.status, -1);
    expect_contains(o.error, "session SQL failed: 42P01");
    assert_true(pgc_is_lost(f->conn));
    seen s = {0};
    pgc_step step = query("SELECT 1", &s);
    assert_int_equal(pgc_run(f->conn, &step, 1, on_done, &o), -1);

    assert_int_equal(pgc_set_session_sql(f->conn, STAGE_SQL "; SET application_name = 'pgc-test'"),
                     0);
    connect_conn(f, true, &o);
    expect_ok(&o);
    char value[128];
    query_value(f, "SELECT k || ' as ' || current_setting('application_name') FROM stage_s", value,
                sizeof(value));
    assert_string_equal(value, "from session as pgc-test");
}

/*
 * The server ends our backend while a job runs: the job fails as lost, the
 * queued job waits, pgc_reconnect brings the session SQL and the prepared
 * statements back, and the queued job runs there. Then the same while idle.
 */
static void test_terminated_backend_reconnects(void **state)
{
    fixture *f = *state;
    connect_ok(f, STAGE_SQL);
    rows r;
    make_rows(&r, 3, 0);
    seen s_ins = {0};
    pgc_step ins = pipeline("ins_a", INSERT_A, 2, &r, &s_ins);
    outcome o;
    run_job(f, &ins, 1, &o);
    wait_for(f, &o.calls);
    expect_ok(&o);
    f->terminate_pid = backend_pid(f);

    seen s_sleep = {.fix = f}, s_count = {0};
    pgc_step sleep = query("SELECT pg_sleep(30)", &s_sleep);
    sleep.on_sent = terminate_on_sent;
    pgc_step count[2] = {query("SELECT count(*) FROM stage_a", &s_count),
                         pipeline("ins_a", INSERT_A, 2, &r, &s_ins)};
    outcome o_sleep, o_count;
    run_job(f, &sleep, 1, &o_sleep);
    run_job(f, count, 2, &o_count);
    wait_for(f, &o_sleep.calls);
    assert_int_equal(o_sleep.status, -1);
    assert_true(o_sleep.lost);
    expect_contains(o_sleep.error, "connection lost: ");
    assert_true(pgc_is_lost(f->conn));
    assert_int_equal(o_count.calls, 0);
    assert_true(pgc_busy(f->conn));
    seen s = {0};
    pgc_step step = query("SELECT 1", &s);
    outcome refused;
    assert_int_equal(pgc_run(f->conn, &step, 1, on_done, &refused), -1);

    outcome o_connect;
    connect_conn(f, true, &o_connect);
    expect_ok(&o_connect);
    assert_false(pgc_is_lost(f->conn));
    wait_for(f, &o_count.calls);
    /* The new session's stage_a was empty, and ins_a was prepared again. */
    expect_ok(&o_count);
    assert_string_equal(s_count.first, "0");
    int pid = backend_pid(f);
    assert_int_not_equal(pid, f->terminate_pid);
    char n[32];
    query_value(f, "SELECT count(*) FROM stage_a", n, sizeof(n));
    assert_string_equal(n, "3");

    /* Ended while idle: the next job fails as lost (possibly before pgc_run returns). */
    terminate(f, pid);
    seen s_idle = {0};
    pgc_step idle = query("SELECT pg_sleep(1)", &s_idle);
    outcome o_idle;
    run_job(f, &idle, 1, &o_idle);
    wait_for(f, &o_idle.calls);
    assert_int_equal(o_idle.status, -1);
    assert_true(o_idle.lost);
    expect_contains(o_idle.error, "connection lost: ");
    connect_conn(f, true, &o_connect);
    expect_ok(&o_connect);
    query_value(f, "SELECT k FROM stage_s", n, sizeof(n));
    assert_string_equal(n, "from session");
    free_rows(&r);
}

/* COPY FROM STDIN of more than one chunk, into a session table. */
static void test_copy(void **state)
{
    fixture *f = *state;
    connect_ok(f, "CREATE TEMP TABLE stage_c (a int, b text)");
    size_t cap = 20000 * 64, len = 0;
    char *data = malloc(cap);
    assert_non_null(data);
    for (int i = 0; i < 20000; i++)
        len += (size_t)snprintf(data + len, cap - len, "%d\t%s\n", i,
                                i % 2 ? "some text that makes a row longer" : "\\N");
    seen s[4] = {0};
    pgc_step steps[4] = {
        query("BEGIN", &s[0]),
        {.kind = PGC_STEP_COPY,
         .sql = "COPY stage_c FROM STDIN",
         .copy_data = data,
         .copy_len = len,
         .on_sent = on_sent,
         .user = &s[1]},
        query("SELECT count(*), count(b), sum(a) FROM stage_c", &s[2]),
        query("COMMIT", &s[3]),
    };
    outcome o;
    run_job(f, steps, 4, &o);
    wait_for(f, &o.calls);
    expect_ok(&o);
    assert_int_equal(s[1].sent, 1);
    assert_string_equal(s[2].first, "20000");
    assert_int_equal(s[2].second, 10000);
    assert_int_equal(s[2].third, 19999LL * 20000 / 2);
    free(data);
}

/*
 * With the server out of reach, reconnecting fails cleanly, again and again;
 * the job queued before the loss waits through it and runs once a reconnect
 * succeeds.
 */
static void test_unreachable_then_reconnect(void **state)
{
    fixture *f = *state;
    connect_ok(f, STAGE_SQL);
    f->terminate_pid = backend_pid(f);
    seen s_sleep = {.fix = f}, s_later = {0};
    pgc_step sleep = query("SELECT pg_sleep(30)", &s_sleep);
    sleep.on_sent = terminate_on_sent;
    pgc_step later = query("SELECT k FROM stage_s", &s_later);
    outcome o_sleep, o_later;
    run_job(f, &sleep, 1, &o_sleep);
    run_job(f, &later, 1, &o_later);
    wait_for(f, &o_sleep.calls);
    assert_true(o_sleep.lost);

    char err[256];
    assert_int_equal(sd_config_set(f->config, "postgres.port", "1", "test", err, sizeof(err)), 0);
    for (int attempt = 0; attempt < 3; attempt++) {
        outcome o;
        connect_conn(f, true, &o);
        assert_int_equal(o.status, -1);
        if (strcmp(o.error, "refused at once") != 0)
            expect_contains(o.error, "connecting to PostgreSQL failed");
        assert_true(pgc_is_lost(f->conn));
        assert_int_equal(o_later.calls, 0);
        assert_true(pgc_busy(f->conn));
    }
    assert_int_equal(sd_config_set(f->config, "postgres.port", f->port, "test", err, sizeof(err)),
                     0);
    outcome o;
    connect_conn(f, true, &o);
    expect_ok(&o);
    wait_for(f, &o_later.calls);
    expect_ok(&o_later);
    assert_string_equal(s_later.first, "from session");
}

/* pgc_reconnect on a live connection fails the running job and connects again. */
static void test_reconnect_while_running(void **state)
{
    fixture *f = *state;
    connect_ok(f, NULL);
    seen s = {0};
    pgc_step sleep = query("SELECT pg_sleep(30)", &s);
    outcome o_sleep, o_connect;
    run_job(f, &sleep, 1, &o_sleep);
    connect_conn(f, true, &o_connect);
    assert_int_equal(o_sleep.calls, 1);
    assert_int_equal(o_sleep.status, -1);
    expect_contains(o_sleep.error, "connection lost: ");
    expect_ok(&o_connect);
    char one[8];
    query_value(f, "SELECT 1", one, sizeof(one));
    assert_string_equal(one, "1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pipeline_in_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_failure_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_sql, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminated_backend_reconnects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_then_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_while_running, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
