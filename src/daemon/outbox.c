#include "daemon/outbox.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "common/buf.h"
#include "common/log.h"

/* One row of the round in flight. */
typedef struct ob_row {
    int64_t id;
    bool done;      /* its delivery report arrived */
    bool delivered; /* ...and said the broker has it */
    int32_t partition;
    int64_t offset;
} ob_row;

struct ob_relay {
    uv_loop_t *loop;
    const sd_config *config; /* borrowed */
    pgc_conn *pg;            /* borrowed */
    void (*on_idle)(void *user);
    void *user;
    rd_kafka_t *rk;
    uv_timer_t poll_timer;
    uv_timer_t retry_timer;  /* sends rows that failed again, with backoff */
    uv_timer_t prune_timer;  /* deletes sent rows older than storyd.outbox_retention_s */
    bool pruning;            /* its DELETE is queued or running */
    uint64_t retry_delay_ms; /* 0 after a round without failures */
    bool round_failed;       /* a row of the round was refused or not delivered */
    bool stopping;           /* ob_stop was called: no more retries */
    bool gave_up;            /* ob_stop's grace ran out */
    int open_handles;
    bool running;   /* a round is in progress */
    bool selected;  /* its rows have all been read and produced */
    bool marking;   /* its UPDATE is queued or running */
    bool again;     /* a round was asked for while one ran */
    uint64_t round; /* tags delivery reports, so those of an abandoned round are ignored */
    ob_row *rows;
    size_t n_rows, cap_rows, pending;
    bool full; /* the round read as many rows as it may: more may be waiting */
    char limit_text[24];
    const char *select_params[1];
    pgc_step select_step, mark_step, prune_step, backlog_step;
    uv_timer_t backlog_timer; /* counts the unsent rows for /metrics */
    bool counting;            /* its count is queued or running */
    int64_t backlog;          /* unsent rows at the last count, -1 before the first */
    char retention_text[24];
    const char *prune_params[1];
    sd_buf mark_id, mark_partition, mark_offset;
    const char *mark_params[3];
    uint64_t sent, failed;
};

/* The opaque of each produced message: the row and its round, packed into one pointer. */
#define ROUND_SHIFT 24
#define ROW_MASK    ((UINT64_C(1) << ROUND_SHIFT) - 1)

static const char select_sql[] =
    "SELECT id, kafka_topic, kafka_key, value, event_id, error_class, error_message,"
    " source_topic, source_partition, source_offset,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    " FROM storyd_outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1::bigint";
static const char mark_sql[] =
    "UPDATE storyd_outbox o SET sent_at = now(), sent_partition = d.p, sent_offset = d.o"
    " FROM unnest($1::bigint[], $2::integer[], $3::bigint[]) AS d(id, p, o)"
    " WHERE o.id = d.id";

static void start_round(ob_relay *relay);

/*
 * Sent rows are deleted by a timer, a tenth of the retention apart (at least a second, at most a
 * minute), whether or not rows are coming: a quiet outbox is pruned too.
 */
#define PRUNE_MIN_MS 1000
#define PRUNE_MAX_MS 60000
static const char prune_sql[] = "DELETE FROM storyd_outbox WHERE sent_at IS NOT NULL"
                                " AND sent_at <= now() - $1::bigint * interval '1 second'";

static void log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *line)
{
    (void)rk;
    /* Served from rd_kafka_poll on the loop thread (log.queue=true). */
    int ours = level <= 3 ? SD_LOG_ERROR : level > SD_LOG_DEBUG ? SD_LOG_DEBUG : level;
    sd_log(ours, "rdkafka", "relay %s: %s", facility, line);
}

static void delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque)
{
    (void)rk;
    ob_relay *relay = opaque;
    uint64_t tag = (uint64_t)(uintptr_t)message->_private;
    size_t index = (size_t)(tag & ROW_MASK);
    if ((tag >> ROUND_SHIFT) != (relay->round & (UINT64_MAX >> ROUND_SHIFT)) ||
        index >= relay->n_rows || relay->rows[index].done)
        return; /* a report of an abandoned round: its rows are sent again anyway */
    ob_row *row = &relay->rows[index];
    row->done = true;
    row->delivered = message->err == RD_KAFKA_RESP_ERR_NO_ERROR;
    row->partition = message->partition;
    row->offset = message->offset;
    if (!row->delivered) {
        relay->failed++;
        relay->round_failed = true;
        sd_log_warning("relay",
                       "outbox row %" PRId64 " not delivered (%s); it stays unsent and "
                       "is tried again",
                       row->id, rd_kafka_err2str(message->err));
    }
    relay->pending--;
}

/* The first retry of failed rows waits this long; each further one twice as long, up to the cap. */
#define RETRY_FIRST_MS 200
#define RETRY_MAX_MS   30000

static void on_retry_timer(uv_timer_t *timer)
{
    ob_kick(timer->data);
}

static void end_round(ob_relay *relay, bool more)
{
    relay->running = false;
    if (relay->round_failed && !relay->stopping) {
        /* Rows that stay unsent are tried again even when no new batch comes to kick. */
        relay->retry_delay_ms = relay->retry_delay_ms ? relay->retry_delay_ms * 2 : RETRY_FIRST_MS;
        if (relay->retry_delay_ms > RETRY_MAX_MS)
            relay->retry_delay_ms = RETRY_MAX_MS;
        uv_timer_start(&relay->retry_timer, on_retry_timer, relay->retry_delay_ms, 0);
    } else {
        relay->retry_delay_ms = 0;
    }
    if (relay->again || more) {
        relay->again = false;
        start_round(relay);
    }
    if (!relay->running && relay->on_idle)
        relay->on_idle(relay->user);
}

static void on_pruned(void *user, int status, const char *error)
{
    ob_relay *relay = user;
    relay->pruning = false;
    /* Not fatal: the rows are sent already, and the next prune tries again. */
    if (status != 0)
        sd_log_warning("relay", "deleting sent outbox rows failed: %s", error);
    /* A stopping daemon waits for the connection to be idle, so it hears when the DELETE ends. */
    if (!relay->running && relay->on_idle)
        relay->on_idle(relay->user);
}

static const char backlog_sql[] = "SELECT count(*) FROM storyd_outbox WHERE sent_at IS NULL";
#define BACKLOG_EVERY_MS 5000

static void on_backlog_row(void *user, const PGresult *result)
{
    ob_relay *relay = user;
    if (PQntuples(result) == 1)
        relay->backlog = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
}

static void on_backlog_counted(void *user, int status, const char *error)
{
    ob_relay *relay = user;
    relay->counting = false;
    if (status != 0)
        sd_log_debug("relay", "counting the unsent outbox rows failed: %s", error);
    if (!relay->running && relay->on_idle)
        relay->on_idle(relay->user);
}

/* The unsent rows are counted by the database, which is the truth of what is owed. */
static void on_backlog_timer(uv_timer_t *timer)
{
    ob_relay *relay = timer->data;
    if (relay->counting || relay->stopping || pgc_is_lost(relay->pg))
        return;
    relay->backlog_step = (pgc_step){
        .kind = PGC_STEP_QUERY, .sql = backlog_sql, .on_result = on_backlog_row, .user = relay};
    relay->counting = pgc_run(relay->pg, &relay->backlog_step, 1, on_backlog_counted, relay) == 0;
}

int64_t ob_backlog(const ob_relay *relay)
{
    return relay->backlog;
}

static void on_prune_timer(uv_timer_t *timer)
{
    ob_relay *relay = timer->data;
    if (relay->pruning || relay->stopping)
        return;
    relay->prune_params[0] = relay->retention_text;
    relay->prune_step = (pgc_step){
        .kind = PGC_STEP_QUERY, .sql = prune_sql, .nparams = 1, .params = relay->prune_params};
    relay->pruning = pgc_run(relay->pg, &relay->prune_step, 1, on_pruned, relay) == 0;
}

static uint64_t prune_every_ms(long retention_s)
{
    uint64_t every = (uint64_t)retention_s * 100;
    return every < PRUNE_MIN_MS ? PRUNE_MIN_MS : every > PRUNE_MAX_MS ? PRUNE_MAX_MS : every;
}

static void on_marked(void *user, int status, const char *error)
{
    ob_relay *relay = user;
    if (status != 0) {
        /* The rows stay unsent and go out again: at least once, never lost. */
        sd_log_warning("relay", "marking outbox rows sent failed: %s", error);
        relay->round_failed = true;
        end_round(relay, false);
        return;
    }
    size_t delivered = 0;
    for (size_t i = 0; i < relay->n_rows; i++)
        delivered += relay->rows[i].delivered;
    relay->sent += delivered;
    sd_log_debug("relay", "%zu outbox rows delivered and marked sent", delivered);
    end_round(relay, relay->full && delivered == relay->n_rows);
}

/* Every report of the round is in: mark what the broker has. */
static void mark_delivered(ob_relay *relay)
{
    sd_buf *bufs[3] = {&relay->mark_id, &relay->mark_partition, &relay->mark_offset};
    for (int b = 0; b < 3; b++) {
        sd_buf_reset(bufs[b]);
        sd_buf_append_char(bufs[b], '{');
    }
    size_t marked = 0;
    for (size_t i = 0; i < relay->n_rows; i++) {
        const ob_row *row = &relay->rows[i];
        if (!row->delivered)
            continue;
        const char *sep = marked++ ? "," : "";
        sd_buf_printf(&relay->mark_id, "%s%" PRId64, sep, row->id);
        sd_buf_printf(&relay->mark_partition, "%s%" PRId32, sep, row->partition);
        sd_buf_printf(&relay->mark_offset, "%s%" PRId64, sep, row->offset);
    }
    for (int b = 0; b < 3; b++) {
        sd_buf_append_char(bufs[b], '}');
        relay->mark_params[b] = bufs[b]->data;
    }
    if (marked == 0 || relay->mark_id.failed || relay->mark_partition.failed ||
        relay->mark_offset.failed) {
        end_round(relay, false);
        return;
    }
    relay->mark_step = (pgc_step){
        .kind = PGC_STEP_QUERY, .sql = mark_sql, .nparams = 3, .params = relay->mark_params};
    if (pgc_run(relay->pg, &relay->mark_step, 1, on_marked, relay) != 0)
        end_round(relay, false);
}

static void on_poll_timer(uv_timer_t *timer)
{
    ob_relay *relay = timer->data;
    rd_kafka_poll(relay->rk, 0);
    if (relay->running && relay->selected && !relay->marking && relay->n_rows &&
        relay->pending == 0) {
        relay->marking = true;
        mark_delivered(relay);
    }
}

static const char *value_or_null(const PGresult *result, int row, int column)
{
    return PQgetisnull(result, row, column) ? NULL : PQgetvalue(result, row, column);
}

/* Produces one outbox row; returns 0, or -1 when librdkafka refused it (it stays unsent). */
static int produce_row(ob_relay *relay, const PGresult *result, int r, size_t index)
{
    size_t key_len = 0, value_len = 0;
    unsigned char *key = NULL;
    if (!PQgetisnull(result, r, 2))
        key = PQunescapeBytea((const unsigned char *)PQgetvalue(result, r, 2), &key_len);
    unsigned char *value =
        PQunescapeBytea((const unsigned char *)PQgetvalue(result, r, 3), &value_len);
    rd_kafka_headers_t *headers = rd_kafka_headers_new(8);
    rd_kafka_header_add(headers, "storyd-event-id", -1, PQgetvalue(result, r, 4), -1);
    /* Dead letters say what failed and where the event came from. */
    static const char *const names[] = {"storyd-error-class", "storyd-error-message",
                                        "storyd-source-topic", "storyd-source-partition",
                                        "storyd-source-offset"};
    for (int h = 0; h < 5; h++) {
        const char *v = value_or_null(result, r, 5 + h);
        if (v)
            rd_kafka_header_add(headers, names[h], -1, v, -1);
    }
    if (value_or_null(result, r, 5))
        rd_kafka_header_add(headers, "storyd-failed-at", -1, PQgetvalue(result, r, 10), -1);
    uint64_t tag = ((relay->round & (UINT64_MAX >> ROUND_SHIFT)) << ROUND_SHIFT) | index;
    rd_kafka_resp_err_t err =
        rd_kafka_producev(relay->rk, RD_KAFKA_V_TOPIC(PQgetvalue(result, r, 1)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
                          RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_HEADERS(headers),
                          RD_KAFKA_V_OPAQUE((void *)(uintptr_t)tag), RD_KAFKA_V_END);
    PQfreemem(key);
    PQfreemem(value);
    if (err) {
        /* On success the message owns the headers; on failure they are still ours. */
        rd_kafka_headers_destroy(headers);
        sd_log_warning("relay", "producing outbox row %s failed: %s; it stays unsent",
                       PQgetvalue(result, r, 0), rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

static void on_rows(void *user, const PGresult *result)
{
    ob_relay *relay = user;
    int n = PQntuples(result);
    if ((size_t)n > relay->cap_rows) {
        ob_row *grown = realloc(relay->rows, (size_t)n * sizeof(*grown));
        if (!grown)
            return;
        relay->rows = grown;
        relay->cap_rows = (size_t)n;
    }
    relay->full = n >= relay->config->relay_batch;
    for (int r = 0; r < n; r++) {
        size_t index = relay->n_rows;
        relay->rows[index] = (ob_row){.id = strtoll(PQgetvalue(result, r, 0), NULL, 10)};
        relay->n_rows++;
        if (produce_row(relay, result, r, index) == 0) {
            relay->pending++;
        } else {
            relay->rows[index].done = true;
            relay->full = false;
            relay->round_failed = true;
        }
    }
    rd_kafka_poll(relay->rk, 0);
}

static void on_selected(void *user, int status, const char *error)
{
    ob_relay *relay = user;
    if (status != 0) {
        sd_log_warning("relay", "reading the outbox failed: %s; tried again after the next batch",
                       error);
        relay->round++; /* reports of what was produced are ignored; the rows go again */
        relay->round_failed = true;
        end_round(relay, false);
        return;
    }
    relay->selected = true;
    if (relay->n_rows == 0)
        end_round(relay, false);
    /* Otherwise the poll timer marks the rows once every report is in. */
}

static void start_round(ob_relay *relay)
{
    if (relay->running)
        return;
    relay->running = true;
    relay->round++;
    relay->n_rows = relay->pending = 0;
    relay->full = relay->selected = relay->marking = relay->round_failed = false;
    snprintf(relay->limit_text, sizeof(relay->limit_text), "%ld", relay->config->relay_batch);
    relay->select_params[0] = relay->limit_text;
    relay->select_step = (pgc_step){.kind = PGC_STEP_QUERY,
                                    .sql = select_sql,
                                    .nparams = 1,
                                    .params = relay->select_params,
                                    .on_result = on_rows,
                                    .user = relay};
    if (pgc_run(relay->pg, &relay->select_step, 1, on_selected, relay) != 0) {
        /* The connection is being replaced: try again after a pause. */
        relay->running = false;
        relay->again = false;
        relay->round_failed = true;
        end_round(relay, false);
    }
}

void ob_kick(ob_relay *relay)
{
    if (relay->running)
        relay->again = true;
    else
        start_round(relay);
}

bool ob_busy(const ob_relay *relay)
{
    if (relay->gave_up)
        return false;
    /* Stopping, a failed round is as far as this run gets. */
    if (relay->stopping && relay->round_failed && !relay->running)
        return relay->again;
    return relay->running || relay->again;
}

static void on_grace_over(uv_timer_t *timer)
{
    ob_relay *relay = timer->data;
    relay->gave_up = true;
    sd_log_warning("relay", "stopping with outbox rows in flight; they are sent at the next start");
    if (relay->on_idle)
        relay->on_idle(relay->user);
}

void ob_stop(ob_relay *relay, uint64_t grace_ms)
{
    if (relay->stopping)
        return;
    relay->stopping = true;
    uv_timer_stop(&relay->prune_timer);
    uv_timer_stop(&relay->backlog_timer);
    uv_timer_stop(&relay->retry_timer);
    uv_timer_start(&relay->retry_timer, on_grace_over, grace_ms, 0);
}

rd_kafka_t *ob_kafka(ob_relay *relay)
{
    return relay->rk;
}

uint64_t ob_sent(const ob_relay *relay)
{
    return relay->sent;
}

/*
 * A dead letter is as large as the largest input event plus headers, far above librdkafka's 1 MB
 * default; this stays below the broker's socket.request.max.bytes (100 MiB by default). The
 * topics' own max.message.bytes, checked at start (daemon/topics.h), is the real limit.
 */
#define RELAY_MESSAGE_MAX_BYTES "100000000"

static int set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err, size_t len)
{
    char inner[512];
    if (rd_kafka_conf_set(conf, key, value, inner, sizeof(inner)) != RD_KAFKA_CONF_OK) {
        snprintf(err, len, "kafka.%s (relay producer): %s", key, inner);
        return -1;
    }
    return 0;
}

ob_relay *ob_new(uv_loop_t *loop, const sd_config *config, pgc_conn *conn,
                 void (*on_idle)(void *user), void *user, char *err, size_t errlen)
{
    ob_relay *relay = calloc(1, sizeof(*relay));
    if (!relay) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    relay->loop = loop;
    relay->config = config;
    relay->pg = conn;
    relay->on_idle = on_idle;
    relay->user = user;
    sd_buf_init(&relay->mark_id);
    sd_buf_init(&relay->mark_partition);
    sd_buf_init(&relay->mark_offset);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "client.id", "storyd-relay", err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < config->kafka.count; i++) {
        if (sd_config_kafka_consumer_only(config->kafka.keys[i]))
            continue;
        if (set(conf, config->kafka.keys[i], config->kafka.values[i], err, errlen) != 0)
            goto fail;
    }
    /* Idempotence keeps each partition's order and drops the broker-side duplicates of
     * retries; the outbox handles the rest. */
    if (set(conf, "enable.idempotence", "true", err, errlen) != 0 ||
        set(conf, "linger.ms", "5", err, errlen) != 0 ||
        (!sd_kv_get(&config->kafka, "message.max.bytes") &&
         set(conf, "message.max.bytes", RELAY_MESSAGE_MAX_BYTES, err, errlen) != 0) ||
        set(conf, "log.queue", "true", err, errlen) != 0)
        goto fail;
    rd_kafka_conf_set_opaque(conf, relay);
    rd_kafka_conf_set_dr_msg_cb(conf, delivery_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    char inner[512];
    relay->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, inner, sizeof(inner));
    if (!relay->rk) {
        snprintf(err, errlen, "creating the relay producer: %s", inner);
        goto fail;
    }
    rd_kafka_set_log_queue(relay->rk, NULL);
    uv_timer_init(loop, &relay->poll_timer);
    uv_timer_init(loop, &relay->retry_timer);
    uv_timer_init(loop, &relay->prune_timer);
    uv_timer_init(loop, &relay->backlog_timer);
    relay->backlog = -1;
    relay->poll_timer.data = relay->retry_timer.data = relay->prune_timer.data = relay;
    relay->backlog_timer.data = relay;
    relay->open_handles = 4;
    uv_timer_start(&relay->poll_timer, on_poll_timer, 10, 10);
    snprintf(relay->retention_text, sizeof(relay->retention_text), "%ld",
             config->outbox_retention_s);
    uint64_t every = prune_every_ms(config->outbox_retention_s);
    uv_timer_start(&relay->prune_timer, on_prune_timer, every, every);
    uv_timer_start(&relay->backlog_timer, on_backlog_timer, 100, BACKLOG_EVERY_MS);
    return relay;
fail:
    rd_kafka_conf_destroy(conf);
    sd_buf_release(&relay->mark_id);
    sd_buf_release(&relay->mark_partition);
    sd_buf_release(&relay->mark_offset);
    free(relay);
    return NULL;
}

static void on_timer_closed(uv_handle_t *handle)
{
    ob_relay *relay = handle->data;
    if (--relay->open_handles > 0)
        return;
    sd_buf_release(&relay->mark_id);
    sd_buf_release(&relay->mark_partition);
    sd_buf_release(&relay->mark_offset);
    free(relay->rows);
    free(relay);
}

void ob_free(ob_relay *relay)
{
    if (!relay)
        return;
    /* What was produced gets a bounded chance to reach the broker; unmarked rows go again. */
    rd_kafka_flush(relay->rk, 5000);
    rd_kafka_destroy(relay->rk);
    uv_timer_stop(&relay->poll_timer);
    uv_timer_stop(&relay->retry_timer);
    uv_timer_stop(&relay->prune_timer);
    uv_timer_stop(&relay->backlog_timer);
    uv_close((uv_handle_t *)&relay->poll_timer, on_timer_closed);
    uv_close((uv_handle_t *)&relay->retry_timer, on_timer_closed);
    uv_close((uv_handle_t *)&relay->prune_timer, on_timer_closed);
    uv_close((uv_handle_t *)&relay->backlog_timer, on_timer_closed);
}
