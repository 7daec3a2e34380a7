/*
 * A strict INI reader for storyd's configuration file. Pure: parses text held
 * in memory.
 *
 * Written here instead of using inih because Debian's inih cuts lines at 200
 * bytes (a long bootstrap.servers list was silently split into bogus keys)
 * and treats an indented line as the continuation of the previous value.
 * Rules: "[section]" lines; "key = value" lines (both trimmed; the value is
 * everything after the first '=', so it may hold '=', ':', ';' or '#');
 * lines whose first non-blank character is ';' or '#' are comments; no
 * continuation lines, no length limit.
 */
#ifndef SD_COMMON_INI_H
#define SD_COMMON_INI_H

#include <stddef.h>

/*
 * Called per key with its 1-based line; section is "" before the first header. Strings are borrowed
 * for the call. Returns 0 to go on, or -1 after writing a message to err.
 */
typedef int (*sd_ini_key_cb)(void *user, int line, const char *section, const char *key,
                             const char *value, char *err, size_t errlen);

/*
 * Parses len bytes. Returns 0, or the 1-based line number of the first error
 * with its message in err (a syntax error, or the callback's message).
 */
int sd_ini_parse(const char *text, size_t len, sd_ini_key_cb on_key, void *user, char *err,
                 size_t errlen) __attribute__((warn_unused_result));

#endif
