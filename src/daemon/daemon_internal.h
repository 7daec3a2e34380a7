/* The daemon's state, shared by its two halves: daemon.c (batches, PostgreSQL reconnection,
 * rebalances) and lifecycle.c (start, signals, stop). Nothing outside src/daemon/daemon*.c and
 * lifecycle.c includes this. */
#ifndef STORYD_DAEMON_INTERNAL_H
#define STORYD_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/config.h"
#include "core/profile.h"
#include "daemon/batch.h"
#include "daemon/http.h"
#include "daemon/kafka_in.h"
#include "daemon/metrics.h"
#include "daemon/notify.h"
#include "daemon/outbox.h"
#include "daemon/pg_conn.h"
#include "daemon/topics.h"
#include "dedup/engine.h"

#define ERRLEN 1024

/* What storyd knows about one partition it was given. */
typedef struct dm_partition {
    char *topic; /* owned */
    int32_t partition;
    int64_t stored_offset; /* next offset stored in PostgreSQL, -1 when none */
    bool owned;            /* assigned and not being revoked: its messages are taken */
    bool first_seen;       /* the first message since assignment was reported */
    int64_t position;      /* the offset after the last message taken since assignment, -1 */
    int64_t start_offset;  /* where the assignment started it (an offset or a logical one) */
    int64_t skipped_from;  /* the out-of-range offset it went on from, -1 */
} dm_partition;

typedef struct sd_daemon {
    uv_loop_t loop;
    sd_config *config; /* borrowed; SIGHUP applies the reloadable keys to it in place */
    pgc_conn *pg;
    ki_consumer *kafka;
    ob_relay *relay;  /* sends the outbox: story events and dead letters */
    tp_check *topics; /* the check of the topics before consuming, while it runs */
    uv_signal_t sigterm, sigint, sighup;

    /* Site profiles, loaded at start and again on SIGHUP; the extraction of issue 6 uses them. */
    sp_profile **profiles;
    int n_profiles;
    ex_limits limits; /* from [limits], again after a SIGHUP */
    /* A SIGHUP's configuration and profiles, read and checked, waiting for the filling batch
     * to be sent so that every batch is extracted and deduplicated under one set. */
    sd_config *reload_config;
    sp_profile **reload_profiles;
    int reload_n_profiles;
    uint64_t reloads;
    uv_timer_t batch_timer;    /* flushes a batch whose first event waited max_wait_ms */
    uv_timer_t shutdown_timer; /* bounds how long SIGTERM waits */
    uv_idle_t finisher;        /* tears down outside of library callbacks */

    bt_batch *filling;  /* collecting messages */
    bt_batch *flushing; /* its transaction is in flight, or NULL */
    bt_batch *spare;
    int64_t *expected; /* per partition of the flushing batch */
    size_t expected_cap;

    dm_partition *partitions;
    size_t partition_count, partition_cap;

    /* Assignment in progress: offsets are read from PostgreSQL before ki_assign. */
    rd_kafka_topic_partition_list_t *assigning;
    uint64_t assign_epoch;
    pgc_step offsets_step;
    const char *offsets_params[1];

    /* Revocation waiting for the batch in flight. */
    rd_kafka_topic_partition_list_t *revoking;
    bool revoking_lost;

    pgc_step version_step;
    int db_version;

    /* The dedup engine, rebuilt from PostgreSQL at start; it always equals what is committed
     * there, plus the batch in flight between dd_begin and dd_commit/dd_rollback. */
    dd_engine *dedup;
    int64_t next_seq; /* the seq of the next item the engine sees */

    /* After a lost connection: reconnect with backoff, read the offsets back, then replay. */
    uv_timer_t reconnect_timer;
    uv_timer_t pg_watch; /* notices a connection lost while idle */
    uint64_t reconnect_delay_ms;
    bool reconnecting;
    pgc_step recheck_step;
    const char *recheck_params[1];

    /* Why consumption is paused (DM_PAUSE_*); the partitions are paused while any is set. */
    unsigned pause_reasons;

    /* systemd: readiness, status lines and the watchdog (notify.h). */
    sn_notifier *notify;
    hs_server *http;
    uv_timer_t service_timer; /* pings the watchdog, refreshes STATUS */
    uv_signal_t sigusr1;      /* test.stall_loop_ms */
    uint64_t last_status_ms;
    int64_t flush_started_ms; /* when the batch in flight was sent */
    uv_timer_t hold_timer;    /* a full batch holds the queue this long, then pauses */

    bool stopping;
    bool finished;
    int exit_code;
    uint64_t batches, events, pages, rejects, items, stories_created, merges, replays, dead_letters;
    uint64_t pauses, stale_messages, offset_resets;
    uint64_t consumed; /* messages taken into a batch (committed or not yet) */
    mx_histogram batch_events, commit_seconds;
    uint64_t flush_started_ns; /* uv_hrtime() when the batch in flight was sent */
    sd_buf metrics_text;       /* the last /metrics answer; owned */
} sd_daemon;

/* Reasons to pause consumption; each is set and cleared on its own. */
enum {
    DM_PAUSE_FULL = 1u << 0,      /* the filling batch stayed full for DM_HOLD_MS */
    DM_PAUSE_RECONNECT = 1u << 1, /* PostgreSQL is being reconnected */
    DM_PAUSE_REVOKE = 1u << 2,    /* partitions are being given up */
    DM_PAUSE_STOP = 1u << 3,      /* the daemon is stopping */
};

/*
 * A full batch first leaves messages in librdkafka's queue (cheap, and usually the COMMIT in
 * flight ends within milliseconds); if it is still full after this long, the partitions are
 * paused and the queue served again, so rebalances and max.poll.interval.ms never wait on
 * PostgreSQL.
 */
#define DM_HOLD_MS 2000

/* Sets or clears one pause reason, pausing or resuming the partitions when that changes. */
void dm_pause(sd_daemon *d, unsigned reason, bool on);

/* Stops the daemon with an error: nothing more is committed, a restart resumes from PostgreSQL. */
void dm_fail(sd_daemon *d, const char *what);
/* Sends the filling batch when it is due (or now, with force) and no other is in flight. */
void dm_maybe_flush(sd_daemon *d, bool force);
/* Applies a SIGHUP's pending configuration and profiles once the filling batch is empty. */
void dm_maybe_apply_reload(sd_daemon *d);
/* Tears the daemon down once it is stopping and nothing is in flight. */
void dm_maybe_finish(sd_daemon *d);
/* Completes a revocation once no transaction touching the partitions is in flight. */
void dm_finish_revoke(sd_daemon *d);
/* The idle callback that closes every client and handle outside library callbacks. */
void dm_on_finisher(uv_idle_t *idle);
/* The timer that notices a PostgreSQL connection lost while idle. */
void dm_on_pg_watch(uv_timer_t *timer);

/* The consumer's callbacks (kafka_in.h). */
void dm_on_message(void *user, rd_kafka_message_t *message);
void dm_on_assign(void *user, const rd_kafka_topic_partition_list_t *partitions);
void dm_on_revoke(void *user, const rd_kafka_topic_partition_list_t *partitions, bool lost);
void dm_on_out_of_range(void *user, const char *topic, int32_t partition, int64_t offset,
                        const char *reason);

#endif
