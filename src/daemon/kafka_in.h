/*
 * The Kafka consumer on the libuv loop.
 *
 * librdkafka writes one byte to a pipe when its consumer queue goes from
 * empty to non-empty; a uv_poll on the pipe's read end wakes the loop, which
 * then serves the queue with rd_kafka_consumer_poll(rk, 0) until it is empty
 * (or a per-turn budget is spent, in which case an idle handle continues on
 * the next turn, since the pipe will not be written again). A timer also
 * polls every storyd.poll_interval_ms so that fd-only wake-ups can never
 * exceed max.poll.interval.ms (librdkafka#3344). librdkafka's log lines and
 * errors are served from the same queue, on the loop thread.
 *
 * Assignment is left to the caller: on_assign and on_revoke report what the
 * group decided, and the caller calls ki_assign / ki_unassign later, after it
 * has read stored offsets from PostgreSQL or finished the batch in flight.
 */
#ifndef SD_DAEMON_KAFKA_IN_H
#define SD_DAEMON_KAFKA_IN_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <uv.h>

#include "common/config.h"

typedef struct ki_consumer ki_consumer;

typedef struct ki_callbacks {
    /* A message; the callee takes ownership and destroys it with rd_kafka_message_destroy. */
    void (*on_message)(void *user, rd_kafka_message_t *message);
    /* Partitions given to us (borrowed for the call); answer with ki_assign. */
    void (*on_assign)(void *user, const rd_kafka_topic_partition_list_t *partitions);
    /* Partitions taken away (borrowed for the call); answer with ki_unassign. lost: another
     * consumer may own them already, so nothing for them may be committed. */
    void (*on_revoke)(void *user, const rd_kafka_topic_partition_list_t *partitions, bool lost);
    /* A partition's fetch offset is out of range (retention deleted it, or the topic was
     * recreated); fetching it stopped until the callee seeks (ki_seek). The strings are
     * borrowed for the call. */
    void (*on_out_of_range)(void *user, const char *topic, int32_t partition, int64_t offset,
                            const char *reason);
    /* librdkafka reported a fatal error; the consumer is unusable. */
    void (*on_fatal)(void *user, const char *reason);
} ki_callbacks;

/*
 * Creates the consumer from config ([kafka] passthrough plus the keys storyd
 * owns). callbacks is copied. Returns NULL with err filled on failure.
 */
ki_consumer *ki_new(uv_loop_t *loop, const sd_config *config, const ki_callbacks *callbacks,
                    void *user, char *err, size_t errlen);

/* Subscribes to storyd.input_topic and starts watching the queue. Returns 0 or -1. */
int ki_start(ki_consumer *consumer, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Pauses (or resumes) fetching of every assigned partition, and of partitions assigned while
 * paused (backpressure). The queue is still served, so rebalances, errors and logs are never
 * held up and max.poll.interval.ms cannot run out; a few messages fetched before the pause may
 * still arrive, and librdkafka resumes each partition right after the last message it handed
 * over.
 */
void ki_set_paused(ki_consumer *consumer, bool paused);

/*
 * Leaves messages in the queue (true) or takes them again (false): backpressure for a moment,
 * without the cost of a pause (librdkafka drops what it prefetched for a paused partition and
 * fetches it again on resume). While holding, rebalances and errors wait in the queue too, so
 * the caller holds only briefly and pauses (ki_set_paused) if the wait goes on.
 */
void ki_set_holding(ki_consumer *consumer, bool holding);

/* The partition's log start and end (the next offset) as last fetched; 0, or -1 when unknown. */
/* False once librdkafka's statistics say no broker is connected; true before any arrive. */
bool ki_brokers_up(const ki_consumer *consumer);

int ki_watermarks(ki_consumer *consumer, const char *topic, int32_t partition, int64_t *low,
                  int64_t *high);

/*
 * Restarts fetching of one partition at offset (or RD_KAFKA_OFFSET_BEGINNING/END) after its
 * fetcher stopped (on_out_of_range). Under the eager protocol the other assigned partitions are
 * assigned again at position_of(user, topic, partition). Returns 0 or -1.
 */
int ki_restart(ki_consumer *consumer, const char *topic, int32_t partition, int64_t offset,
               int64_t (*position_of)(void *user, const char *topic, int32_t partition), void *user,
               char *err, size_t errlen) __attribute__((warn_unused_result));

/* Completes an assignment; each element's offset says where to start. Returns 0 or -1. */
int ki_assign(ki_consumer *consumer, rd_kafka_topic_partition_list_t *partitions, char *err,
              size_t errlen) __attribute__((warn_unused_result));

/* Completes a revocation. Returns 0 or -1. */
int ki_unassign(ki_consumer *consumer, const rd_kafka_topic_partition_list_t *partitions, char *err,
                size_t errlen) __attribute__((warn_unused_result));

/* "EAGER" or "COOPERATIVE", for logs. */
/*
 * Commits offsets (borrowed; each the next offset to read) to Kafka without
 * waiting, after PostgreSQL committed them, so that kafka-consumer-groups and
 * lag dashboards see progress. Advisory: failures are logged when the result
 * arrives; nothing is committed for a lost assignment. Returns 0 or -1.
 */
int ki_commit_async(ki_consumer *consumer, const rd_kafka_topic_partition_list_t *offsets,
                    char *err, size_t errlen);

const char *ki_protocol(ki_consumer *consumer);

/*
 * Leaves the group (blocking, bounded by librdkafka's timeouts; only at
 * shutdown, after the last batch committed) and destroys the consumer. Any
 * revocation during close is answered internally. Handles are released on a
 * later loop turn.
 */
void ki_free(ki_consumer *consumer);

#endif
