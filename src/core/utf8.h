/* UTF-8 validation for text that reaches PostgreSQL (which rejects invalid UTF-8). Pure. */
#ifndef SD_CORE_UTF8_H
#define SD_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Returns true when text[0..len) is valid UTF-8 without NUL characters.
 * Otherwise stores the byte offset of the first bad sequence in *bad_offset.
 */
bool sd_utf8_valid(const char *text, size_t len, size_t *bad_offset);

#endif
