/*
 * storyd's configuration: ONE declarative table of keys (section, name, type,
 * default, reloadable, help) filled from an INI file and "-o section.key=value"
 * overrides. The [kafka] and [postgres] sections are passed through: every key
 * in them goes to librdkafka, respectively libpq, as is, in file order.
 *
 * Errors name the file and line (or the override) and the key.
 */
#ifndef SD_COMMON_CONFIG_H
#define SD_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/log.h"

typedef enum {
    SD_CFG_STRING,
    SD_CFG_INT,
    SD_CFG_BOOL,
    SD_CFG_LOG_LEVEL,
} sd_cfg_type;

typedef struct sd_config_key {
    const char *section;
    const char *name;
    sd_cfg_type type;
    const char *default_value; /* NULL: no default, the key may stay unset. */
    size_t offset;             /* Where the value lives in sd_config. */
    long min, max;             /* Inclusive bounds for SD_CFG_INT. */
    bool reloadable;           /* May change on SIGHUP (reload comes with issue 9). */
    const char *help;
} sd_config_key;

/* An ordered list of passthrough key/value pairs; strings are owned by the list. */
typedef struct sd_kv_list {
    char **keys;
    char **values;
    size_t count;
} sd_kv_list;

typedef struct sd_config {
    char *input_topic;         /* owned */
    char *story_topic;         /* owned; "" turns story events off */
    char *dead_letter_topic;   /* owned */
    char *input_format;        /* owned; "auto", "protobuf", "confluent" or "json" */
    long relay_batch;          /* outbox rows read and sent per round */
    long outbox_retention_s;   /* sent outbox rows older than this are deleted */
    char *consumer_group;      /* owned */
    char *offset_out_of_range; /* owned; "fail", "earliest" or "latest" */
    char *profile_dir; /* owned; NULL: the installed profiles, else those of the source tree */
    sd_log_level log_level;
    long batch_max_events;
    long batch_max_bytes;
    long batch_max_wait_ms;
    long shutdown_timeout_ms;
    long poll_interval_ms;
    bool kafka_commit;  /* also commit each batch's offsets to Kafka (advisory) */
    char *write_method; /* owned; "copy" or "statements" */
    long reconnect_max_ms;
    char *test_crash_point; /* owned; test-only fault injection, NULL when off */
    long test_crash_after_batches;
    long test_stall_loop_ms; /* test-only: SIGUSR1 blocks the loop this long; 0: off */
    long stuck_batch_ms;
    char *http_listen;
    /* owned; host:port of /healthz and /readyz, "" for none */ /* the watchdog stops when one
                                                                   batch is in flight longer */
    sd_kv_list kafka;                                           /* [kafka] passthrough, owned */
    sd_kv_list postgres;                                        /* [postgres] passthrough, owned */
} sd_config;

/* Returns a config holding every default, or NULL when out of memory. Free with sd_config_free. */
sd_config *sd_config_new(void);
void sd_config_free(sd_config *config);

/*
 * Reads an INI file into config (keys it sets replace defaults). Returns 0, or
 * -1 with "path:line: what" in err.
 */
int sd_config_load_file(sd_config *config, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Sets one key given as "section.name" (e.g. "batch.max_events" or
 * "kafka.bootstrap.servers"). `origin` names where the value came from for
 * error messages. Returns 0 or -1 with err filled.
 */
int sd_config_set(sd_config *config, const char *dotted_key, const char *value, const char *origin,
                  char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Checks cross-key rules (forbidden passthrough keys, valid test keys), and,
 * when needs_kafka, the keys a Kafka client needs. Returns 0 or -1.
 */
int sd_config_validate(const sd_config *config, bool needs_kafka, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Returns the value of a passthrough key, or NULL. Borrowed from the list. */
const char *sd_kv_get(const sd_kv_list *list, const char *key);

/* Whether a [kafka] key is one only a group consumer takes (producers would warn about it). */
bool sd_config_kafka_consumer_only(const char *key);

/* The key table, for --help, the sample config and the man page. */
const sd_config_key *sd_config_keys(size_t *count);

/* Prints every key with its type, default and help. */
void sd_config_print_help(FILE *out);

#endif
