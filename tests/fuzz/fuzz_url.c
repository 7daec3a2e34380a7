/*
 * libFuzzer target for src/core/url.c. The input is split at its first NUL
 * into a base url and a reference; both are canonicalized, the reference is
 * resolved against the base, and the host is read. Besides what the
 * sanitizers catch, it checks what callers rely on: a canonical url is
 * ASCII-clean apart from a UTF-8 host, starts with "https://", has no
 * fragment, and canonicalizing it again changes nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/url.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const cu_site_rule site_rules[] = {
    {.host = "dspdaily.com", .path = "/news/view.php", .keep_param = "no"},
};
static const char *const tracking[] = {"sid", "ga_*"};
static const cu_rules rules = {
    .site_rules = site_rules,
    .n_site_rules = 1,
    .tracking_params = tracking,
    .n_tracking_params = 2,
};

static void check_canonical(const char *url)
{
    char err[128];
    char *canonical = cu_canonical(url, &rules, err, sizeof(err));
    if (!canonical)
        return;
    size_t len = strlen(canonical), bad;
    if (strncmp(canonical, "https://", 8) != 0 || strchr(canonical, '#') ||
        !sd_utf8_valid(canonical, len, &bad))
        __builtin_trap();
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)canonical[i] <= ' ' || canonical[i] == 0x7f)
            __builtin_trap();
    }
    char *again = cu_canonical(canonical, &rules, err, sizeof(err));
    if (!again || strcmp(again, canonical) != 0)
        __builtin_trap();
    free(again);
    free(canonical);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 2);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    text[size + 1] = '\0';
    const char *base = text;
    const char *ref = text + strlen(text) + 1; /* "" when there was no NUL */

    check_canonical(base);
    check_canonical(ref);
    char *resolved = cu_resolve(base, ref);
    if (resolved) {
        check_canonical(resolved);
        free(resolved);
    }
    free(cu_resolve(NULL, ref));
    char host[64];
    if (cu_host(base, host, sizeof(host)) == 0 && strlen(host) >= sizeof(host))
        __builtin_trap();
    free(text);
    return 0;
}
