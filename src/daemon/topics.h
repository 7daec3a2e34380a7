/*
 * The Kafka topics storyd reads and writes, what they must look like, and the
 * check the daemon runs before it consumes (docs/operations.md, "Topics").
 *
 * storyd writes two topics through its outbox: story events (keyed by story,
 * so a story's events stay in order in one partition) and dead letters (the
 * original key and bytes of every event it cannot decode or extract). Both
 * must keep every message for their retention: a compacted topic would drop
 * all but a key's latest event. The dead-letter topic must take a message as
 * large as the largest input event plus storyd's headers, or a dead letter of
 * that event could never leave the outbox.
 */
#ifndef SD_DAEMON_TOPICS_H
#define SD_DAEMON_TOPICS_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <uv.h>

#include "common/config.h"

/* Room the dead-letter topic needs above the input's largest message for the headers. */
#define TP_DEAD_LETTER_HEADROOM 4096

typedef enum { TP_INPUT = 0, TP_STORIES = 1, TP_DEAD_LETTERS = 2, TP_ROLES = 3 } tp_role;

/* What `storyd topics --create` (and the scripts) create for each role. */
typedef struct tp_spec {
    const char *role; /* the config key naming the topic, e.g. "storyd.story_topic" */
    int partitions;
    const char *cleanup_policy;
    const char *retention_ms;
    const char *max_message_bytes;
} tp_spec;

/* The spec of a role; never NULL for a valid role. */
const tp_spec *tp_spec_of(tp_role role);

/* The topic the config names for a role; NULL when the role is off (story_topic = ""). */
const char *tp_topic_name(const sd_config *config, tp_role role);

/* One topic as the broker describes it. Strings are borrowed from the caller. */
typedef struct tp_described {
    const char *name;           /* NULL: the role is off */
    bool missing;               /* the broker does not know the topic */
    const char *cleanup_policy; /* NULL: not described */
    long long max_message_bytes;
    long long retention_ms;
} tp_described;

/*
 * Pure: checks the described topics against what storyd needs. Returns 0 when
 * they will do, or -1 with err naming the config key, the topic, the setting
 * and the fix. *warning is set (err then holds the text) when the input topic
 * is missing: the consumer waits for it, which is not an error.
 */
int tp_verify(const tp_described described[TP_ROLES], bool *warning, char *err, size_t errlen);

/* The asynchronous check the daemon runs on its loop. */
typedef struct tp_check tp_check;

/*
 * Describes the configured topics with rk (borrowed; any client handle will
 * do) and calls done once on the loop with status 0, or -1 and a message
 * when the topics disagree with tp_verify. A broker that does not answer is
 * asked again every few seconds (logged), since storyd waits for Kafka
 * anyway. Returns NULL with err filled when out of memory.
 */
tp_check *tp_check_start(uv_loop_t *loop, rd_kafka_t *rk, const sd_config *config,
                         void (*done)(void *user, int status, const char *error), void *user,
                         char *err, size_t errlen);

/* Stops a check (done is not called after this) and frees it once its timer has closed. */
void tp_check_free(tp_check *check);

/*
 * Blocking, for the CLI: describes the configured topics, creating the
 * missing ones from their specs first when create is set, prints one line per
 * topic to out, and returns 0 when tp_verify accepts them, else 1 with the
 * reason printed.
 */
int tp_run_cli(const sd_config *config, rd_kafka_t *rk, bool create, FILE *out);

#endif
