/*
 * The configuration shown and compared: the effective values with their origins (secrets
 * redacted), the sample file and the key help generated from the key table, and the SIGHUP
 * reload that applies what may change while running.
 */
#include "common/config.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
    [SD_CFG_STRING] = "string", [SD_CFG_INT] = "integer",     [SD_CFG_DOUBLE] = "number",
    [SD_CFG_BOOL] = "boolean",  [SD_CFG_LOG_LEVEL] = "level",
};

static const char *const level_names[] = {
    [SD_LOG_ERROR] = "error", [SD_LOG_WARNING] = "warning", [SD_LOG_NOTICE] = "notice",
    [SD_LOG_INFO] = "info",   [SD_LOG_DEBUG] = "debug",
};

#define REDACTED "<redacted>"

bool sd_config_is_secret(const sd_kv_list *list, size_t index)
{
    if (list->secret[index])
        return true;
    const char *key = list->keys[index];
    const char *value = list->values[index];
    /* librdkafka's and libpq's secrets: sasl.password, ssl.key.password, sslpassword, password,
     * sasl.oauthbearer.client.secret, ssl.key.pem; a connection URI may carry a password. */
    return strstr(key, "password") || strstr(key, "secret") || strcmp(key, "ssl.key.pem") == 0 ||
           strcmp(key, "sasl.oauthbearer.config") == 0 ||
           ((strcmp(key, "dbname") == 0 || strcmp(key, "service") == 0) &&
            (strstr(value, "password") || strchr(value, '@')));
}

void sd_config_format_value(const sd_config *config, const sd_config_key *key, char *buf,
                            size_t size)
{
    const void *field = (const char *)config + key->offset;
    switch (key->type) {
    case SD_CFG_STRING: {
        const char *value = *(char *const *)field;
        snprintf(buf, size, "%s", value ? value : "");
        return;
    }
    case SD_CFG_INT:
        snprintf(buf, size, "%ld", *(const long *)field);
        return;
    case SD_CFG_DOUBLE:
        snprintf(buf, size, "%.15g", *(const double *)field);
        return;
    case SD_CFG_BOOL:
        snprintf(buf, size, "%s", *(const bool *)field ? "true" : "false");
        return;
    case SD_CFG_LOG_LEVEL:
        snprintf(buf, size, "%s", level_names[*(const sd_log_level *)field]);
        return;
    }
    snprintf(buf, size, "?");
}

/* One "key = value" line, its origin as a comment aligned after it. */
static void print_line(FILE *out, const char *key, const char *value, const char *origin)
{
    int width = fprintf(out, "%s = %s", key, value);
    fprintf(out, "%*s; %s\n", width < 48 ? 48 - width : 1, "", origin);
}

static void print_section(FILE *out, const char *section, const sd_kv_list *list)
{
    fprintf(out, "\n[%s]\n", section);
    for (size_t i = 0; i < list->count; i++)
        print_line(out, list->keys[i], sd_config_is_secret(list, i) ? REDACTED : list->values[i],
                   list->origins[i]);
}

void sd_config_print_effective(const sd_config *config, FILE *out)
{
    size_t count;
    const sd_config_key *keys = sd_config_keys(&count);
    fprintf(out, "; effective configuration%s%s; secrets redacted\n", config->path ? " from " : "",
            config->path ? config->path : "");
    const char *section = NULL;
    for (size_t i = 0; i < count; i++) {
        /* The table groups keys by meaning; print them grouped by section as a file would. */
        if (section && strcmp(section, keys[i].section) == 0)
            continue;
        section = keys[i].section;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(keys[j].section, section) == 0;
        if (seen)
            continue;
        fprintf(out, "\n[%s]\n", section);
        for (size_t j = i; j < count; j++) {
            if (strcmp(keys[j].section, section) != 0)
                continue;
            char value[1024];
            sd_config_format_value(config, &keys[j], value, sizeof(value));
            print_line(out, keys[j].name, value,
                       config->origins[j]      ? config->origins[j]
                       : keys[j].default_value ? "default"
                                               : "unset");
        }
    }
    print_section(out, "kafka", &config->kafka);
    print_section(out, "postgres", &config->postgres);
}

/* Writes text as "; "-comment lines of at most 78 columns. */
static void print_comment(FILE *out, const char *text)
{
    const char *p = text;
    while (*p) {
        size_t take = strlen(p);
        if (take > 74) {
            take = 74;
            while (take > 20 && p[take] != ' ')
                take--;
        }
        fprintf(out, "; %.*s\n", (int)take, p);
        p += take;
        while (*p == ' ')
            p++;
    }
}

void sd_config_print_sample(FILE *out)
{
    size_t count;
    const sd_config_key *keys = sd_config_keys(&count);
    fprintf(out, "; storyd configuration (generated from storyd's key table by\n"
                 "; `storyd help --sample-config`). Every key is shown at its default,\n"
                 "; commented out. Keys marked \"reloadable\" take effect on SIGHUP\n"
                 "; (systemctl reload storyd); the others need a restart.\n");
    for (size_t i = 0; i < count; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(keys[j].section, keys[i].section) == 0;
        if (seen)
            continue;
        /* The test section is for fault injection in storyd's own tests. */
        if (strcmp(keys[i].section, "test") == 0)
            continue;
        fprintf(out, "\n[%s]\n", keys[i].section);
        for (size_t j = i; j < count; j++) {
            if (strcmp(keys[j].section, keys[i].section) != 0)
                continue;
            fprintf(out, "\n");
            print_comment(out, keys[j].help);
            fprintf(out, "; (%s%s)\n", type_names[keys[j].type],
                    keys[j].reloadable ? ", reloadable" : "");
            fprintf(out, ";%s = %s\n", keys[j].name,
                    keys[j].default_value ? keys[j].default_value : "");
        }
    }
    fprintf(out, "\n[kafka]\n"
                 "; Passed to librdkafka as is (see its CONFIGURATION.md). storyd owns group.id,\n"
                 "; enable.auto.commit, enable.auto.offset.store and enable.partition.eof, and\n"
                 "; refuses isolation.level other than read_committed. KEY_file = PATH (or\n"
                 "; credential:NAME for systemd's LoadCredential=) reads KEY from a file.\n"
                 "bootstrap.servers = 127.0.0.1:9092\n"
                 ";sasl.password_file = credential:kafka-password\n"
                 "\n[postgres]\n"
                 "; libpq connection keywords, passed as is. password_file = PATH (or\n"
                 "; credential:NAME) reads the password from a file; it is never logged.\n"
                 "host = 127.0.0.1\n"
                 "port = 5432\n"
                 "dbname = storyd\n"
                 "user = storyd\n"
                 ";password_file = credential:pg-password\n");
}

void sd_config_print_help(FILE *out)
{
    size_t count;
    const sd_config_key *keys = sd_config_keys(&count);
    fprintf(out, "Configuration keys (INI sections; -o section.key=value overrides):\n");
    for (size_t i = 0; i < count; i++) {
        if (strcmp(keys[i].section, "test") == 0)
            continue;
        fprintf(out, "  %s.%s (%s, default %s%s)\n      %s\n", keys[i].section, keys[i].name,
                type_names[keys[i].type], keys[i].default_value ? keys[i].default_value : "unset",
                keys[i].reloadable ? ", reloadable" : "", keys[i].help);
    }
    fprintf(out,
            "  kafka.* (passed through to librdkafka as is; KEY_file reads KEY from a file)\n"
            "  postgres.* (passed through to libpq as is; password_file reads the password)\n");
}

/* Whether two passthrough lists hold the same pairs in the same order. */
static bool same_list(const sd_kv_list *a, const sd_kv_list *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (strcmp(a->keys[i], b->keys[i]) != 0 || strcmp(a->values[i], b->values[i]) != 0)
            return false;
    return true;
}

int sd_config_reload(sd_config *live, const sd_config *fresh, sd_config_change_cb on_change,
                     void *user)
{
    size_t count;
    const sd_config_key *keys = sd_config_keys(&count);
    int applied = 0;
    for (size_t i = 0; i < count; i++) {
        char running[1024], next[1024], dotted[128];
        sd_config_format_value(live, &keys[i], running, sizeof(running));
        sd_config_format_value(fresh, &keys[i], next, sizeof(next));
        if (strcmp(running, next) == 0)
            continue;
        snprintf(dotted, sizeof(dotted), "%s.%s", keys[i].section, keys[i].name);
        if (keys[i].reloadable) {
            char *field = (char *)live + keys[i].offset;
            const char *from = (const char *)fresh + keys[i].offset;
            if (keys[i].type == SD_CFG_STRING) {
                const char *value = *(char *const *)from;
                char *copy = value ? strdup(value) : NULL;
                if (value && !copy)
                    return -1;
                free(*(char **)field);
                *(char **)field = copy;
            } else if (keys[i].type == SD_CFG_INT) {
                *(long *)field = *(const long *)from;
            } else if (keys[i].type == SD_CFG_DOUBLE) {
                *(double *)field = *(const double *)from;
            } else if (keys[i].type == SD_CFG_BOOL) {
                *(bool *)field = *(const bool *)from;
            } else {
                *(sd_log_level *)field = *(const sd_log_level *)from;
            }
            applied++;
        }
        on_change(user, dotted, running, next, keys[i].reloadable);
    }
    if (!same_list(&live->kafka, &fresh->kafka))
        on_change(user, "kafka.*", "(running)", "(changed)", false);
    if (!same_list(&live->postgres, &fresh->postgres))
        on_change(user, "postgres.*", "(running)", "(changed)", false);
    return applied;
}
