#include "common/config.h"

#include "common/file.h"
#include "common/ini.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY(section, name, type, def, field, lo, hi, reload, help)                                 \
    {                                                                                              \
        section, name, type, def, offsetof(sd_config, field), lo, hi, reload, help                 \
    }

/* The one table of storyd's own keys. Passthrough sections are not listed here. */
static const sd_config_key config_keys[] = {
    KEY("storyd", "input_topic", SD_CFG_STRING, "storyd.pages", input_topic, 0, 0, false,
        "Kafka topic the crawler publishes page events to."),
    KEY("storyd", "story_topic", SD_CFG_STRING, "storyd.stories", story_topic, 0, 0, false,
        "Kafka topic of story events (storyd/v1/story_event.proto), sent through the outbox; "
        "empty: none."),
    KEY("storyd", "dead_letter_topic", SD_CFG_STRING, "storyd.dead-letters", dead_letter_topic, 0,
        0, false,
        "Kafka topic of the events that cannot be decoded or extracted (original key and bytes, "
        "headers naming the error)."),
    KEY("storyd", "input_format", SD_CFG_STRING, "auto", input_format, 0, 0, false,
        "Wire format of page events: auto (a content-type header, else the first byte), "
        "protobuf, confluent (Schema Registry framing) or json (docs/wire-formats.md)."),
    KEY("storyd", "relay_batch", SD_CFG_INT, "1000", relay_batch, 1, 100000, true,
        "Outbox rows the relay reads and sends per round."),
    KEY("storyd", "outbox_retention_s", SD_CFG_INT, "86400", outbox_retention_s, 0, 315360000, true,
        "Seconds a sent outbox row is kept (to look at, or to compare with the topic) before the "
        "relay deletes it; unsent rows are never deleted."),
    KEY("storyd", "offset_out_of_range", SD_CFG_STRING, "fail", offset_out_of_range, 0, 0, false,
        "When a stored offset is no longer in the log (retention deleted events storyd never "
        "read, or the topic was recreated): fail (stop, skipping nothing), earliest or latest "
        "(go on from there, reporting what was skipped)."),
    KEY("storyd", "daemon_role", SD_CFG_STRING, NULL, daemon_role, 0, 0, false,
        "The PostgreSQL role `storyd run` logs in as, when it is not the owner of storyd's "
        "tables: `storyd migrate` (run as the owner) grants it the rows of those tables and "
        "nothing more. Unset: no grants."),
    KEY("storyd", "consumer_group", SD_CFG_STRING, "storyd", consumer_group, 0, 0, false,
        "Kafka consumer group; also the key of the offsets stored in PostgreSQL."),
    KEY("storyd", "profile_dir", SD_CFG_STRING, NULL, profile_dir, 0, 0, true,
        "Folder of site profiles (*.ini); unset: the installed ones (or the source tree's)."),
    KEY("storyd", "log_level", SD_CFG_LOG_LEVEL, "info", log_level, 0, 0, true,
        "One of error, warning, notice, info, debug."),
    KEY("storyd", "log_format", SD_CFG_STRING, "text", log_format, 0, 0, false,
        "text: one line per entry with a journald priority prefix (a timestamp on a terminal); "
        "json: one JSON object per line (ts, level, component, msg, and the partition or "
        "connection the line is about)."),
    KEY("storyd", "shutdown_timeout_ms", SD_CFG_INT, "30000", shutdown_timeout_ms, 100, 3600000,
        true, "How long SIGTERM waits for the batch in flight before giving up."),
    KEY("storyd", "poll_interval_ms", SD_CFG_INT, "1000", poll_interval_ms, 10, 60000, false,
        "Safety poll of the Kafka queue besides its wake-up fd (librdkafka#3344)."),
    KEY("storyd", "kafka_commit", SD_CFG_BOOL, "true", kafka_commit, 0, 0, false,
        "After each PostgreSQL commit, commit the same offsets to Kafka too (asynchronously, "
        "advisory: for lag tools; PostgreSQL stays the truth)."),
    KEY("storyd", "reconnect_max_ms", SD_CFG_INT, "5000", reconnect_max_ms, 100, 600000, true,
        "Longest wait between attempts to reconnect to PostgreSQL (the wait doubles from 100 ms)."),
    KEY("batch", "write_method", SD_CFG_STRING, "copy", write_method, 0, 0, false,
        "copy: COPY the rows (the faster, see docs/architecture.md); statements: pipelined "
        "prepared INSERTs."),
    KEY("batch", "max_events", SD_CFG_INT, "500", batch_max_events, 1, 1000000, true,
        "A batch is written once it holds this many events..."),
    KEY("batch", "max_bytes", SD_CFG_INT, "67108864", batch_max_bytes, 1024, 4294967296, true,
        "...or once its rows hold this many bytes. A full batch while another commits pauses "
        "every partition until that one is done (backpressure)."),
    KEY("batch", "max_wait_ms", SD_CFG_INT, "200", batch_max_wait_ms, 0, 600000, true,
        "...or once its first event has waited this long."),
    KEY("test", "crash_point", SD_CFG_STRING, NULL, test_crash_point, 0, 0, false,
        "Test-only fault injection: before_commit, after_commit_sent or after_commit."),
    KEY("test", "stall_loop_ms", SD_CFG_INT, "0", test_stall_loop_ms, 0, 600000, false,
        "Test only: SIGUSR1 blocks the event loop this long (to prove the watchdog stops); 0: "
        "off."),
    KEY("storyd", "http_listen", SD_CFG_STRING, "127.0.0.1:8089", http_listen, 0, 0, false,
        "Address of the HTTP endpoints (GET /healthz, /readyz, /metrics), host:port or "
        "[v6]:port; "
        "empty: none."),
    KEY("storyd", "stuck_batch_ms", SD_CFG_INT, "120000", stuck_batch_ms, 1000, 86400000, true,
        "systemd's watchdog is no longer pinged while one batch has been in flight this long "
        "(not counting a PostgreSQL reconnect), so a hung transaction gets the service "
        "restarted."),
    KEY("test", "crash_after_batches", SD_CFG_INT, "1", test_crash_after_batches, 1, 1000000, false,
        "Test-only: the crash point fires on this batch."),
    /* Bounds on hostile input. An event or page over one is dead-lettered with the limit named;
     * the daemon goes on. They apply to the events consumed after a SIGHUP. */
    KEY("limits", "max_event_bytes", SD_CFG_INT, "33554432", limit_event_bytes, 1024, 1073741824,
        true, "Largest Kafka message taken as a page event, in bytes."),
    KEY("limits", "max_page_bytes", SD_CFG_INT, "16777216", limit_page_bytes, 1024, 1073741824,
        true, "Largest page body after conversion to UTF-8, in bytes."),
    KEY("limits", "max_items", SD_CFG_INT, "2000", limit_items, 1, 1000000, true,
        "Most story items one page may hold."),
    KEY("limits", "max_item_bytes", SD_CFG_INT, "262144", limit_item_bytes, 256, 67108864, true,
        "Longest text of one item, in bytes."),
    KEY("limits", "max_html_depth", SD_CFG_INT, "512", limit_html_depth, 8, 100000, true,
        "Deepest HTML element nesting read."),
    KEY("limits", "max_html_nodes", SD_CFG_INT, "2000000", limit_html_nodes, 100, 100000000, true,
        "Most HTML nodes (elements, text, comments) one page may have."),
    KEY("limits", "max_lines", SD_CFG_INT, "200000", limit_lines, 100, 100000000, true,
        "Most lines of rendered text one page may have."),
    KEY("limits", "max_page_ms", SD_CFG_INT, "5000", limit_page_ms, 1, 3600000, true,
        "Longest time the extraction of one page may take, in milliseconds (measured; the other "
        "limits bound the work itself)."),
    /* The engine's parameters. Thresholds apply to the items of later batches on SIGHUP; the
     * shape of the indexes needs a restart, which rebuilds them from PostgreSQL. */
    KEY("dedup", "min_similarity", SD_CFG_DOUBLE, "0.5", dedup_min_similarity, 0.05, 1.0, true,
        "Estimated Jaccard similarity (MinHash) of two texts' shingles at which they are one "
        "story."),
    KEY("dedup", "min_minhash_chars", SD_CFG_INT, "80", dedup_min_minhash_chars, 1, 100000, true,
        "Texts shorter than this many characters are not compared by MinHash."),
    KEY("dedup", "min_prefix_chars", SD_CFG_INT, "40", dedup_min_prefix_chars, 1, 100000, true,
        "A truncated lead links to a longer text when it holds at least this many characters."),
    KEY("dedup", "min_title_chars", SD_CFG_INT, "8", dedup_min_title_chars, 1, 10000, true,
        "Shorter titles link by nothing but an exact url."),
    KEY("dedup", "min_text_chars", SD_CFG_INT, "8", dedup_min_text_chars, 1, 10000, true,
        "Shorter texts (a lead the crawler cut to a few characters) link by nothing."),
    KEY("dedup", "gram", SD_CFG_INT, "3", dedup_gram, 1, 16, false, "Shingle length in syllables."),
    KEY("dedup", "bands", SD_CFG_INT, "16", dedup_bands, 1, 64, false,
        "LSH bands; bands x rows is at most 64."),
    KEY("dedup", "rows", SD_CFG_INT, "4", dedup_rows, 1, 64, false, "LSH rows per band."),
    KEY("dedup", "anchor_chars", SD_CFG_INT, "16", dedup_anchor_chars, 1, 1000, false,
        "Length of the text anchor that finds containment candidates, in characters."),
    KEY("dedup", "keep_key_bytes", SD_CFG_INT, "1536", dedup_keep_key_bytes, 16, 1048576, false,
        "Bytes of each text key kept in memory for containment checks."),
    KEY("dedup", "max_texts", SD_CFG_INT, "4", dedup_max_texts, 1, 1000, false,
        "Distinct texts kept per story."),
    KEY("dedup", "max_variants", SD_CFG_INT, "16", dedup_max_variants, 1, 1000, false,
        "Title variants kept per story."),
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

const sd_config_key *sd_config_keys(size_t *count)
{
    *count = N_KEYS;
    return config_keys;
}

static sd_kv_list *passthrough_list(sd_config *config, const char *section)
{
    if (strcmp(section, "kafka") == 0)
        return &config->kafka;
    if (strcmp(section, "postgres") == 0)
        return &config->postgres;
    return NULL;
}

static void kv_list_clear(sd_kv_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->keys[i]);
        /* A secret does not stay behind in freed memory. */
        if (list->secret[i])
            explicit_bzero(list->values[i], strlen(list->values[i]));
        free(list->values[i]);
        free(list->origins[i]);
    }
    free(list->keys);
    free(list->values);
    free(list->origins);
    free(list->secret);
    memset(list, 0, sizeof(*list));
}

/* Sets key to value (from origin), replacing an earlier value of the same key in place. */
static int kv_list_set(sd_kv_list *list, const char *key, const char *value, const char *origin,
                       bool secret)
{
    char *value_copy = strdup(value);
    char *origin_copy = strdup(origin);
    if (!value_copy || !origin_copy)
        goto fail;
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->keys[i], key) == 0) {
            free(list->values[i]);
            free(list->origins[i]);
            list->values[i] = value_copy;
            list->origins[i] = origin_copy;
            list->secret[i] = secret;
            return 0;
        }
    }
    char *key_copy = strdup(key);
    char **keys = realloc(list->keys, (list->count + 1) * sizeof(char *));
    if (keys)
        list->keys = keys;
    char **values = realloc(list->values, (list->count + 1) * sizeof(char *));
    if (values)
        list->values = values;
    char **origins = realloc(list->origins, (list->count + 1) * sizeof(char *));
    if (origins)
        list->origins = origins;
    bool *secrets = realloc(list->secret, (list->count + 1) * sizeof(bool));
    if (secrets)
        list->secret = secrets;
    if (!key_copy || !keys || !values || !origins || !secrets) {
        free(key_copy);
        goto fail;
    }
    list->keys[list->count] = key_copy;
    list->values[list->count] = value_copy;
    list->origins[list->count] = origin_copy;
    list->secret[list->count] = secret;
    list->count++;
    return 0;
fail:
    free(value_copy);
    free(origin_copy);
    return -1;
}

const char *sd_kv_get(const sd_kv_list *list, const char *key)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->keys[i], key) == 0)
            return list->values[i];
    }
    return NULL;
}

static const sd_config_key *find_key(const char *section, const char *name)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(config_keys[i].section, section) == 0 && strcmp(config_keys[i].name, name) == 0)
            return &config_keys[i];
    }
    return NULL;
}

/* Parses and stores one value of a table key. Returns 0 or -1 with err naming origin and key. */
static int set_typed(sd_config *config, const sd_config_key *key, const char *value,
                     const char *origin, char *err, size_t errlen)
{
    void *field = (char *)config + key->offset;
    switch (key->type) {
    case SD_CFG_STRING: {
        char *copy = strdup(value);
        if (!copy) {
            snprintf(err, errlen, "%s: out of memory", origin);
            return -1;
        }
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    case SD_CFG_INT:
    case SD_CFG_DOUBLE: {
        char *end;
        errno = 0;
        bool integer = key->type == SD_CFG_INT;
        long whole = integer ? strtol(value, &end, 10) : 0;
        double number = integer ? (double)whole : strtod(value, &end);
        if (errno != 0 || end == value || *end != '\0' || number != number) {
            snprintf(err, errlen, "%s: %s.%s: '%s' is not %s", origin, key->section, key->name,
                     value, integer ? "an integer" : "a number");
            return -1;
        }
        if (number < key->min || number > key->max) {
            snprintf(err, errlen, "%s: %s.%s: %s is outside [%.15g, %.15g]", origin, key->section,
                     key->name, value, key->min, key->max);
            return -1;
        }
        if (integer)
            *(long *)field = whole;
        else
            *(double *)field = number;
        return 0;
    }
    case SD_CFG_BOOL:
        if (strcasecmp(value, "true") == 0 || strcasecmp(value, "yes") == 0 ||
            strcmp(value, "1") == 0 || strcasecmp(value, "on") == 0) {
            *(bool *)field = true;
        } else if (strcasecmp(value, "false") == 0 || strcasecmp(value, "no") == 0 ||
                   strcmp(value, "0") == 0 || strcasecmp(value, "off") == 0) {
            *(bool *)field = false;
        } else {
            snprintf(err, errlen, "%s: %s.%s: '%s' is not a boolean (true/false)", origin,
                     key->section, key->name, value);
            return -1;
        }
        return 0;
    case SD_CFG_LOG_LEVEL:
        if (sd_log_level_parse(value, (sd_log_level *)field) != 0) {
            snprintf(err, errlen,
                     "%s: %s.%s: '%s' is not a level (error, warning, notice, info, debug)", origin,
                     key->section, key->name, value);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "%s: %s.%s: unknown type", origin, key->section, key->name);
    return -1;
}

/* A secret file larger than this is not a password. */
#define MAX_SECRET_BYTES 65536

/*
 * Reads the secret KEY_file names: a path, or "credential:NAME" for systemd's credentials
 * directory. Returns a string to free (one trailing newline dropped), or NULL with err set.
 */
static char *read_secret(const char *named, char *err, size_t errlen)
{
    char path[4096];
    if (strncmp(named, "credential:", 11) == 0) {
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        if (!dir || !*dir) {
            snprintf(err, errlen,
                     "'%s': $CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit "
                     "sets it)",
                     named);
            return NULL;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, named + 11);
    } else {
        snprintf(path, sizeof(path), "%s", named);
    }
    size_t len;
    char *text = sd_file_read(path, MAX_SECRET_BYTES, &len, err, errlen);
    if (!text)
        return NULL;
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: binary, not a secret", path);
        free(text);
        return NULL;
    }
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len > 0 && text[len - 1] == '\r')
        len--;
    text[len] = '\0';
    return text;
}

/* Sets a passthrough key; KEY_file reads KEY's value from a file or credential. */
static int set_passthrough(sd_kv_list *list, const char *section, const char *name,
                           const char *value, const char *origin, const char *record, char *err,
                           size_t errlen)
{
    if (name[0] == '\0') {
        snprintf(err, errlen, "%s: empty key in [%s]", origin, section);
        return -1;
    }
    size_t len = strlen(name);
    if (len > 5 && strcmp(name + len - 5, "_file") == 0) {
        char inner[4400];
        char *secret = read_secret(value, inner, sizeof(inner));
        if (!secret) {
            snprintf(err, errlen, "%s: %s.%s: %s", origin, section, name, inner);
            return -1;
        }
        char base[256], from[600];
        snprintf(base, sizeof(base), "%.*s", (int)(len - 5), name);
        snprintf(from, sizeof(from), "%s (%s = %s)", record, name, value);
        int rc = kv_list_set(list, base, secret, from, true);
        explicit_bzero(secret, strlen(secret));
        free(secret);
        if (rc != 0)
            snprintf(err, errlen, "%s: out of memory", origin);
        return rc;
    }
    if (kv_list_set(list, name, value, record, false) != 0) {
        snprintf(err, errlen, "%s: out of memory", origin);
        return -1;
    }
    return 0;
}

/*
 * Sets section/name to value: a table key or a passthrough key. origin prefixes error messages;
 * record is kept as where the value came from.
 */
static int set_in_section(sd_config *config, const char *section, const char *name,
                          const char *value, const char *origin, const char *record, char *err,
                          size_t errlen)
{
    sd_kv_list *list = passthrough_list(config, section);
    if (list)
        return set_passthrough(list, section, name, value, origin, record, err, errlen);
    const sd_config_key *key = find_key(section, name);
    if (!key) {
        snprintf(err, errlen, "%s: unknown key '%s' in [%s]", origin, name, section);
        return -1;
    }
    if (set_typed(config, key, value, origin, err, errlen) != 0)
        return -1;
    size_t index = (size_t)(key - config_keys);
    char *copy = strdup(record);
    if (!copy) {
        snprintf(err, errlen, "%s: out of memory", origin);
        return -1;
    }
    free(config->origins[index]);
    config->origins[index] = copy;
    return 0;
}

sd_config *sd_config_new(void)
{
    sd_config *config = calloc(1, sizeof(*config));
    if (!config)
        return NULL;
    config->origins = calloc(N_KEYS, sizeof(char *));
    if (!config->origins) {
        free(config);
        return NULL;
    }
    char err[256];
    for (size_t i = 0; i < N_KEYS; i++) {
        if (config_keys[i].default_value &&
            set_typed(config, &config_keys[i], config_keys[i].default_value, "default", err,
                      sizeof(err)) != 0) {
            /* Only a broken table or exhausted memory gets here. */
            sd_config_free(config);
            return NULL;
        }
    }
    return config;
}

void sd_config_free(sd_config *config)
{
    if (!config)
        return;
    for (size_t i = 0; i < N_KEYS; i++) {
        if (config_keys[i].type == SD_CFG_STRING)
            free(*(char **)((char *)config + config_keys[i].offset));
        if (config->origins)
            free(config->origins[i]);
    }
    free(config->origins);
    free(config->path);
    kv_list_clear(&config->kafka);
    kv_list_clear(&config->postgres);
    kv_list_clear(&config->overrides);
    free(config);
}

int sd_config_set(sd_config *config, const char *dotted_key, const char *value, const char *origin,
                  char *err, size_t errlen)
{
    const char *dot = strchr(dotted_key, '.');
    if (!dot || dot == dotted_key) {
        snprintf(err, errlen, "%s: '%s' is not of the form section.key", origin, dotted_key);
        return -1;
    }
    char section[64];
    size_t section_len = (size_t)(dot - dotted_key);
    if (section_len >= sizeof(section)) {
        snprintf(err, errlen, "%s: section of '%s' is too long", origin, dotted_key);
        return -1;
    }
    memcpy(section, dotted_key, section_len);
    section[section_len] = '\0';
    return set_in_section(config, section, dot + 1, value, origin, origin, err, errlen);
}

int sd_config_override(sd_config *config, const char *dotted_key, const char *value, char *err,
                       size_t errlen)
{
    char origin[300];
    snprintf(origin, sizeof(origin), "-o %s", dotted_key);
    if (sd_config_set(config, dotted_key, value, origin, err, errlen) != 0)
        return -1;
    if (kv_list_set(&config->overrides, dotted_key, value, origin, false) != 0) {
        snprintf(err, errlen, "%s: out of memory", origin);
        return -1;
    }
    return 0;
}

sd_config *sd_config_reread(const sd_config *running, char *err, size_t errlen)
{
    sd_config *fresh = sd_config_new();
    if (!fresh) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (running->path && sd_config_load_file(fresh, running->path, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < running->overrides.count; i++)
        if (sd_config_override(fresh, running->overrides.keys[i], running->overrides.values[i], err,
                               errlen) != 0)
            goto fail;
    char inner[4600];
    if (sd_config_validate(fresh, true, inner, sizeof(inner)) != 0) {
        bool located = running->path && strncmp(inner, running->path, strlen(running->path)) == 0;
        snprintf(err, errlen, "%s%s%s", running->path && !located ? running->path : "",
                 running->path && !located ? ": " : "", inner);
        goto fail;
    }
    return fresh;
fail:
    sd_config_free(fresh);
    return NULL;
}

typedef struct ini_context {
    sd_config *config;
    const char *origin;
} ini_context;

static int on_ini_key(void *user, int line, const char *section, const char *key, const char *value,
                      char *err, size_t errlen)
{
    ini_context *ctx = user;
    if (section[0] == '\0') {
        snprintf(err, errlen, "key '%s' outside of any [section]", key);
        return -1;
    }
    char record[4200];
    snprintf(record, sizeof(record), "%s:%d", ctx->origin, line);
    char inner[4600];
    if (set_in_section(ctx->config, section, key, value, "", record, inner, sizeof(inner)) != 0) {
        /* Drop the empty origin's ": " prefix; the caller adds path and line. */
        snprintf(err, errlen, "%s", inner[0] == ':' ? inner + 2 : inner);
        return -1;
    }
    return 0;
}

int sd_config_load_text(sd_config *config, const char *text, size_t len, const char *origin,
                        char *err, size_t errlen)
{
    char detail[4800];
    ini_context ctx = {.config = config, .origin = origin};
    int line = sd_ini_parse(text, len, on_ini_key, &ctx, detail, sizeof(detail));
    if (line != 0) {
        snprintf(err, errlen, "%s:%d: %s", origin, line, detail);
        return -1;
    }
    return 0;
}

/* A configuration file larger than this is a mistake, not a configuration. */
#define MAX_CONFIG_BYTES (1024 * 1024)

int sd_config_load_file(sd_config *config, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = sd_file_read(path, MAX_CONFIG_BYTES, &len, err, errlen);
    if (!text)
        return -1;
    int rc = sd_config_load_text(config, text, len, path, err, errlen);
    free(text);
    if (rc != 0)
        return -1;
    char *copy = strdup(path);
    if (!copy) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    free(config->path);
    config->path = copy;
    return 0;
}

/* 0 when value is one of choices (NULL-terminated), else -1 with err naming key and choices. */
static int check_choice(const char *key, const char *value, const char *const *choices, char *err,
                        size_t errlen)
{
    for (size_t i = 0; choices[i]; i++)
        if (value && strcmp(value, choices[i]) == 0)
            return 0;
    int used = snprintf(err, errlen, "%s: '%s' is not one of ", key, value ? value : "");
    for (size_t i = 0; choices[i] && used >= 0 && (size_t)used < errlen; i++)
        used += snprintf(err + used, errlen - (size_t)used, "%s%s", i ? ", " : "", choices[i]);
    return -1;
}

/* "FILE:LINE: " (or "-o KEY: ") for a key that was set, "" for a default; for error messages. */
static const char *where(const char *origin, char *buf, size_t size)
{
    if (!origin)
        return "";
    snprintf(buf, size, "%s: ", origin);
    return buf;
}

static const char *kv_origin(const sd_kv_list *list, const char *key)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->keys[i], key) == 0)
            return list->origins[i];
    return NULL;
}

static const char *key_origin(const sd_config *config, const char *section, const char *name)
{
    const sd_config_key *key = find_key(section, name);
    return key ? config->origins[key - config_keys] : NULL;
}

/* check_choice for a table key, its error prefixed with where the value came from. */
static int check_key_choice(const sd_config *config, const char *section, const char *name,
                            const char *value, const char *const *choices, char *err, size_t errlen)
{
    char dotted[128], inner[512], at[4300];
    snprintf(dotted, sizeof(dotted), "%s.%s", section, name);
    if (check_choice(dotted, value, choices, inner, sizeof(inner)) == 0)
        return 0;
    snprintf(err, errlen, "%s%s", where(key_origin(config, section, name), at, sizeof(at)), inner);
    return -1;
}

int sd_config_validate(const sd_config *config, bool needs_kafka, char *err, size_t errlen)
{
    char at[4300];
    static const char *const owned_kafka_keys[][2] = {
        {"group.id", "set storyd.consumer_group instead"},
        {"enable.auto.commit", "storyd stores offsets in PostgreSQL with the rows"},
        {"enable.auto.offset.store", "storyd stores offsets in PostgreSQL with the rows"},
        {"enable.partition.eof", "storyd manages it"},
    };
    for (size_t i = 0; i < sizeof(owned_kafka_keys) / sizeof(owned_kafka_keys[0]); i++) {
        if (sd_kv_get(&config->kafka, owned_kafka_keys[i][0])) {
            snprintf(err, errlen, "%skafka.%s may not be set: %s",
                     where(kv_origin(&config->kafka, owned_kafka_keys[i][0]), at, sizeof(at)),
                     owned_kafka_keys[i][0], owned_kafka_keys[i][1]);
            return -1;
        }
    }
    /* Keys storyd reads itself, limited to the values its guarantees hold for. */
    const char *isolation = sd_kv_get(&config->kafka, "isolation.level");
    if (isolation && strcmp(isolation, "read_committed") != 0) {
        snprintf(err, errlen,
                 "%skafka.isolation.level = %s: storyd reads read_committed only, or it would "
                 "store events a transactional producer aborted",
                 where(kv_origin(&config->kafka, "isolation.level"), at, sizeof(at)), isolation);
        return -1;
    }
    static const char *const starts[] = {"earliest", "smallest", "beginning", "latest",
                                         "largest",  "end",      NULL};
    const char *reset = sd_kv_get(&config->kafka, "auto.offset.reset");
    char inner[512];
    if (reset && check_choice("kafka.auto.offset.reset (where a partition without a stored offset "
                              "starts; a lost offset is storyd.offset_out_of_range)",
                              reset, starts, inner, sizeof(inner)) != 0) {
        snprintf(err, errlen, "%s%s",
                 where(kv_origin(&config->kafka, "auto.offset.reset"), at, sizeof(at)), inner);
        return -1;
    }
    if (needs_kafka && !sd_kv_get(&config->kafka, "bootstrap.servers")) {
        snprintf(err, errlen, "kafka.bootstrap.servers is required");
        return -1;
    }
    if (!config->input_topic || !config->input_topic[0]) {
        snprintf(err, errlen, "storyd.input_topic is required");
        return -1;
    }
    if (!config->dead_letter_topic || !config->dead_letter_topic[0]) {
        snprintf(err, errlen, "storyd.dead_letter_topic is required: bad input must not vanish");
        return -1;
    }
    if (!config->consumer_group || !config->consumer_group[0]) {
        snprintf(err, errlen, "storyd.consumer_group is required");
        return -1;
    }
    if (config->dedup_bands * config->dedup_rows > 64) {
        snprintf(err, errlen,
                 "%sdedup.bands x dedup.rows = %ld x %ld: at most 64 (the hashes of "
                 "one MinHash signature)",
                 where(key_origin(config, "dedup", "rows"), at, sizeof(at)), config->dedup_bands,
                 config->dedup_rows);
        return -1;
    }
    static const char *const crash_points[] = {"before_commit", "after_commit_sent", "after_commit",
                                               NULL};
    static const char *const formats[] = {"auto", "protobuf", "confluent", "json", NULL};
    static const char *const methods[] = {"copy", "statements", NULL};
    static const char *const resets[] = {"fail", "earliest", "latest", NULL};
    static const char *const log_formats[] = {"text", "json", NULL};
    if ((config->test_crash_point &&
         check_key_choice(config, "test", "crash_point", config->test_crash_point, crash_points,
                          err, errlen)) ||
        check_key_choice(config, "storyd", "input_format", config->input_format, formats, err,
                         errlen) ||
        check_key_choice(config, "batch", "write_method", config->write_method, methods, err,
                         errlen) ||
        check_key_choice(config, "storyd", "offset_out_of_range", config->offset_out_of_range,
                         resets, err, errlen) ||
        check_key_choice(config, "storyd", "log_format", config->log_format, log_formats, err,
                         errlen))
        return -1;
    return 0;
}

/* Keys that only a group consumer takes; a producer would warn about each of them. */
static const char *const consumer_only_keys[] = {
    "group.instance.id",
    "auto.offset.reset",
    "partition.assignment.strategy",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "fetch.min.bytes",
    "fetch.wait.max.ms",
    "fetch.max.bytes",
    "queued.min.messages",
    "queued.max.messages.kbytes",
    "isolation.level",
    "group.protocol.type",
    "coordinator.query.interval.ms",
    "check.crcs",
};

bool sd_config_kafka_consumer_only(const char *key)
{
    for (size_t i = 0; i < sizeof(consumer_only_keys) / sizeof(consumer_only_keys[0]); i++) {
        if (strcmp(key, consumer_only_keys[i]) == 0)
            return true;
    }
    return false;
}
