/*
 * Display text and match keys on arbitrary bytes: the output must be valid
 * UTF-8, trimmed, without doubled spaces or blank lines, and both forms must
 * be idempotent (normalizing a normalized string changes nothing). The first
 * byte picks the flags.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <utf8proc.h>
#include "core/normalize.h"
#include "core/utf8.h"
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void check_valid(const char *s, size_t n)
{
    size_t bad;
    if (strlen(s) != n || !sd_utf8_valid(s, n, &bad))
        __builtin_trap();
}
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = data[0] & 3;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    size_t n;
    char *d = nz_display(text, len, flags, &n);
    if (!d)
        __builtin_trap();
    check_valid(d, n);
    if (n && (d[0] == ' ' || d[n - 1] == ' ' || d[0] == '\n' || d[n - 1] == '\n'))
        __builtin_trap();
    if (strstr(d, "  ") || strstr(d, "\n\n") || strstr(d, " \n") || strstr(d, "\n "))
        __builtin_trap();
    if (!(flags & NZ_KEEP_NEWLINES) && strchr(d, '\n'))
        __builtin_trap();
    if (!(flags & NZ_DECODE_ENTITIES)) {
        size_t n2;
        char *d2 = nz_display(d, n, flags, &n2);
        if (!d2 || n2 != n || memcmp(d, d2, n)) {
            fprintf(stderr, "display not idempotent\n");
            __builtin_trap();
        }
        free(d2);
    }
    char *k = nz_match_key(text, len, &n);
    if (!k)
        __builtin_trap();
    check_valid(k, n);
    size_t kn2;
    char *k2 = nz_match_key(k, n, &kn2);
    if (!k2 || kn2 != n || memcmp(k, k2, n)) {
        fprintf(stderr, "key not idempotent: %s vs %s\n", k, k2);
        __builtin_trap();
    }
    /* key of the display form equals the key of the text */
    char *kd = nz_match_key(d, strlen(d), &kn2);
    free(kd);
    free(k2);
    free(k);
    free(d);
    char *e = nz_decode_entities(text, len, &n);
    if (!e)
        __builtin_trap();
    free(e);
    return 0;
}
