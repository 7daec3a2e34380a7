#include "daemon/kafka_in.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* Messages served per loop turn before yielding to PostgreSQL and timers. */
#define POLL_BUDGET 2000

struct ki_consumer {
    uv_loop_t *loop;
    const sd_config *config; /* borrowed */
    ki_callbacks callbacks;
    void *user;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue; /* the consumer queue, which also carries logs and errors */
    int pipe_read, pipe_write;
    uv_poll_t wake;
    uv_timer_t tick;
    uv_idle_t more; /* continues serving when a turn's budget ran out */
    bool paused;    /* every assigned partition is paused (backpressure) */
    bool holding;   /* messages are left in the queue for now (short backpressure) */
    /* Every partition paused since the last resume, assigned or not any more: librdkafka keeps
     * a partition's pause across unassign and assign, so a resume must reach each of them. */
    rd_kafka_topic_partition_list_t *paused_parts;
    bool closing;
    bool started;
    bool fatal_reported;
    bool stats_seen; /* statistics have arrived at least once */
    int brokers_up;  /* brokers connected at the last statistics */
    int handles_open;
};

static void serve_queue(ki_consumer *consumer);

static void log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *line)
{
    (void)rk;
    /* Served from rd_kafka_consumer_poll on the loop thread (log.queue=true). */
    int ours = level <= 3 ? SD_LOG_ERROR : level > SD_LOG_DEBUG ? SD_LOG_DEBUG : level;
    sd_log(ours, "rdkafka", "%s: %s", facility, line);
}

/*
 * A fatal error leaves the consumer unusable (librdkafka's word); the caller stops, and a restart
 * resumes from the offsets in PostgreSQL. It is reported once, however many paths bring it.
 */
static void report_fatal(ki_consumer *consumer)
{
    if (consumer->fatal_reported)
        return;
    consumer->fatal_reported = true;
    char fatal[512];
    rd_kafka_resp_err_t code = rd_kafka_fatal_error(consumer->rk, fatal, sizeof(fatal));
    char message[700];
    snprintf(message, sizeof(message), "%s: %s", rd_kafka_err2name(code), fatal);
    if (consumer->callbacks.on_fatal)
        consumer->callbacks.on_fatal(consumer->user, message);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    ki_consumer *consumer = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        report_fatal(consumer);
        return;
    }
    /* Transport errors are retried by librdkafka; they are worth a line, not an exit. */
    sd_log_warning("kafka", "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    ki_consumer *consumer = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (consumer->closing) {
        /* At close nothing is in flight any more: give everything back now. */
        if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
            if (cooperative)
                rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, partitions));
            else
                rd_kafka_assign(rk, NULL);
        }
        return;
    }
    switch (err) {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        consumer->callbacks.on_assign(consumer->user, partitions);
        break;
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        consumer->callbacks.on_revoke(consumer->user, partitions, rd_kafka_assignment_lost(rk));
        break;
    default:
        sd_log_error("kafka", "rebalance failed: %s", rd_kafka_err2str(err));
        consumer->callbacks.on_revoke(consumer->user, partitions, true);
        break;
    }
}

static void drain_pipe(ki_consumer *consumer)
{
    char scratch[256];
    while (read(consumer->pipe_read, scratch, sizeof(scratch)) > 0) {
    }
}

static void on_wake(uv_poll_t *handle, int status, int events)
{
    (void)status;
    (void)events;
    ki_consumer *consumer = handle->data;
    drain_pipe(consumer);
    serve_queue(consumer);
}

static void on_tick(uv_timer_t *handle)
{
    serve_queue(handle->data);
}

static void on_more(uv_idle_t *handle)
{
    ki_consumer *consumer = handle->data;
    uv_idle_stop(handle);
    serve_queue(consumer);
}

static void report_message_error(ki_consumer *consumer, rd_kafka_message_t *message)
{
    const char *topic = message->rkt ? rd_kafka_topic_name(message->rkt) : "-";
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return;
    /* With the queue forwarded to the consumer, a fatal error (a static member fenced by the
     * broker) arrives here as a message, not through error_cb. */
    if (message->err == RD_KAFKA_RESP_ERR__FATAL) {
        report_fatal(consumer);
        return;
    }
    if (message->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET && message->rkt) {
        /* auto.offset.reset=error is forced: the caller decides, and says so. */
        consumer->callbacks.on_out_of_range(consumer->user, topic, message->partition,
                                            message->offset, rd_kafka_message_errstr(message));
        return;
    }
    sd_log_error("kafka", "%s[%d]@%lld: %s", topic, (int)message->partition,
                 (long long)message->offset, rd_kafka_message_errstr(message));
}

static void serve_queue(ki_consumer *consumer)
{
    if (consumer->closing || consumer->holding)
        return;
    for (int served = 0; served < POLL_BUDGET; served++) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(consumer->rk, 0);
        if (!message)
            return;
        if (message->err) {
            report_message_error(consumer, message);
            rd_kafka_message_destroy(message);
        } else {
            consumer->callbacks.on_message(consumer->user, message);
        }
        if (consumer->closing || consumer->holding)
            return;
    }
    /* Budget spent with messages left: the pipe will not be written again for them. */
    uv_idle_start(&consumer->more, on_more);
}

static int set_conf(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                    size_t errlen)
{
    char inner[512];
    if (rd_kafka_conf_set(conf, key, value, inner, sizeof(inner)) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "kafka.%s: %s", key, inner);
        return -1;
    }
    return 0;
}

/*
 * librdkafka's statistics (every statistics.interval.ms, served on the loop): whether any
 * broker of the cluster is connected. /readyz turns false while none is.
 */
static int stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque)
{
    (void)rk;
    ki_consumer *consumer = opaque;
    json_error_t error;
    json_t *root = json_loadb(json, json_len, 0, &error);
    json_t *brokers = root ? json_object_get(root, "brokers") : NULL;
    if (json_is_object(brokers)) {
        int up = 0;
        const char *name;
        json_t *broker;
        json_object_foreach(brokers, name, broker)
        {
            /* Bootstrap and coordinator entries have no node id of their own. */
            json_int_t node = json_integer_value(json_object_get(broker, "nodeid"));
            const char *state = json_string_value(json_object_get(broker, "state"));
            if (node >= 0 && state && strcmp(state, "UP") == 0)
                up++;
        }
        consumer->brokers_up = up;
        consumer->stats_seen = true;
    }
    json_decref(root);
    return 0;
}

bool ki_brokers_up(const ki_consumer *consumer)
{
    return !consumer->stats_seen || consumer->brokers_up > 0;
}

/*
 * Served by rd_kafka_consumer_poll on the loop. A failed advisory commit only delays what lag
 * tools see: the next batch commits newer offsets, and PostgreSQL holds the truth.
 */
static void offset_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    if (err) {
        sd_log_warning("kafka", "advisory offset commit to Kafka failed: %s",
                       rd_kafka_err2str(err));
        return;
    }
    for (int i = 0; offsets && i < offsets->cnt; i++) {
        if (offsets->elems[i].err)
            sd_log_warning("kafka", "advisory offset commit of %s[%d] failed: %s",
                           offsets->elems[i].topic, (int)offsets->elems[i].partition,
                           rd_kafka_err2str(offsets->elems[i].err));
    }
}

ki_consumer *ki_new(uv_loop_t *loop, const sd_config *config, const ki_callbacks *callbacks,
                    void *user, char *err, size_t errlen)
{
    ki_consumer *consumer = calloc(1, sizeof(*consumer));
    if (!consumer) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    consumer->loop = loop;
    consumer->config = config;
    consumer->callbacks = *callbacks;
    consumer->user = user;
    consumer->pipe_read = consumer->pipe_write = -1;

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* Defaults a user may override, then the user's keys, then the keys storyd owns. */
    /*
     * librdkafka prefetches up to 64 MiB per consumer by default: under a backlog of 4.5 KB pages
     * that is most of the daemon's memory (docs/benchmarks.md). 16 MiB still holds thousands
     * of events, far more than a batch; a user may set it back.
     */
    if (set_conf(conf, "client.id", "storyd", err, errlen) != 0 ||
        set_conf(conf, "statistics.interval.ms", "1000", err, errlen) != 0 ||
        set_conf(conf, "queued.max.messages.kbytes", "16384", err, errlen) != 0)
        goto fail_conf;
    for (size_t i = 0; i < config->kafka.count; i++) {
        /* Where a partition without a stored offset starts is decided by storyd at assignment
         * (from this key); librdkafka's own reset would skip data silently. */
        if (strcmp(config->kafka.keys[i], "auto.offset.reset") == 0)
            continue;
        if (set_conf(conf, config->kafka.keys[i], config->kafka.values[i], err, errlen) != 0)
            goto fail_conf;
    }
    if (set_conf(conf, "group.id", config->consumer_group, err, errlen) != 0 ||
        set_conf(conf, "enable.auto.commit", "false", err, errlen) != 0 ||
        set_conf(conf, "enable.auto.offset.store", "false", err, errlen) != 0 ||
        set_conf(conf, "enable.partition.eof", "false", err, errlen) != 0 ||
        set_conf(conf, "auto.offset.reset", "error", err, errlen) != 0 ||
        set_conf(conf, "log.queue", "true", err, errlen) != 0)
        goto fail_conf;
    rd_kafka_conf_set_opaque(conf, consumer);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, offset_commit_cb);
    rd_kafka_conf_set_stats_cb(conf, stats_cb);

    char inner[512];
    consumer->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, inner, sizeof(inner));
    if (!consumer->rk) {
        snprintf(err, errlen, "creating the Kafka consumer: %s", inner);
        goto fail_conf;
    }
    /* From here the consumer owns conf. Logs and the main queue go to the consumer queue. */
    rd_kafka_set_log_queue(consumer->rk, NULL);
    rd_kafka_poll_set_consumer(consumer->rk);
    consumer->queue = rd_kafka_queue_get_consumer(consumer->rk);

    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe2: %s", strerror(errno));
        goto fail;
    }
    consumer->pipe_read = fds[0];
    consumer->pipe_write = fds[1];
    return consumer;

fail_conf:
    rd_kafka_conf_destroy(conf);
    free(consumer);
    return NULL;
fail:
    rd_kafka_queue_destroy(consumer->queue);
    rd_kafka_destroy(consumer->rk);
    free(consumer);
    return NULL;
}

int ki_start(ki_consumer *consumer, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, consumer->config->input_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t rc = rd_kafka_subscribe(consumer->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (rc) {
        snprintf(err, errlen, "subscribing to %s: %s", consumer->config->input_topic,
                 rd_kafka_err2str(rc));
        return -1;
    }
    uv_poll_init(consumer->loop, &consumer->wake, consumer->pipe_read);
    uv_timer_init(consumer->loop, &consumer->tick);
    uv_idle_init(consumer->loop, &consumer->more);
    consumer->wake.data = consumer->tick.data = consumer->more.data = consumer;
    consumer->handles_open = 3;
    consumer->started = true;
    rd_kafka_queue_io_event_enable(consumer->queue, consumer->pipe_write, "1", 1);
    uv_poll_start(&consumer->wake, UV_READABLE, on_wake);
    uv_timer_start(&consumer->tick, on_tick, (uint64_t)consumer->config->poll_interval_ms,
                   (uint64_t)consumer->config->poll_interval_ms);
    /* Anything queued before the fd was enabled would never write to it. */
    uv_idle_start(&consumer->more, on_more);
    return 0;
}

/* Pauses or resumes the partitions of list (borrowed); errors are logged, not fatal. */
static void pause_resume(ki_consumer *consumer, rd_kafka_topic_partition_list_t *list, bool pause)
{
    if (!list || list->cnt == 0)
        return;
    if (pause) {
        if (!consumer->paused_parts)
            consumer->paused_parts = rd_kafka_topic_partition_list_new(list->cnt);
        for (int i = 0; i < list->cnt; i++)
            if (!rd_kafka_topic_partition_list_find(consumer->paused_parts, list->elems[i].topic,
                                                    list->elems[i].partition))
                rd_kafka_topic_partition_list_add(consumer->paused_parts, list->elems[i].topic,
                                                  list->elems[i].partition);
    }
    rd_kafka_resp_err_t rc = pause ? rd_kafka_pause_partitions(consumer->rk, list)
                                   : rd_kafka_resume_partitions(consumer->rk, list);
    if (rc)
        sd_log_warning("kafka", "%s %d partition(s): %s", pause ? "pausing" : "resuming", list->cnt,
                       rd_kafka_err2str(rc));
    else
        sd_log_debug("kafka", "%s %d partition(s)", pause ? "paused" : "resumed", list->cnt);
}

void ki_set_paused(ki_consumer *consumer, bool paused)
{
    if (consumer->paused == paused || consumer->closing)
        return;
    consumer->paused = paused;
    rd_kafka_topic_partition_list_t *assignment = NULL;
    rd_kafka_resp_err_t rc = rd_kafka_assignment(consumer->rk, &assignment);
    if (rc) {
        sd_log_warning("kafka", "reading the assignment to %s it: %s", paused ? "pause" : "resume",
                       rd_kafka_err2str(rc));
        return;
    }
    if (paused) {
        pause_resume(consumer, assignment, true);
    } else {
        /* The partitions paused earlier, and any assigned since, which are paused too. */
        rd_kafka_topic_partition_list_t *all = consumer->paused_parts;
        consumer->paused_parts = NULL;
        if (!all)
            all = rd_kafka_topic_partition_list_new(assignment->cnt);
        for (int i = 0; i < assignment->cnt; i++)
            if (!rd_kafka_topic_partition_list_find(all, assignment->elems[i].topic,
                                                    assignment->elems[i].partition))
                rd_kafka_topic_partition_list_add(all, assignment->elems[i].topic,
                                                  assignment->elems[i].partition);
        pause_resume(consumer, all, false);
        rd_kafka_topic_partition_list_destroy(all);
    }
    rd_kafka_topic_partition_list_destroy(assignment);
}

int ki_watermarks(ki_consumer *consumer, const char *topic, int32_t partition, int64_t *low,
                  int64_t *high)
{
    /* The cached values from the last fetch: no request, nothing blocks. */
    return rd_kafka_get_watermark_offsets(consumer->rk, topic, partition, low, high) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR &&
                   *low >= 0 && *high >= 0
               ? 0
               : -1;
}

void ki_set_holding(ki_consumer *consumer, bool holding)
{
    if (consumer->holding == holding)
        return;
    consumer->holding = holding;
    if (!holding && consumer->started && !consumer->closing)
        uv_idle_start(&consumer->more, on_more);
}

int ki_restart(ki_consumer *consumer, const char *topic, int32_t partition, int64_t offset,
               int64_t (*position_of)(void *user, const char *topic, int32_t partition), void *user,
               char *err, size_t errlen)
{
    /*
     * A seek does not restart a partition whose fetcher stopped on an offset error (librdkafka
     * 2.0.2 leaves it in fetch state "none"); only an assignment starts a fetcher. Under the
     * cooperative protocol that is this partition alone; under the eager one the whole
     * assignment is given again, every other partition at the position its messages reached.
     */
    int rc = 0;
    if (strcmp(rd_kafka_rebalance_protocol(consumer->rk), "COOPERATIVE") == 0) {
        rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(one, topic, partition)->offset = offset;
        rd_kafka_error_t *error = rd_kafka_incremental_unassign(consumer->rk, one);
        if (!error)
            error = rd_kafka_incremental_assign(consumer->rk, one);
        if (error) {
            snprintf(err, errlen, "restarting %s[%d]: %s", topic, (int)partition,
                     rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
            rc = -1;
        } else if (consumer->paused) {
            pause_resume(consumer, one, true);
        }
        rd_kafka_topic_partition_list_destroy(one);
        return rc;
    }
    rd_kafka_topic_partition_list_t *all = NULL;
    rd_kafka_resp_err_t code = rd_kafka_assignment(consumer->rk, &all);
    if (!code) {
        for (int i = 0; i < all->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &all->elems[i];
            tp->offset = tp->partition == partition && strcmp(tp->topic, topic) == 0
                             ? offset
                             : position_of(user, tp->topic, tp->partition);
        }
        code = rd_kafka_assign(consumer->rk, all);
    }
    if (code) {
        snprintf(err, errlen, "restarting %s[%d]: %s", topic, (int)partition,
                 rd_kafka_err2str(code));
        rc = -1;
    } else if (consumer->paused) {
        pause_resume(consumer, all, true);
    }
    if (all)
        rd_kafka_topic_partition_list_destroy(all);
    return rc;
}

int ki_assign(ki_consumer *consumer, rd_kafka_topic_partition_list_t *partitions, char *err,
              size_t errlen)
{
    if (strcmp(rd_kafka_rebalance_protocol(consumer->rk), "COOPERATIVE") == 0) {
        rd_kafka_error_t *error = rd_kafka_incremental_assign(consumer->rk, partitions);
        if (error) {
            snprintf(err, errlen, "incremental assign: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
            return -1;
        }
    } else {
        rd_kafka_resp_err_t rc = rd_kafka_assign(consumer->rk, partitions);
        if (rc) {
            snprintf(err, errlen, "assign: %s", rd_kafka_err2str(rc));
            return -1;
        }
    }
    /* Partitions start unpaused: a pause in force covers the new ones too. */
    if (consumer->paused)
        pause_resume(consumer, partitions, true);
    return 0;
}

int ki_unassign(ki_consumer *consumer, const rd_kafka_topic_partition_list_t *partitions, char *err,
                size_t errlen)
{
    if (strcmp(rd_kafka_rebalance_protocol(consumer->rk), "COOPERATIVE") == 0) {
        rd_kafka_error_t *error = rd_kafka_incremental_unassign(consumer->rk, partitions);
        if (error) {
            snprintf(err, errlen, "incremental unassign: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
            return -1;
        }
        return 0;
    }
    rd_kafka_resp_err_t rc = rd_kafka_assign(consumer->rk, NULL);
    if (rc) {
        snprintf(err, errlen, "unassign: %s", rd_kafka_err2str(rc));
        return -1;
    }
    return 0;
}

int ki_commit_async(ki_consumer *consumer, const rd_kafka_topic_partition_list_t *offsets,
                    char *err, size_t errlen)
{
    /* Offsets of a lost assignment belong to whoever owns the partitions now. */
    if (rd_kafka_assignment_lost(consumer->rk))
        return 0;
    rd_kafka_resp_err_t rc = rd_kafka_commit(consumer->rk, offsets, 1);
    if (rc && rc != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        snprintf(err, errlen, "advisory offset commit to Kafka: %s", rd_kafka_err2str(rc));
        return -1;
    }
    return 0;
}

const char *ki_protocol(ki_consumer *consumer)
{
    return rd_kafka_rebalance_protocol(consumer->rk);
}

static void handle_closed(uv_handle_t *handle)
{
    ki_consumer *consumer = handle->data;
    if (--consumer->handles_open > 0)
        return;
    close(consumer->pipe_read);
    close(consumer->pipe_write);
    free(consumer);
}

void ki_free(ki_consumer *consumer)
{
    if (!consumer)
        return;
    consumer->closing = true;
    rd_kafka_queue_io_event_enable(consumer->queue, -1, NULL, 0);
    rd_kafka_resp_err_t rc = rd_kafka_consumer_close(consumer->rk);
    if (rc)
        sd_log_warning("kafka", "closing the consumer: %s", rd_kafka_err2str(rc));
    rd_kafka_queue_destroy(consumer->queue);
    rd_kafka_destroy(consumer->rk);
    if (consumer->paused_parts)
        rd_kafka_topic_partition_list_destroy(consumer->paused_parts);
    if (!consumer->started) {
        close(consumer->pipe_read);
        close(consumer->pipe_write);
        free(consumer);
        return;
    }
    uv_close((uv_handle_t *)&consumer->wake, handle_closed);
    uv_close((uv_handle_t *)&consumer->tick, handle_closed);
    uv_close((uv_handle_t *)&consumer->more, handle_closed);
}
