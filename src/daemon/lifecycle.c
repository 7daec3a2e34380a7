/* The daemon's lifecycle: start (profiles, PostgreSQL, schema version, dedup state, the relay,
 * the topics check, then the consumer), signals, and an orderly stop. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/daemon.h"
#include "daemon/daemon_internal.h"
#include "daemon/dedup_load.h"
#include "daemon/metrics.h"
#include "daemon/profile_files.h"
#include "db/migrate.h"
#include "db/story_rows.h"

static void send_status(sd_daemon *d, const char *prefix);

static void on_kafka_fatal(void *user, const char *reason)
{
    sd_daemon *d = user;
    char what[ERRLEN];
    const char *instance = sd_kv_get(&d->config->kafka, "group.instance.id");
    if (strstr(reason, "FENCED_INSTANCE_ID") && instance)
        /* Also seen when the broker restarts under a static member whose session timed out. */
        snprintf(what, sizeof(what),
                 "Kafka consumer failed: %s (the broker gave group.instance.id %s to another "
                 "member: two storyd with one id, or a rejoin after a broker restart)",
                 reason, instance);
    else
        snprintf(what, sizeof(what), "Kafka consumer failed: %s", reason);
    dm_fail(d, what);
}

/* ---- Start, stop ---------------------------------------------------------------------------- */

void dm_on_finisher(uv_idle_t *idle)
{
    sd_daemon *d = idle->data;
    uv_idle_stop(idle);
    /* Runs outside any library callback, so both clients can be torn down here. */
    tp_check_free(d->topics);
    d->topics = NULL;
    if (d->kafka) {
        ki_free(d->kafka);
        d->kafka = NULL;
    }
    uint64_t relayed = d->relay ? ob_sent(d->relay) : 0;
    if (d->relay) {
        ob_free(d->relay);
        d->relay = NULL;
    }
    if (d->pg) {
        pgc_free(d->pg);
        d->pg = NULL;
    }
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
    uv_close((uv_handle_t *)&d->batch_timer, NULL);
    uv_close((uv_handle_t *)&d->shutdown_timer, NULL);
    uv_close((uv_handle_t *)&d->reconnect_timer, NULL);
    uv_close((uv_handle_t *)&d->pg_watch, NULL);
    uv_close((uv_handle_t *)&d->hold_timer, NULL);
    uv_close((uv_handle_t *)&d->service_timer, NULL);
    hs_free(d->http);
    d->http = NULL;
    uv_close((uv_handle_t *)&d->sigusr1, NULL);
    uv_close((uv_handle_t *)&d->finisher, NULL);
    sd_log_notice(
        "storyd",
        "stopped: %" PRIu64 " events (%" PRIu64 " pages, %" PRIu64 " rejected) in %" PRIu64
        " batches; %" PRIu64 " items, %" PRIu64 " new stories, %" PRIu64 " merges; %" PRIu64
        " dead letters; %" PRIu64 " outbox rows relayed; %" PRIu64
        " batches sent again; paused %" PRIu64 " times; %" PRIu64
        " messages fetched twice dropped; %" PRIu64 " offsets out of range",
        d->events, d->pages, d->rejects, d->batches, d->items, d->stories_created, d->merges,
        d->dead_letters, relayed, d->replays, d->pauses, d->stale_messages, d->offset_resets);
}

/* How long a stopping daemon waits for the relay once everything else is done. */
#define RELAY_GRACE_MS 3000

void dm_maybe_finish(sd_daemon *d)
{
    dm_finish_revoke(d);
    if (!d->stopping || d->finished || d->flushing || bt_events(d->filling) > 0 ||
        (d->pg && pgc_busy(d->pg)))
        return;
    if (d->relay && ob_busy(d->relay)) {
        ob_stop(d->relay, RELAY_GRACE_MS);
        return;
    }
    d->finished = true;
    uv_idle_start(&d->finisher, dm_on_finisher);
}

static void on_shutdown_timeout(uv_timer_t *timer)
{
    sd_daemon *d = timer->data;
    dm_fail(d, "the batch in flight did not commit within storyd.shutdown_timeout_ms");
}

static void on_signal(uv_signal_t *handle, int signum)
{
    sd_daemon *d = handle->data;
    if (d->stopping) {
        sd_log_notice("storyd", "%s again: already stopping", strsignal(signum));
        return;
    }
    sd_log_notice("storyd", "%s: stop fetching, finish the batch in flight, commit, exit",
                  strsignal(signum));
    sn_send(d->notify, "STOPPING=1\nSTATUS=stopping: finishing the batch in flight");
    d->stopping = true;
    dm_pause(d, DM_PAUSE_STOP, true);
    uv_timer_start(&d->shutdown_timer, on_shutdown_timeout,
                   (uint64_t)d->config->shutdown_timeout_ms, 0);
    dm_maybe_flush(d, true);
    dm_maybe_finish(d);
}

/* Logs what a set of profiles is: "dspdaily.com 2026.11.28-1, ...". */
static void log_profiles(const sd_daemon *d, const char *verb)
{
    char list[512] = "";
    size_t used = 0;
    for (int i = 0; i < d->n_profiles && used < sizeof(list) - 1; i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s %s", i ? ", " : "",
                                 d->profiles[i]->name, d->profiles[i]->version);
    sd_log_notice("storyd", "%s %d site profile(s) from %s: %s", verb, d->n_profiles,
                  sd_profiles_dir(d->config), d->n_profiles ? list : "none");
}

static void log_change(void *user, const char *key, const char *running, const char *fresh,
                       bool applied)
{
    (void)user;
    if (applied)
        sd_log_notice("storyd", "SIGHUP: %s = %s (was %s)", key, fresh, running);
    else
        sd_log_warning("storyd", "SIGHUP: %s changed (%s -> %s) but needs a restart; it stays %s",
                       key, running, fresh, running);
}

static void drop_pending_reload(sd_daemon *d)
{
    sd_config_free(d->reload_config);
    d->reload_config = NULL;
    sd_profiles_free(d->reload_profiles, d->reload_n_profiles);
    d->reload_profiles = NULL;
    d->reload_n_profiles = 0;
}

void dm_maybe_apply_reload(sd_daemon *d)
{
    if (!d->reload_config || bt_events(d->filling) > 0)
        return;
    if (sd_config_reload(d->config, d->reload_config, log_change, d) < 0)
        sd_log_error("storyd", "SIGHUP: out of memory applying the configuration");
    sd_log_set_level(d->config->log_level);
    bt_limits_from(d->config, &d->limits);
    dd_config dedup_config;
    dl_config_from(d->config, &dedup_config);
    dd_set_thresholds(d->dedup, &dedup_config);
    sd_profiles_free(d->profiles, d->n_profiles);
    d->profiles = d->reload_profiles;
    d->n_profiles = d->reload_n_profiles;
    d->reload_profiles = NULL;
    drop_pending_reload(d);
    d->reloads++;
    log_profiles(d, "SIGHUP: reloaded");
    send_status(d, "READY=1\n");
}

/*
 * SIGHUP: read the configuration file (with the -o overrides) and the site profiles again. A
 * broken file or profile is reported and the running set kept. What was read is applied once
 * the batch being filled is sent: the events before the signal are extracted under the old
 * set, those after it under the new one, and no batch mixes them.
 */
static void on_sighup(uv_signal_t *handle, int signum)
{
    (void)signum;
    sd_daemon *d = handle->data;
    char err[ERRLEN];
    sn_send(d->notify, "RELOADING=1\nSTATUS=reloading the configuration and the site profiles");
    sd_config *fresh = sd_config_reread(d->config, err, sizeof(err));
    if (!fresh) {
        sd_log_error("storyd", "SIGHUP: configuration not reloaded, keeping the running one: %s",
                     err);
        send_status(d, "READY=1\n");
        return;
    }
    sp_profile **profiles;
    int n = sd_profiles_load(fresh, &profiles, err, sizeof(err));
    if (n < 0) {
        sd_log_error("storyd", "SIGHUP: site profiles not reloaded, keeping the running ones: %s",
                     err);
        sd_config_free(fresh);
        send_status(d, "READY=1\n");
        return;
    }
    /* A second SIGHUP before the first was applied replaces it. */
    drop_pending_reload(d);
    d->reload_config = fresh;
    d->reload_profiles = profiles;
    d->reload_n_profiles = n;
    if (bt_events(d->filling) > 0)
        sd_log_info("storyd", "SIGHUP: read; applied once the %zu event(s) being batched are sent",
                    bt_events(d->filling));
    dm_maybe_apply_reload(d);
    dm_maybe_flush(d, true);
}

/* ---- systemd: readiness, status, watchdog ------------------------------------------------ */

/* What the daemon does, for `systemctl status`. */
static void send_status(sd_daemon *d, const char *prefix)
{
    sn_send(d->notify,
            "%sSTATUS=%s %s: %" PRIu64 " events in %" PRIu64 " batches, %" PRIu64
            " stories created, %" PRIu64 " dead letters%s%s",
            prefix ? prefix : "",
            d->reconnecting ? "reconnecting to PostgreSQL, consuming" : "consuming",
            d->config->input_topic, d->events, d->batches, d->stories_created, d->dead_letters,
            d->pause_reasons ? "; paused" : "", d->stopping ? "; stopping" : "");
    d->last_status_ms = uv_now(&d->loop);
}

/* The loop is healthy unless a batch has been in flight too long (a reconnect is not stuck). */
static bool healthy(sd_daemon *d)
{
    return !(d->flushing && !d->reconnecting &&
             (int64_t)uv_now(&d->loop) - d->flush_started_ms > d->config->stuck_batch_ms);
}

#define STATUS_EVERY_MS 5000

static void on_service_timer(uv_timer_t *timer)
{
    sd_daemon *d = timer->data;
    /* This runs only when the loop turns, so a stuck loop stops the pings by itself. */
    if (sn_watchdog_usec(d->notify)) {
        if (healthy(d))
            sn_send(d->notify, "WATCHDOG=1");
        else
            sd_log_error("storyd",
                         "a batch has been in flight for over storyd.stuck_batch_ms (%ld ms): no "
                         "longer pinging the watchdog",
                         d->config->stuck_batch_ms);
    }
    if (d->kafka && uv_now(&d->loop) - d->last_status_ms >= STATUS_EVERY_MS)
        send_status(d, NULL);
}

static void start_service_timer(sd_daemon *d)
{
    if (!sn_enabled(d->notify))
        return;
    /* Half the watchdog interval, as sd_watchdog_enabled(3) advises; else only STATUS. */
    uint64_t every = sn_watchdog_usec(d->notify) / 2000;
    if (every == 0)
        every = STATUS_EVERY_MS;
    uv_timer_start(&d->service_timer, on_service_timer, every, every);
}

/* Resident memory from /proc/self/statm, in bytes; 0 when unknown. */
static uint64_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages_total = 0, pages_resident = 0;
    if (!f)
        return 0;
    int n = fscanf(f, "%llu %llu", &pages_total, &pages_resident);
    fclose(f);
    return n == 2 ? (uint64_t)pages_resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

/* The Prometheus text format (version 0.0.4): what the daemon counted since it started. */
static void write_metrics(sd_daemon *d, sd_buf *out)
{
    const struct {
        const char *name, *help;
        uint64_t value;
    } counters[] = {
        {"storyd_events_consumed_total",
         "Input events taken from Kafka into a batch (a replayed batch counts once).", d->consumed},
        {"storyd_events_committed_total", "Input events committed (pages and rejected).",
         d->events},
        {"storyd_pages_committed_total", "Page events committed.", d->pages},
        {"storyd_events_rejected_total", "Events that could not be decoded or extracted.",
         d->rejects},
        {"storyd_dead_letters_total", "Dead letters written to the outbox.", d->dead_letters},
        {"storyd_batches_committed_total", "Batch transactions committed.", d->batches},
        {"storyd_sightings_total", "Story items (sightings) committed.", d->items},
        {"storyd_stories_created_total", "Stories created.", d->stories_created},
        {"storyd_stories_merged_total", "Stories merged into another.", d->merges},
        {"storyd_batches_replayed_total", "Batches sent again after a lost connection.",
         d->replays},
        {"storyd_pauses_total", "Times consumption was paused.", d->pauses},
        {"storyd_offsets_out_of_range_total", "Stored offsets found out of range.",
         d->offset_resets},
        {"storyd_outbox_relayed_total", "Outbox rows delivered and marked sent.",
         d->relay ? ob_sent(d->relay) : 0},
        {"storyd_reloads_total", "SIGHUP reloads applied.", d->reloads},
    };
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
        mx_single(out, counters[i].name, "counter", counters[i].help, (double)counters[i].value);
    mx_write_histogram(out, "storyd_batch_events", "Events per committed batch.", &d->batch_events);
    mx_write_histogram(out, "storyd_batch_commit_seconds",
                       "Time from sending a batch to its COMMIT returning, in seconds.",
                       &d->commit_seconds);
    mx_family(out, "storyd_consumer_lag", "gauge",
              "Events of an owned partition not yet committed: high watermark minus the stored "
              "offset.");
    for (size_t i = 0; d->kafka && i < d->partition_count; i++) {
        const dm_partition *p = &d->partitions[i];
        int64_t low, high;
        if (!p->owned || ki_watermarks(d->kafka, p->topic, p->partition, &low, &high) != 0)
            continue;
        int64_t committed = p->stored_offset >= 0 ? p->stored_offset : low;
        char labels[400] = "", number[16];
        snprintf(number, sizeof(number), "%d", (int)p->partition);
        mx_label(labels, sizeof(labels), "topic", p->topic);
        mx_label(labels, sizeof(labels), "partition", number);
        mx_sample(out, "storyd_consumer_lag", labels,
                  (double)(high > committed ? high - committed : 0));
    }
    int64_t backlog = d->relay ? ob_backlog(d->relay) : -1;
    if (backlog >= 0)
        mx_single(out, "storyd_outbox_backlog", "gauge",
                  "Outbox rows (story events, dead letters) not yet delivered, counted every 5 s.",
                  (double)backlog);
    dd_stats dedup = dd_get_stats(d->dedup);
    mx_single(out, "storyd_dedup_stories", "gauge", "Live stories in the dedup index.",
              (double)dedup.stories);
    mx_single(out, "storyd_dedup_index_entries", "gauge", "Keys in the dedup indexes.",
              (double)dedup.index_entries);
    mx_single(out, "storyd_dedup_index_bytes", "gauge", "Memory the dedup index holds, in bytes.",
              (double)dedup.bytes);
    mx_single(out, "storyd_paused", "gauge", "1 while consumption is paused.",
              d->pause_reasons != 0);
    mx_single(out, "storyd_kafka_up", "gauge", "1 while a Kafka broker is connected.",
              d->kafka && ki_brokers_up(d->kafka));
    mx_single(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
              (double)resident_bytes());
}

/* GET /healthz: the loop answers and no batch is stuck. GET /readyz: also consuming, with
 * PostgreSQL connected; false while it reconnects, before READY and while stopping. */
static void on_http(void *user, const char *path, hs_response *response)
{
    sd_daemon *d = user;
    const char *text = "text/plain; charset=utf-8";
    if (strcmp(path, "/healthz") == 0) {
        bool ok = healthy(d);
        *response =
            (hs_response){ok ? 200 : 503, text, ok ? "ok\n" : "a batch is stuck in flight\n"};
    } else if (strcmp(path, "/metrics") == 0) {
        /* The server copies the body; the buffer is reused by the next scrape. */
        sd_buf_reset(&d->metrics_text);
        write_metrics(d, &d->metrics_text);
        *response =
            (hs_response){200, "text/plain; version=0.0.4; charset=utf-8", d->metrics_text.data};
    } else if (strcmp(path, "/readyz") == 0) {
        const char *why = d->stopping                             ? "stopping\n"
                          : !d->kafka                             ? "starting\n"
                          : d->reconnecting || pgc_is_lost(d->pg) ? "PostgreSQL is away\n"
                          : !ki_brokers_up(d->kafka)              ? "Kafka is away\n"
                                                                  : NULL;
        *response = (hs_response){why ? 503 : 200, text, why ? why : "ready\n"};
    }
}

static void on_sigusr1(uv_signal_t *handle, int signum)
{
    (void)signum;
    sd_daemon *d = handle->data;
    sd_log_warning("storyd", "SIGUSR1 with test.stall_loop_ms: blocking the loop for %ld ms",
                   d->config->test_stall_loop_ms);
    uv_sleep((unsigned)d->config->test_stall_loop_ms);
}

static void on_relay_idle(void *user)
{
    dm_maybe_finish(user);
}

static void start_consuming(sd_daemon *d)
{
    static const ki_callbacks callbacks = {
        .on_message = dm_on_message,
        .on_assign = dm_on_assign,
        .on_revoke = dm_on_revoke,
        .on_out_of_range = dm_on_out_of_range,
        .on_fatal = on_kafka_fatal,
    };
    char err[ERRLEN];
    d->kafka = ki_new(&d->loop, d->config, &callbacks, d, err, sizeof(err));
    if (!d->kafka) {
        dm_fail(d, err);
        return;
    }
    /* A pause that began before the consumer existed (a reconnect) covers its partitions. */
    if (d->pause_reasons)
        ki_set_paused(d->kafka, true);
    if (ki_start(d->kafka, err, sizeof(err)) != 0) {
        dm_fail(d, err);
        return;
    }
    sd_log_notice("storyd", "consuming %s as group %s (%s), writing to %s", d->config->input_topic,
                  d->config->consumer_group, sd_kv_get(&d->config->kafka, "bootstrap.servers"),
                  pgc_describe(d->pg));
    /* Ready: PostgreSQL is connected at the schema this storyd needs, the dedup state is
     * rebuilt, the topics are checked and Kafka is subscribed. */
    send_status(d, "READY=1\n");
}

static void on_topics_checked(void *user, int status, const char *error)
{
    sd_daemon *d = user;
    if (status != 0) {
        dm_fail(d, error);
        return;
    }
    if (!d->stopping)
        start_consuming(d);
}

static void start_kafka(sd_daemon *d)
{
    uv_timer_start(&d->pg_watch, dm_on_pg_watch, 1000, 1000);
    char err[ERRLEN];
    d->relay = ob_new(&d->loop, d->config, d->pg, on_relay_idle, d, err, sizeof(err));
    if (!d->relay) {
        dm_fail(d, err);
        return;
    }
    /* Rows an earlier run committed but did not get to send go first. */
    ob_kick(d->relay);
    /* Nothing is consumed before the topics storyd writes are known to take what it sends. */
    d->topics = tp_check_start(&d->loop, ob_kafka(d->relay), d->config, on_topics_checked, d, err,
                               sizeof(err));
    if (!d->topics)
        dm_fail(d, err);
}

static void on_version_row(void *user, const PGresult *result)
{
    sd_daemon *d = user;
    if (PQntuples(result) == 1)
        d->db_version = atoi(PQgetvalue(result, 0, 0));
}

static void on_dedup_loaded(void *user, int status, const char *error, const dl_stats *stats)
{
    sd_daemon *d = user;
    if (status != 0) {
        dm_fail(d, error);
        return;
    }
    d->next_seq = stats->next_seq;
    dd_stats engine = dd_get_stats(d->dedup);
    sd_log_notice("dedup",
                  "dedup state rebuilt from PostgreSQL: %zu sightings replayed into %zu stories "
                  "(%zu aliases), next seq %" PRId64,
                  stats->items, engine.stories, engine.aliases, stats->next_seq);
    if (stats->mismatches || stats->gaps)
        sd_log_warning("dedup",
                       "%zu replayed answers differ from the stored ones and %zu seq gaps: the "
                       "dedup engine or its configuration changed since those rows were written",
                       stats->mismatches, stats->gaps);
    if (!d->stopping)
        start_kafka(d);
    else
        dm_maybe_finish(d);
}

static void on_version_checked(void *user, int status, const char *error)
{
    sd_daemon *d = user;
    char what[ERRLEN + 128];
    if (status != 0) {
        snprintf(what, sizeof(what), "reading the schema version failed (run storyd migrate?): %s",
                 error);
        dm_fail(d, what);
        return;
    }
    int latest = sd_migrate_latest_version();
    if (d->db_version != latest) {
        snprintf(what, sizeof(what),
                 "the database schema is at version %d, this storyd needs %d: %s", d->db_version,
                 latest,
                 d->db_version < latest ? "run storyd migrate first"
                                        : "refusing to run against a newer schema");
        dm_fail(d, what);
        return;
    }
    if (d->stopping) {
        dm_maybe_finish(d);
        return;
    }
    if (dl_start(d->pg, d->dedup, 10000, on_dedup_loaded, d) != 0)
        dm_fail(d, "the PostgreSQL connection is not usable");
}

static void on_pg_connected(void *user, int status, const char *error)
{
    sd_daemon *d = user;
    if (status != 0) {
        dm_fail(d, error);
        return;
    }
    sd_log_info("postgres", "connected to %s", pgc_describe(d->pg));
    d->version_step = (pgc_step){
        .kind = PGC_STEP_QUERY,
        .sql = sd_migrate_version_sql,
        .on_result = on_version_row,
        .user = d,
    };
    if (pgc_run(d->pg, &d->version_step, 1, on_version_checked, d) != 0)
        dm_fail(d, "the PostgreSQL connection is not usable");
}

int sd_daemon_run(sd_config *config)
{
    sd_daemon *d = calloc(1, sizeof(*d));
    if (!d) {
        sd_log_error("storyd", "out of memory");
        return 1;
    }
    d->config = config;
    bt_limits_from(config, &d->limits);
    sd_buf_init(&d->metrics_text);
    static const double batch_bounds[] = {1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
    static const double commit_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                           0.25,  0.5,    1,     2.5,  5,     10,   30};
    mx_histogram_init(&d->batch_events, batch_bounds, sizeof(batch_bounds) / sizeof(double));
    mx_histogram_init(&d->commit_seconds, commit_bounds, sizeof(commit_bounds) / sizeof(double));
    d->filling = bt_new();
    d->spare = bt_new();
    dd_config dedup_config;
    dl_config_from(config, &dedup_config);
    d->dedup = dd_new(&dedup_config);
    d->next_seq = 1;
    bool statements = strcmp(config->write_method, "statements") == 0;
    const char *story_topic =
        config->story_topic && config->story_topic[0] ? config->story_topic : NULL;
    bt_batch *batches[2] = {d->filling, d->spare};
    for (int i = 0; i < 2; i++) {
        if (!batches[i])
            continue;
        bt_set_statements(batches[i], statements);
        bt_set_topics(batches[i], story_topic, config->dead_letter_topic);
        bt_set_input_format(batches[i], pe_format_parse(config->input_format));
    }
    if (!d->filling || !d->spare || !d->dedup || uv_loop_init(&d->loop) != 0) {
        sd_log_error("storyd", "cannot initialize");
        bt_free(d->filling);
        bt_free(d->spare);
        dd_free(d->dedup);
        free(d);
        return 1;
    }
    uv_signal_init(&d->loop, &d->sigterm);
    uv_signal_init(&d->loop, &d->sigint);
    uv_signal_init(&d->loop, &d->sighup);
    uv_timer_init(&d->loop, &d->batch_timer);
    uv_timer_init(&d->loop, &d->shutdown_timer);
    uv_timer_init(&d->loop, &d->reconnect_timer);
    uv_timer_init(&d->loop, &d->pg_watch);
    uv_timer_init(&d->loop, &d->hold_timer);
    uv_timer_init(&d->loop, &d->service_timer);
    uv_signal_init(&d->loop, &d->sigusr1);
    uv_idle_init(&d->loop, &d->finisher);
    d->sigterm.data = d->sigint.data = d->sighup.data = d->batch_timer.data =
        d->shutdown_timer.data = d->reconnect_timer.data = d->pg_watch.data = d->finisher.data =
            d->hold_timer.data = d->service_timer.data = d->sigusr1.data = d;
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sighup, on_sighup, SIGHUP);
    if (config->test_stall_loop_ms > 0)
        uv_signal_start(&d->sigusr1, on_sigusr1, SIGUSR1);
    d->notify = sn_new();
    start_service_timer(d);
    char http_err[512];
    if (config->http_listen && config->http_listen[0]) {
        d->http = hs_new(&d->loop, config->http_listen, on_http, d, http_err, sizeof(http_err));
        if (!d->http)
            dm_fail(d, http_err);
        else
            sd_log_info("storyd", "health endpoints on http://%s/healthz and /readyz",
                        config->http_listen);
    }
    /* A closed PostgreSQL socket must be an error return, not a process-killing signal. */
    signal(SIGPIPE, SIG_IGN);

    char err[1024];
    d->n_profiles = sd_profiles_load(config, &d->profiles, err, sizeof(err));
    if (d->n_profiles < 0) {
        d->n_profiles = 0;
        dm_fail(d, err);
    } else {
        log_profiles(d, "loaded");
    }

    d->pg = pgc_new(&d->loop, config);
    if (d->finished) {
        /* The profiles failed: nothing to connect. */
    } else if (!d->pg || pgc_set_session_sql(d->pg, sr_stage_sql) != 0 ||
               pgc_connect(d->pg, on_pg_connected, d) != 0)
        dm_fail(d, "cannot start connecting to PostgreSQL (check the [postgres] keys)");

    uv_run(&d->loop, UV_RUN_DEFAULT);
    /* Handles are closed; one more turn runs their close callbacks. */
    uv_run(&d->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d->loop) != 0)
        sd_log_warning("storyd", "the loop still had open handles at exit");

    int code = d->exit_code;
    sn_free(d->notify);
    drop_pending_reload(d);
    sd_profiles_free(d->profiles, d->n_profiles);
    if (d->assigning)
        rd_kafka_topic_partition_list_destroy(d->assigning);
    if (d->revoking)
        rd_kafka_topic_partition_list_destroy(d->revoking);
    for (size_t i = 0; i < d->partition_count; i++)
        free(d->partitions[i].topic);
    free(d->partitions);
    free(d->expected);
    bt_free(d->filling);
    bt_free(d->flushing);
    bt_free(d->spare);
    dd_free(d->dedup);
    sd_buf_release(&d->metrics_text);
    free(d);
    return code;
}
