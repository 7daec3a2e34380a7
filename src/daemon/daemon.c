/* The daemon's data path: batches and their transactions, PostgreSQL reconnection and replay,
 * and the consumer's assignment and revocation. Start and stop live in lifecycle.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/daemon_internal.h"
#include "db/story_rows.h"

static void start_reconnect(sd_daemon *d, const char *why);
static void on_offsets_rows(void *user, const PGresult *result);
static void send_batch(sd_daemon *d);

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static dm_partition *find_partition(sd_daemon *d, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < d->partition_count; i++) {
        if (d->partitions[i].partition == partition && strcmp(d->partitions[i].topic, topic) == 0)
            return &d->partitions[i];
    }
    return NULL;
}

static dm_partition *get_partition(sd_daemon *d, const char *topic, int32_t partition)
{
    dm_partition *p = find_partition(d, topic, partition);
    if (p)
        return p;
    if (d->partition_count == d->partition_cap) {
        size_t cap = d->partition_cap ? d->partition_cap * 2 : 16;
        dm_partition *grown = realloc(d->partitions, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        d->partitions = grown;
        d->partition_cap = cap;
    }
    p = &d->partitions[d->partition_count];
    memset(p, 0, sizeof(*p));
    p->topic = strdup(topic);
    if (!p->topic)
        return NULL;
    p->partition = partition;
    p->stored_offset = -1;
    p->position = -1;
    p->skipped_from = -1;
    d->partition_count++;
    return p;
}

/* Stops the daemon with an error: nothing more is committed, a restart resumes from PostgreSQL. */
void dm_fail(sd_daemon *d, const char *what)
{
    sd_log_error("storyd",
                 "%s; stopping so that a restart resumes from the offsets stored in "
                 "PostgreSQL",
                 what);
    d->exit_code = 1;
    d->stopping = true;
    if (!d->finished) {
        d->finished = true;
        /* Teardown waits for the next loop turn: we may be inside a librdkafka or libpq callback.
         */
        uv_idle_start(&d->finisher, dm_on_finisher);
    }
}

static void crash_point(sd_daemon *d, const char *point)
{
    const char *configured = d->config->test_crash_point;
    if (configured && strcmp(configured, point) == 0 &&
        (long)(d->batches + 1) == d->config->test_crash_after_batches) {
        sd_log_warning("storyd", "test.crash_point %s reached on batch %" PRIu64 ": SIGKILL", point,
                       d->batches + 1);
        raise(SIGKILL);
    }
}

static void on_before_commit(void *user, const PGresult *result)
{
    (void)result;
    crash_point(user, "before_commit");
}

static void on_commit_sent(void *user)
{
    crash_point(user, "after_commit_sent");
}

/* ---- Batches ------------------------------------------------------------------------------ */

/* Tells Kafka what PostgreSQL committed, for lag tools; failures are only logged. */
static void commit_to_kafka(sd_daemon *d, const bt_batch *batch)
{
    if (!d->config->kafka_commit || !d->kafka)
        return;
    size_t count = bt_partition_count(batch);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)count);
    for (size_t i = 0; i < count; i++) {
        const char *topic;
        int32_t partition;
        int64_t next;
        bt_partition(batch, i, &topic, &partition, &next);
        dm_partition *p = find_partition(d, topic, partition);
        if (p && p->owned)
            rd_kafka_topic_partition_list_add(list, topic, partition)->offset = next;
    }
    char err[ERRLEN];
    if (list->cnt > 0 && ki_commit_async(d->kafka, list, err, sizeof(err)) != 0)
        sd_log_warning("kafka", "%s", err);
    rd_kafka_topic_partition_list_destroy(list);
}

/* The flushing batch is in PostgreSQL: the engine keeps its changes, offsets move on. */
/*
 * True when the filling batch must go as soon as nothing else is in flight: it is full, or its
 * batch.max_wait_ms ran out while another transaction was in flight. The one-shot timer has
 * then fired already (its flush found a transaction in flight and did nothing), so nothing
 * else would ever send it.
 */
static bool filling_full(sd_daemon *d)
{
    return bt_events(d->filling) >= (size_t)d->config->batch_max_events ||
           bt_bytes(d->filling) >= (size_t)d->config->batch_max_bytes;
}

static bool filling_due(sd_daemon *d)
{
    return filling_full(d) ||
           (bt_events(d->filling) > 0 && !uv_is_active((const uv_handle_t *)&d->batch_timer));
}

static void on_hold_timer(uv_timer_t *timer)
{
    sd_daemon *d = timer->data;
    /* Still full: pause the partitions and serve the queue again (stragglers are taken). */
    sd_log_info("kafka",
                "a full batch has waited %d ms for the one in flight; pausing the partitions",
                DM_HOLD_MS);
    dm_pause(d, DM_PAUSE_FULL, true);
    if (d->kafka)
        ki_set_holding(d->kafka, false);
}

/* A full batch holds the queue, then pauses (DM_HOLD_MS); a sent one lets go of both. */
static void hold(sd_daemon *d, bool on)
{
    if (on) {
        if (d->kafka && !uv_is_active((uv_handle_t *)&d->hold_timer) &&
            !(d->pause_reasons & DM_PAUSE_FULL)) {
            ki_set_holding(d->kafka, true);
            uv_timer_start(&d->hold_timer, on_hold_timer, DM_HOLD_MS, 0);
        }
        return;
    }
    uv_timer_stop(&d->hold_timer);
    if (d->kafka)
        ki_set_holding(d->kafka, false);
    dm_pause(d, DM_PAUSE_FULL, false);
}

void dm_pause(sd_daemon *d, unsigned reason, bool on)
{
    unsigned before = d->pause_reasons;
    d->pause_reasons = on ? before | reason : before & ~reason;
    if (!d->kafka || (before != 0) == (d->pause_reasons != 0))
        return;
    if (d->pause_reasons)
        d->pauses++;
    ki_set_paused(d->kafka, d->pause_reasons != 0);
}

static void batch_committed(sd_daemon *d)
{
    bt_batch *batch = d->flushing;
    const sr_rows *stories = bt_stories(batch);
    dd_commit(d->dedup);
    d->next_seq = sr_next_seq(stories);
    for (size_t i = 0; i < bt_partition_count(batch); i++) {
        const char *topic;
        int32_t partition;
        int64_t next;
        bt_partition(batch, i, &topic, &partition, &next);
        dm_partition *p = find_partition(d, topic, partition);
        if (p)
            p->stored_offset = next;
    }
    commit_to_kafka(d, batch);
    if (d->relay && (sr_event_count(stories) || bt_dead_letters(batch)))
        ob_kick(d->relay);
    d->dead_letters += bt_dead_letters(batch);
    mx_observe(&d->batch_events, (double)bt_events(batch));
    mx_observe(&d->commit_seconds, (double)(uv_hrtime() - d->flush_started_ns) / 1e9);
    d->batches++;
    d->events += bt_events(batch);
    d->pages += bt_pages(batch);
    d->rejects += bt_rejects(batch);
    d->items += sr_sighting_count(stories);
    d->stories_created += sr_created_count(stories);
    d->merges += sr_merge_count(stories);
    sd_log_debug("batch",
                 "committed batch %" PRIu64 ": %zu events (%zu rejected), %zu items, %zu new "
                 "stories, %zu merges, %zu partitions",
                 d->batches, bt_events(batch), bt_rejects(batch), sr_sighting_count(stories),
                 sr_created_count(stories), sr_merge_count(stories), bt_partition_count(batch));
    bt_reset(batch);
    d->spare = batch;
    d->flushing = NULL;

    hold(d, false);
    dm_maybe_flush(d, filling_due(d) || d->stopping || d->revoking != NULL);
    dm_maybe_finish(d);
}

static void on_batch_done(void *user, int status, const char *error)
{
    sd_daemon *d = user;
    if (status != 0) {
        /* Nothing of the batch is known to be committed: undo it in memory first. */
        dd_rollback(d->dedup);
        if (pgc_is_lost(d->pg)) {
            char why[ERRLEN + 128];
            snprintf(why, sizeof(why), "writing a batch of %zu events: %s", bt_events(d->flushing),
                     error);
            start_reconnect(d, why);
            return;
        }
        char what[ERRLEN + 128];
        snprintf(what, sizeof(what), "writing a batch of %zu events failed: %s",
                 bt_events(d->flushing), error);
        dm_fail(d, what);
        return;
    }
    crash_point(d, "after_commit");
    d->reconnect_delay_ms = 0;
    batch_committed(d);
}

/* A step reading the group's stored offsets into the partitions (on_offsets_rows). */
static void offsets_step(sd_daemon *d, pgc_step *step, const char **params)
{
    params[0] = d->config->consumer_group;
    *step = (pgc_step){
        .kind = PGC_STEP_QUERY,
        .sql = "SELECT kafka_topic, kafka_partition, next_offset FROM storyd_consumer_offset "
               "WHERE consumer_group = $1",
        .nparams = 1,
        .params = params,
        .on_result = on_offsets_rows,
        .user = d,
    };
}

/* ---- Lost connections ------------------------------------------------------------------- */

/*
 * The fate of the COMMIT in flight is unknown after a lost connection, so the
 * offsets are read back: at the batch's next offsets, it committed (the engine
 * replays it, as it would at a restart); at the expected ones, it did not (it
 * is sent again, rebuilt: staging tables and prepared statements died with the
 * connection); anything else means another owner moved on, and storyd stops.
 */
static void on_recheck_done(void *user, int status, const char *error)
{
    sd_daemon *d = user;
    if (status != 0) {
        if (pgc_is_lost(d->pg)) {
            start_reconnect(d, error);
            return;
        }
        char what[ERRLEN + 64];
        snprintf(what, sizeof(what), "reading stored offsets back failed: %s", error);
        dm_fail(d, what);
        return;
    }
    d->reconnecting = false;
    dm_pause(d, DM_PAUSE_RECONNECT, false);
    bt_batch *batch = d->flushing;
    if (!batch) {
        dm_maybe_flush(d, filling_due(d) || d->stopping);
        dm_maybe_finish(d);
        return;
    }
    size_t committed = 0, pending = 0, count = bt_partition_count(batch);
    for (size_t i = 0; i < count; i++) {
        const char *topic;
        int32_t partition;
        int64_t next;
        bt_partition(batch, i, &topic, &partition, &next);
        dm_partition *p = find_partition(d, topic, partition);
        int64_t stored = p ? p->stored_offset : -1;
        if (stored == next)
            committed++;
        else if (stored == d->expected[i])
            pending++;
    }
    if (committed == count) {
        sd_log_notice("postgres", "the batch in flight had committed before the connection was "
                                  "lost; applying it to the dedup state");
        dd_begin(d->dedup);
        if (bt_dedup(batch, d->dedup, d->next_seq) != 0) {
            dd_rollback(d->dedup);
            dm_fail(d, "out of memory replaying a committed batch");
            return;
        }
        batch_committed(d);
    } else if (pending == count) {
        sd_log_notice("postgres", "the batch in flight had not committed; sending it again");
        d->replays++;
        send_batch(d);
    } else {
        dm_fail(d, "after reconnecting, the stored offsets match neither the batch in flight nor "
                   "what preceded it: another consumer owns these partitions now");
    }
}

static void on_reconnected(void *user, int status, const char *error)
{
    sd_daemon *d = user;
    if (status != 0) {
        start_reconnect(d, error);
        return;
    }
    sd_log_notice("postgres", "reconnected to %s; reading the stored offsets back",
                  pgc_describe(d->pg));
    offsets_step(d, &d->recheck_step, d->recheck_params);
    if (pgc_run(d->pg, &d->recheck_step, 1, on_recheck_done, d) != 0)
        start_reconnect(d, "the new connection is not usable");
}

static void on_reconnect_timer(uv_timer_t *timer)
{
    sd_daemon *d = timer->data;
    if (d->finished)
        return;
    if (pgc_reconnect(d->pg, on_reconnected, d) != 0)
        start_reconnect(d, "cannot start connecting to PostgreSQL");
}

/*
 * A connection lost between jobs, or under a job of the outbox relay, fails no batch, so it is
 * noticed here and replaced. Jobs queued behind the lost one (a batch, say) wait for the new
 * connection and run there first, before the offsets are read back; no batch is sent while
 * reconnecting, so at that read none is in flight.
 */
void dm_on_pg_watch(uv_timer_t *timer)
{
    sd_daemon *d = timer->data;
    if (!d->finished && d->pg && !d->reconnecting && !pgc_running(d->pg) && pgc_is_lost(d->pg))
        start_reconnect(d, pgc_busy(d->pg) ? "lost under an outbox job; queued jobs wait for the "
                                             "new connection"
                                           : "the idle connection was closed");
}

/* Schedules the next attempt, waiting twice as long each time up to storyd.reconnect_max_ms. */
static void start_reconnect(sd_daemon *d, const char *why)
{
    if (d->finished)
        return;
    d->reconnecting = true;
    d->reconnect_delay_ms = d->reconnect_delay_ms ? d->reconnect_delay_ms * 2 : 100;
    if (d->reconnect_delay_ms > (uint64_t)d->config->reconnect_max_ms)
        d->reconnect_delay_ms = (uint64_t)d->config->reconnect_max_ms;
    sd_log_warning("postgres",
                   "connection lost (%s); consumption paused, reconnecting in %" PRIu64 " ms", why,
                   d->reconnect_delay_ms);
    dm_pause(d, DM_PAUSE_RECONNECT, true);
    uv_timer_start(&d->reconnect_timer, on_reconnect_timer, d->reconnect_delay_ms, 0);
}

static void on_batch_timer(uv_timer_t *timer)
{
    dm_maybe_flush(timer->data, true);
}

/* Sends the flushing batch: the dedup pass, then its transaction. */
static void send_batch(sd_daemon *d)
{
    bt_batch *batch = d->flushing;
    d->flush_started_ms = (int64_t)uv_now(&d->loop);
    d->flush_started_ns = uv_hrtime();
    size_t count = bt_partition_count(batch);
    if (count > d->expected_cap) {
        int64_t *grown = realloc(d->expected, count * sizeof(*grown));
        if (!grown) {
            dm_fail(d, "out of memory preparing a batch");
            return;
        }
        d->expected = grown;
        d->expected_cap = count;
    }
    for (size_t i = 0; i < count; i++) {
        const char *topic;
        int32_t partition;
        int64_t next;
        bt_partition(batch, i, &topic, &partition, &next);
        dm_partition *p = find_partition(d, topic, partition);
        d->expected[i] = p ? p->stored_offset : -1;
    }
    dd_begin(d->dedup);
    pgc_step *steps;
    size_t nsteps;
    if (bt_dedup(batch, d->dedup, d->next_seq) != 0 ||
        bt_prepare(batch, d->config->consumer_group, d->expected, &steps, &nsteps) != 0) {
        dd_rollback(d->dedup);
        dm_fail(d, "out of memory preparing a batch");
        return;
    }
    /* The step before COMMIT is the last offset advance. */
    steps[nsteps - 2].on_result = on_before_commit;
    steps[nsteps - 2].user = d;
    steps[nsteps - 1].on_sent = on_commit_sent;
    steps[nsteps - 1].user = d;
    if (pgc_run(d->pg, steps, nsteps, on_batch_done, d) != 0) {
        dd_rollback(d->dedup);
        if (pgc_is_lost(d->pg))
            start_reconnect(d, "the connection was lost before the batch was sent");
        else
            dm_fail(d, "the PostgreSQL connection is not usable");
    }
}

/* Sends the filling batch when it is full, or when force is set and it holds anything. */
void dm_maybe_flush(sd_daemon *d, bool force)
{
    if (d->finished || bt_events(d->filling) == 0)
        return;
    bool full = filling_full(d);
    if (!full && !force)
        return;
    if (d->flushing || d->reconnecting) {
        /* One transaction at a time: a full batch waits, and so does Kafka (backpressure). */
        if (full)
            hold(d, true);
        return;
    }
    uv_timer_stop(&d->batch_timer);
    d->flushing = d->filling;
    d->filling = d->spare;
    d->spare = NULL;
    send_batch(d);
    dm_maybe_apply_reload(d);
}

static void on_message_scoped(sd_daemon *d, rd_kafka_message_t *message);

/* Every line logged while a message is handled is about its partition. */
void dm_on_message(void *user, rd_kafka_message_t *message)
{
    char scope[300];
    snprintf(scope, sizeof(scope), "%s[%d]", rd_kafka_topic_name(message->rkt),
             (int)message->partition);
    sd_log_scope_set("partition", scope);
    on_message_scoped(user, message);
    sd_log_scope_clear();
}

static void on_message_scoped(sd_daemon *d, rd_kafka_message_t *message)
{
    const char *topic = rd_kafka_topic_name(message->rkt);
    dm_partition *p = find_partition(d, topic, message->partition);
    if (d->stopping || !p || !p->owned) {
        /* Not ours any more (or shutting down): whoever owns it next reads it again. */
        rd_kafka_message_destroy(message);
        return;
    }
    if (p->position >= 0 && message->offset < p->position) {
        /* Fetched again (a resumed or re-sought partition): it is in a batch already. */
        d->stale_messages++;
        sd_log_debug("kafka", "%s[%d]@%" PRId64 ": already taken (position %" PRId64 "), dropped",
                     topic, (int)message->partition, message->offset, p->position);
        rd_kafka_message_destroy(message);
        return;
    }
    p->position = message->offset + 1;
    d->consumed++;
    if (p->skipped_from >= 0) {
        if (message->offset > p->skipped_from)
            sd_log_error("kafka",
                         "%s[%d]: %" PRId64 " events skipped: offsets %" PRId64 " to %" PRId64
                         " were out of range",
                         topic, (int)message->partition, message->offset - p->skipped_from,
                         p->skipped_from, message->offset - 1);
        p->skipped_from = -1;
    }
    if (!p->first_seen) {
        p->first_seen = true;
        sd_log_info("kafka", "%s[%d]: first message at offset %" PRId64 "%s", topic,
                    (int)message->partition, message->offset,
                    p->stored_offset >= 0 && message->offset != p->stored_offset
                        ? " (not the stored offset: the log was truncated or compacted)"
                        : "");
    }
    char why[512];
    bt_extract extract = {.profiles = (const sp_profile *const *)d->profiles,
                          .n_profiles = (size_t)d->n_profiles,
                          .limits = &d->limits,
                          .max_event_bytes = (size_t)d->config->limit_event_bytes,
                          .max_page_ms = d->config->limit_page_ms};
    bt_added added = bt_add(d->filling, message, now_ms(), &extract, why, sizeof(why));
    if (added == BT_REJECTED) {
        sd_log_warning("kafka",
                       "%s[%d]@%" PRId64 ": event rejected (%s); recorded in "
                       "storyd_rejected_event and skipped",
                       topic, (int)message->partition, message->offset, why);
    }
    rd_kafka_message_destroy(message);
    if (added == BT_NOMEM) {
        dm_fail(d, "out of memory adding an event to the batch");
        return;
    }
    if (bt_events(d->filling) == 1 && d->config->batch_max_wait_ms > 0)
        uv_timer_start(&d->batch_timer, on_batch_timer, (uint64_t)d->config->batch_max_wait_ms, 0);
    dm_maybe_flush(d, d->config->batch_max_wait_ms == 0);
}

/* ---- Assignment and revocation ---------------------------------------------------------- */

typedef struct assign_ctx {
    sd_daemon *d;
    uint64_t epoch;
} assign_ctx;

static void on_offsets_rows(void *user, const PGresult *result)
{
    sd_daemon *d = user;
    for (int row = 0; row < PQntuples(result); row++) {
        dm_partition *p =
            get_partition(d, PQgetvalue(result, row, 0), (int32_t)atoi(PQgetvalue(result, row, 1)));
        if (p)
            p->stored_offset = strtoll(PQgetvalue(result, row, 2), NULL, 10);
    }
}

static void on_offsets_loaded(void *user, int status, const char *error)
{
    assign_ctx *ctx = user;
    sd_daemon *d = ctx->d;
    uint64_t epoch = ctx->epoch;
    free(ctx);
    if (status != 0) {
        char what[ERRLEN + 64];
        snprintf(what, sizeof(what), "reading stored offsets failed: %s", error);
        dm_fail(d, what);
        return;
    }
    if (epoch != d->assign_epoch || !d->assigning || d->finished || d->stopping) {
        /* A revocation (or a stop) arrived first and cancelled this load. */
        dm_maybe_finish(d);
        return;
    }
    rd_kafka_topic_partition_list_t *list = d->assigning;
    d->assigning = NULL;
    const char *reset = sd_kv_get(&d->config->kafka, "auto.offset.reset");
    bool latest = reset && (strcmp(reset, "latest") == 0 || strcmp(reset, "largest") == 0 ||
                            strcmp(reset, "end") == 0);
    for (int i = 0; i < list->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &list->elems[i];
        dm_partition *p = get_partition(d, tp->topic, tp->partition);
        if (!p) {
            rd_kafka_topic_partition_list_destroy(list);
            dm_fail(d, "out of memory recording an assignment");
            return;
        }
        p->owned = true;
        p->first_seen = false;
        p->position = -1;
        p->skipped_from = -1;
        if (p->stored_offset >= 0) {
            tp->offset = p->stored_offset;
            p->start_offset = tp->offset;
            sd_log_info("kafka", "%s[%d]: resuming at offset %" PRId64 " stored in PostgreSQL",
                        tp->topic, (int)tp->partition, p->stored_offset);
        } else {
            tp->offset = latest ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
            p->start_offset = tp->offset;
            sd_log_info("kafka", "%s[%d]: no stored offset, starting at the %s", tp->topic,
                        (int)tp->partition, latest ? "end (auto.offset.reset)" : "beginning");
        }
    }
    char err[ERRLEN];
    if (ki_assign(d->kafka, list, err, sizeof(err)) != 0) {
        rd_kafka_topic_partition_list_destroy(list);
        dm_fail(d, err);
        return;
    }
    sd_log_notice("kafka", "assigned %d partition(s) of group %s (%s protocol)", list->cnt,
                  d->config->consumer_group, ki_protocol(d->kafka));
    rd_kafka_topic_partition_list_destroy(list);
}

void dm_on_assign(void *user, const rd_kafka_topic_partition_list_t *partitions)
{
    sd_daemon *d = user;
    if (d->assigning)
        rd_kafka_topic_partition_list_destroy(d->assigning);
    d->assigning = rd_kafka_topic_partition_list_copy(partitions);
    assign_ctx *ctx = malloc(sizeof(*ctx));
    if (!ctx) {
        dm_fail(d, "out of memory handling an assignment");
        return;
    }
    ctx->d = d;
    ctx->epoch = ++d->assign_epoch;
    offsets_step(d, &d->offsets_step, d->offsets_params);
    if (pgc_run(d->pg, &d->offsets_step, 1, on_offsets_loaded, ctx) != 0) {
        free(ctx);
        dm_fail(d, "the PostgreSQL connection is not usable");
    }
}

/* Completes a revocation once no transaction touching the partitions is in flight. */
void dm_finish_revoke(sd_daemon *d)
{
    if (!d->revoking || d->flushing || bt_events(d->filling) > 0)
        return;
    rd_kafka_topic_partition_list_t *list = d->revoking;
    d->revoking = NULL;
    char err[ERRLEN];
    if (ki_unassign(d->kafka, list, err, sizeof(err)) != 0)
        sd_log_error("kafka", "%s", err);
    sd_log_notice("kafka", "gave up %d partition(s)%s", list->cnt,
                  d->revoking_lost ? " (lost: nothing of theirs was committed)" : "");
    rd_kafka_topic_partition_list_destroy(list);
    dm_pause(d, DM_PAUSE_REVOKE, false);
}

void dm_on_revoke(void *user, const rd_kafka_topic_partition_list_t *partitions, bool lost)
{
    sd_daemon *d = user;
    /* A load of offsets still in flight is for an assignment that no longer exists. */
    d->assign_epoch++;
    if (d->assigning) {
        rd_kafka_topic_partition_list_destroy(d->assigning);
        d->assigning = NULL;
    }
    for (int i = 0; i < partitions->cnt; i++) {
        dm_partition *p =
            find_partition(d, partitions->elems[i].topic, partitions->elems[i].partition);
        if (p)
            p->owned = false;
    }
    if (d->revoking)
        rd_kafka_topic_partition_list_destroy(d->revoking);
    d->revoking = rd_kafka_topic_partition_list_copy(partitions);
    d->revoking_lost = lost;
    dm_pause(d, DM_PAUSE_REVOKE, true);
    if (lost) {
        /* Another member may own these already: what was collected must not commit. */
        bt_reset(d->filling);
        dm_maybe_apply_reload(d);
        uv_timer_stop(&d->batch_timer);
    } else {
        dm_maybe_flush(d, true);
    }
    dm_finish_revoke(d);
}

/* Where a partition's fetching goes on from: after its last taken message, else its start. */
static int64_t position_of(void *user, const char *topic, int32_t partition)
{
    dm_partition *p = find_partition(user, topic, partition);
    if (!p)
        return RD_KAFKA_OFFSET_INVALID;
    return p->position >= 0 ? p->position : p->start_offset;
}

/*
 * auto.offset.reset=error is forced on the consumer, so an offset that is no longer in the log
 * (retention deleted events storyd never read, or the topic was recreated) comes here instead of
 * being reset silently. storyd.offset_out_of_range decides: stop, skipping nothing, or go on at
 * the earliest or latest offset, saying how many events that skips when it is known.
 */
void dm_on_out_of_range(void *user, const char *topic, int32_t partition, int64_t offset,
                        const char *reason)
{
    sd_daemon *d = user;
    dm_partition *p = find_partition(d, topic, partition);
    if (!p || !p->owned || d->stopping)
        return;
    int64_t low = -1, high = -1;
    char range[96] = "";
    if (ki_watermarks(d->kafka, topic, partition, &low, &high) == 0)
        snprintf(range, sizeof(range), "; the log holds offsets %" PRId64 " to %" PRId64, low,
                 high - 1);
    const char *policy = d->config->offset_out_of_range;
    if (strcmp(policy, "fail") == 0) {
        char what[ERRLEN + 256];
        snprintf(what, sizeof(what),
                 "%s[%d]: offset %" PRId64 " is out of range (%s%s): events were deleted "
                 "before storyd read them, or the topic was recreated. Nothing was skipped; set "
                 "storyd.offset_out_of_range = earliest or latest to go on from there",
                 topic, (int)partition, offset, reason, range);
        dm_fail(d, what);
        return;
    }
    bool earliest = strcmp(policy, "earliest") == 0;
    sd_log_error("kafka",
                 "%s[%d]: offset %" PRId64 " is out of range (%s%s); going on at the %s offset "
                 "as storyd.offset_out_of_range says",
                 topic, (int)partition, offset, reason, range, policy);
    d->offset_resets++;
    p->position = -1;
    p->first_seen = false;
    p->skipped_from = offset;
    p->start_offset = earliest ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    char err[ERRLEN];
    if (ki_restart(d->kafka, topic, partition, p->start_offset, position_of, d, err, sizeof(err)) !=
        0)
        dm_fail(d, err);
}
