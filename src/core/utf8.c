#include "core/utf8.h"

#include <utf8proc.h>

bool sd_utf8_valid(const char *text, size_t len, size_t *bad_offset)
{
    size_t at = 0;
    while (at < len) {
        utf8proc_int32_t codepoint;
        utf8proc_ssize_t step = utf8proc_iterate((const utf8proc_uint8_t *)text + at,
                                                 (utf8proc_ssize_t)(len - at), &codepoint);
        /* utf8proc rejects overlong forms, surrogates and truncated sequences; NUL we reject. */
        if (step <= 0 || codepoint == 0) {
            *bad_offset = at;
            return false;
        }
        at += (size_t)step;
    }
    return true;
}
