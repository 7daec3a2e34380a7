#include "common/config.h"

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
    KEY("storyd", "consumer_group", SD_CFG_STRING, "storyd", consumer_group, 0, 0, false,
        "Kafka consumer group; also the key of the offsets stored in PostgreSQL."),
    KEY("storyd", "profile_dir", SD_CFG_STRING, NULL, profile_dir, 0, 0, true,
        "Folder of site profiles (*.ini); unset: the installed ones (or the source tree's)."),
    KEY("storyd", "log_level", SD_CFG_LOG_LEVEL, "info", log_level, 0, 0, true,
        "One of error, warning, notice, info, debug."),
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
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static const char *const passthrough_sections[] = {"kafka", "postgres"};

static const char *const type_names[] = {
    [SD_CFG_STRING] = "string",
    [SD_CFG_INT] = "integer",
    [SD_CFG_BOOL] = "boolean",
    [SD_CFG_LOG_LEVEL] = "level",
};

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
        free(list->values[i]);
    }
    free(list->keys);
    free(list->values);
    memset(list, 0, sizeof(*list));
}

/* Sets key to value, replacing an earlier value of the same key in place. */
static int kv_list_set(sd_kv_list *list, const char *key, const char *value)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->keys[i], key) == 0) {
            char *copy = strdup(value);
            if (!copy)
                return -1;
            free(list->values[i]);
            list->values[i] = copy;
            return 0;
        }
    }
    char **keys = realloc(list->keys, (list->count + 1) * sizeof(char *));
    if (!keys)
        return -1;
    list->keys = keys;
    char **values = realloc(list->values, (list->count + 1) * sizeof(char *));
    if (!values)
        return -1;
    list->values = values;
    list->keys[list->count] = strdup(key);
    list->values[list->count] = strdup(value);
    if (!list->keys[list->count] || !list->values[list->count]) {
        free(list->keys[list->count]);
        free(list->values[list->count]);
        return -1;
    }
    list->count++;
    return 0;
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
    case SD_CFG_INT: {
        char *end;
        errno = 0;
        long number = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0') {
            snprintf(err, errlen, "%s: %s.%s: '%s' is not an integer", origin, key->section,
                     key->name, value);
            return -1;
        }
        if (number < key->min || number > key->max) {
            snprintf(err, errlen, "%s: %s.%s: %ld is outside [%ld, %ld]", origin, key->section,
                     key->name, number, key->min, key->max);
            return -1;
        }
        *(long *)field = number;
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

/* Sets section/name to value: a table key or a passthrough key. */
static int set_in_section(sd_config *config, const char *section, const char *name,
                          const char *value, const char *origin, char *err, size_t errlen)
{
    sd_kv_list *list = passthrough_list(config, section);
    if (list) {
        if (name[0] == '\0') {
            snprintf(err, errlen, "%s: empty key in [%s]", origin, section);
            return -1;
        }
        if (kv_list_set(list, name, value) != 0) {
            snprintf(err, errlen, "%s: out of memory", origin);
            return -1;
        }
        return 0;
    }
    const sd_config_key *key = find_key(section, name);
    if (!key) {
        snprintf(err, errlen, "%s: unknown key '%s' in [%s]", origin, name, section);
        return -1;
    }
    return set_typed(config, key, value, origin, err, errlen);
}

sd_config *sd_config_new(void)
{
    sd_config *config = calloc(1, sizeof(*config));
    if (!config)
        return NULL;
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
    }
    kv_list_clear(&config->kafka);
    kv_list_clear(&config->postgres);
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
    return set_in_section(config, section, dot + 1, value, origin, err, errlen);
}

static int on_ini_key(void *user, const char *section, const char *key, const char *value,
                      char *err, size_t errlen)
{
    sd_config *config = user;
    if (section[0] == '\0') {
        snprintf(err, errlen, "key '%s' outside of any [section]", key);
        return -1;
    }
    char inner[512];
    if (set_in_section(config, section, key, value, "", inner, sizeof(inner)) != 0) {
        /* Drop the empty origin's ": " prefix; the caller adds path and line. */
        snprintf(err, errlen, "%s", inner[0] == ':' ? inner + 2 : inner);
        return -1;
    }
    return 0;
}

/* A configuration file larger than this is a mistake, not a configuration. */
#define MAX_CONFIG_BYTES (1024 * 1024)

int sd_config_load_file(sd_config *config, const char *path, char *err, size_t errlen)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(MAX_CONFIG_BYTES + 1);
    size_t len = text ? fread(text, 1, MAX_CONFIG_BYTES + 1, file) : 0;
    bool read_error = !text || ferror(file);
    fclose(file);
    if (read_error) {
        snprintf(err, errlen, "%s: cannot read the file", path);
        free(text);
        return -1;
    }
    if (len > MAX_CONFIG_BYTES) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, MAX_CONFIG_BYTES);
        free(text);
        return -1;
    }
    char detail[512];
    int line = sd_ini_parse(text, len, on_ini_key, config, detail, sizeof(detail));
    free(text);
    if (line != 0) {
        snprintf(err, errlen, "%s:%d: %s", path, line, detail);
        return -1;
    }
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

int sd_config_validate(const sd_config *config, bool needs_kafka, char *err, size_t errlen)
{
    static const char *const owned_kafka_keys[][2] = {
        {"group.id", "set storyd.consumer_group instead"},
        {"enable.auto.commit", "storyd stores offsets in PostgreSQL with the rows"},
        {"enable.auto.offset.store", "storyd stores offsets in PostgreSQL with the rows"},
        {"enable.partition.eof", "storyd manages it"},
    };
    for (size_t i = 0; i < sizeof(owned_kafka_keys) / sizeof(owned_kafka_keys[0]); i++) {
        if (sd_kv_get(&config->kafka, owned_kafka_keys[i][0])) {
            snprintf(err, errlen, "kafka.%s may not be set: %s", owned_kafka_keys[i][0],
                     owned_kafka_keys[i][1]);
            return -1;
        }
    }
    /* Keys storyd reads itself, limited to the values its guarantees hold for. */
    const char *isolation = sd_kv_get(&config->kafka, "isolation.level");
    if (isolation && strcmp(isolation, "read_committed") != 0) {
        snprintf(err, errlen,
                 "kafka.isolation.level = %s: storyd reads read_committed only, or it would store "
                 "events a transactional producer aborted",
                 isolation);
        return -1;
    }
    static const char *const starts[] = {"earliest", "smallest", "beginning", "latest",
                                         "largest",  "end",      NULL};
    const char *reset = sd_kv_get(&config->kafka, "auto.offset.reset");
    if (reset && check_choice("kafka.auto.offset.reset (where a partition without a stored offset "
                              "starts; a lost offset is storyd.offset_out_of_range)",
                              reset, starts, err, errlen) != 0)
        return -1;
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
    static const char *const crash_points[] = {"before_commit", "after_commit_sent", "after_commit",
                                               NULL};
    static const char *const formats[] = {"auto", "protobuf", "confluent", "json", NULL};
    static const char *const methods[] = {"copy", "statements", NULL};
    static const char *const resets[] = {"fail", "earliest", "latest", NULL};
    if ((config->test_crash_point &&
         check_choice("test.crash_point", config->test_crash_point, crash_points, err, errlen)) ||
        check_choice("storyd.input_format", config->input_format, formats, err, errlen) ||
        check_choice("batch.write_method", config->write_method, methods, err, errlen) ||
        check_choice("storyd.offset_out_of_range", config->offset_out_of_range, resets, err,
                     errlen))
        return -1;
    return 0;
}

void sd_config_print_help(FILE *out)
{
    fprintf(out, "Configuration keys (INI sections; -o section.key=value overrides):\n");
    for (size_t i = 0; i < N_KEYS; i++) {
        const sd_config_key *key = &config_keys[i];
        fprintf(out, "  %s.%s (%s, default %s%s)\n      %s\n", key->section, key->name,
                type_names[key->type], key->default_value ? key->default_value : "unset",
                key->reloadable ? ", reloadable" : "", key->help);
    }
    for (size_t i = 0; i < sizeof(passthrough_sections) / sizeof(passthrough_sections[0]); i++) {
        fprintf(out, "  %s.* (passed through to %s as is)\n", passthrough_sections[i],
                strcmp(passthrough_sections[i], "kafka") == 0 ? "librdkafka" : "libpq");
    }
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
