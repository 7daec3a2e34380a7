#include "common/ini.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Trims [*start, *end) in place. */
static void trim(const char **start, const char **end)
{
    while (*start < *end && is_blank(**start))
        (*start)++;
    while (*end > *start && is_blank((*end)[-1]))
        (*end)--;
}

static char *copy_range(const char *start, const char *end)
{
    size_t len = (size_t)(end - start);
    char *out = malloc(len + 1);
    if (out) {
        memcpy(out, start, len);
        out[len] = '\0';
    }
    return out;
}

int sd_ini_parse(const char *text, size_t len, sd_ini_key_cb on_key, void *user, char *err,
                 size_t errlen)
{
    char *section = calloc(1, 1);
    if (!section) {
        snprintf(err, errlen, "out of memory");
        return 1;
    }
    const char *cursor = text;
    const char *limit = text + len;
    int line = 0;
    int failed_at = 0;
    while (cursor < limit && !failed_at) {
        line++;
        const char *eol = memchr(cursor, '\n', (size_t)(limit - cursor));
        const char *start = cursor;
        const char *end = eol ? eol : limit;
        cursor = eol ? eol + 1 : limit;
        if (memchr(start, '\0', (size_t)(end - start))) {
            snprintf(err, errlen, "NUL byte in the line");
            failed_at = line;
            break;
        }
        trim(&start, &end);
        if (start == end || *start == ';' || *start == '#')
            continue;
        if (*start == '[') {
            if (end[-1] != ']' || end - start < 3) {
                snprintf(err, errlen, "malformed section header (expected [name])");
                failed_at = line;
                break;
            }
            const char *name = start + 1;
            const char *name_end = end - 1;
            trim(&name, &name_end);
            char *next = copy_range(name, name_end);
            if (!next || !*next) {
                snprintf(err, errlen, next ? "empty section name" : "out of memory");
                free(next);
                failed_at = line;
                break;
            }
            free(section);
            section = next;
            continue;
        }
        const char *eq = memchr(start, '=', (size_t)(end - start));
        if (!eq) {
            snprintf(err, errlen, "expected 'key = value', a [section] or a comment");
            failed_at = line;
            break;
        }
        const char *key_start = start, *key_end = eq;
        const char *value_start = eq + 1, *value_end = end;
        trim(&key_start, &key_end);
        trim(&value_start, &value_end);
        if (key_start == key_end) {
            snprintf(err, errlen, "empty key before '='");
            failed_at = line;
            break;
        }
        char *key = copy_range(key_start, key_end);
        char *value = copy_range(value_start, value_end);
        if (!key || !value) {
            snprintf(err, errlen, "out of memory");
            failed_at = line;
        } else if (on_key(user, line, section, key, value, err, errlen) != 0) {
            failed_at = line;
        }
        free(key);
        free(value);
    }
    free(section);
    return failed_at;
}
