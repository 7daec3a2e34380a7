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
    SD_CFG_DOUBLE,
    SD_CFG_BOOL,
    SD_CFG_LOG_LEVEL,
} sd_cfg_type;

typedef struct sd_config_key {
    const char *section;
    const char *name;
    sd_cfg_type type;
    const char *default_value; /* NULL: no default, the key may stay unset. */
    size_t offset;             /* Where the value lives in sd_config. */
    double min, max;           /* Inclusive bounds for SD_CFG_INT and SD_CFG_DOUBLE. */
    bool reloadable;           /* Takes effect on SIGHUP; the others need a restart. */
    const char *help;
} sd_config_key;

/*
 * An ordered list of passthrough key/value pairs. Every string is owned by the list; origins[i]
 * says where values[i] came from ("FILE:LINE" or "-o ..."), and secret[i] is set for a value
 * read from a file or credential (KEY_file), which is never printed.
 */
typedef struct sd_kv_list {
    char **keys;
    char **values;
    char **origins;
    bool *secret;
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
    char *daemon_role;         /* owned; the role migrate grants the daemon's rights, or NULL */
    char *offset_out_of_range; /* owned; "fail", "earliest" or "latest" */
    char *profile_dir; /* owned; NULL: the installed profiles, else those of the source tree */
    sd_log_level log_level;
    char *log_format; /* owned; "text" or "json" */
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
    long stuck_batch_ms;     /* the watchdog stops when one batch is in flight longer */
    char *http_listen;       /* owned; host:port of /healthz, /readyz and /metrics, "" for none */
    /* [limits]: bounds on hostile input (core/extract.h ex_limits, and the two below). */
    long limit_event_bytes, limit_page_bytes, limit_items, limit_item_bytes;
    long limit_html_depth, limit_html_nodes, limit_lines, limit_page_ms;
    /* [dedup]: the engine's parameters (dedup/engine.h dd_config). */
    long dedup_gram, dedup_bands, dedup_rows;
    double dedup_min_similarity;
    long dedup_min_minhash_chars, dedup_anchor_chars, dedup_min_prefix_chars;
    long dedup_min_title_chars, dedup_keep_key_bytes, dedup_max_texts, dedup_max_variants;
    long dedup_min_text_chars;
    sd_kv_list kafka;     /* [kafka] passthrough, owned */
    sd_kv_list postgres;  /* [postgres] passthrough, owned */
    char **origins;       /* owned; per table key (sd_config_keys order), NULL for a default */
    char *path;           /* owned; the file last loaded, read again on SIGHUP; NULL: none */
    sd_kv_list overrides; /* owned; the -o overrides ("section.key" = value), applied again */
} sd_config;

/* Returns a config holding every default, or NULL when out of memory. Free with sd_config_free. */
sd_config *sd_config_new(void);
void sd_config_free(sd_config *config);

/*
 * Reads an INI file into config (keys it sets replace defaults) and remembers its path. A
 * passthrough key named KEY_file sets KEY to the contents of a file (one trailing newline
 * dropped), or of $CREDENTIALS_DIRECTORY/NAME when its value is "credential:NAME" (systemd's
 * LoadCredential=). Returns 0, or -1 with "path:line: what" in err.
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

/* sd_config_set for a -o override, remembered so that a reload applies it again. */
int sd_config_override(sd_config *config, const char *dotted_key, const char *value, char *err,
                       size_t errlen) __attribute__((warn_unused_result));

/*
 * Reads the running configuration's file again with its overrides, and validates it. Returns a
 * new config to free with sd_config_free, or NULL with err naming file, line and key.
 */
sd_config *sd_config_reread(const sd_config *running, char *err, size_t errlen);

/*
 * Checks cross-key rules (forbidden passthrough keys, valid test keys), and,
 * when needs_kafka, the keys a Kafka client needs. Returns 0 or -1.
 */
int sd_config_validate(const sd_config *config, bool needs_kafka, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Parses len bytes of INI text as sd_config_load_file does; origin names it in errors. */
int sd_config_load_text(sd_config *config, const char *text, size_t len, const char *origin,
                        char *err, size_t errlen) __attribute__((warn_unused_result));

/* Returns the value of a passthrough key, or NULL. Borrowed from the list. */
const char *sd_kv_get(const sd_kv_list *list, const char *key);

/* Whether a [kafka] key is one only a group consumer takes (producers would warn about it). */
bool sd_config_kafka_consumer_only(const char *key);

/* The key table, for --help, the sample config and the man page. */
const sd_config_key *sd_config_keys(size_t *count);

/* Prints every key with its type, default and help. */
void sd_config_print_help(FILE *out);

/* Whether a passthrough value must never be printed: a password, a secret, a private key. */
bool sd_config_is_secret(const sd_kv_list *list, size_t index);

/* Writes the value of a table key as the config file would spell it ("" for unset) to buf. */
void sd_config_format_value(const sd_config *config, const sd_config_key *key, char *buf,
                            size_t size);

/* Prints the effective configuration as INI, each key with where it came from, secrets
 * redacted. */
void sd_config_print_effective(const sd_config *config, FILE *out);

/* Prints a sample configuration file: every key at its default, commented, with its help. */
void sd_config_print_sample(FILE *out);

/*
 * Reports one difference found by sd_config_reload: the dotted key, its running and new values
 * (redacted when secret), and whether it was applied or needs a restart.
 */
typedef void (*sd_config_change_cb)(void *user, const char *key, const char *running,
                                    const char *fresh, bool applied);

/*
 * Applies fresh's reloadable table keys to live, and reports every key that differs. Keys that
 * need a restart, and the passthrough sections, stay as they run. Returns the number of keys
 * applied, or -1 when out of memory (live is then unchanged for the key that failed).
 */
int sd_config_reload(sd_config *live, const sd_config *fresh, sd_config_change_cb on_change,
                     void *user);

#endif
