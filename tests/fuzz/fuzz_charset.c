/*
 * libFuzzer target for src/core/charset.c. The first byte chooses the label
 * and the options, the rest is the body. Besides what the sanitizers catch,
 * it checks the contract: the text is valid UTF-8 without NUL, its length is
 * right, it respects the cap, and a body already valid UTF-8 labelled utf-8
 * comes out unchanged.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/charset.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const labels[16] = {
    NULL,     "utf-8",  "euc-kr",      "cp949",         "windows-1252", "iso-8859-1",
    "koi8-r", "utf-16", "iso-2022-kr", "shift_jis",     "gb18030",      "x-bogus",
    "big5",   "euc-jp", "utf-7",       "utf-8//IGNORE",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t options = data[0];
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    bool is_html = options & 0x10;
    size_t cap = (options & 0x20) ? 64 + (size_t)(options & 0x0f) * 97 : 0;
    const char *label = labels[options & 0x0f];

    /*
     * Bit 7 adds a content type whose quoted charset never ends; bit 6 uses what is declared as
     * the label, the way the pipeline does.
     */
    char declared[32];
    if (cs_declared((options & 0x80) ? "text/html; charset=\"x" : NULL, body, len, is_html,
                    declared, sizeof(declared))) {
        size_t n = strlen(declared);
        if (n == 0 || n >= sizeof(declared))
            __builtin_trap();
        if (options & 0x40)
            label = declared;
    }

    cs_result result;
    char err[128];
    if (cs_to_utf8(body, len, label, cap, &result, err, sizeof(err)) != 0) {
        /* Only the cap may refuse a body (memory aside, which a fuzzer does not run out of). */
        if (!cap || result.text)
            __builtin_trap();
        return 0;
    }
    size_t bad;
    if (!result.text || result.text[result.len] != '\0' || strlen(result.text) != result.len ||
        !sd_utf8_valid(result.text, result.len, &bad) || (cap && result.len > cap))
        __builtin_trap();
    if (label == labels[1] && sd_utf8_valid((const char *)body, len, &bad) &&
        !(len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) &&
        (result.len != len || memcmp(result.text, body, len) != 0 || result.replaced != 0))
        __builtin_trap();
    free(result.text);
    return 0;
}
