/*
 * The whole extraction of one page: charset conversion, the text or HTML
 * reader, and the dspdaily.com rules. The first input byte picks the content
 * type, so one corpus covers text, HTML, EUC-KR labels and no label.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/extract.h"
#include "core/profile.h"

static sp_profile *profile;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FILE *f = fopen(STORYD_SOURCE_PROFILE_DIR "/dspdaily.com.ini", "r");
    if (!f)
        abort();
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof(text), f);
    fclose(f);
    char err[256];
    profile = sp_profile_parse(text, len, "dspdaily.com.ini", err, sizeof(err));
    if (!profile)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {
        "text/plain; charset=utf-8",
        "text/html; charset=utf-8",
        "text/plain; charset=euc-kr",
        "text/html",
        NULL,
        "application/octet-stream",
    };
    static const char *const urls[] = {
        "https://dspdaily.com/news/view.php?no=1",
        "http://www.dspdaily.com/news/all.php?page=2&page=3",
        "https://dspdaily.com/news/index.php?page=1&section%5B0%5D=10974",
        "https://dspdaily.com/news/index.php?code=x&d_code=&page=1",
    };
    if (size < 1)
        return 0;
    ex_input input = {
        .url = urls[(data[0] >> 4) % 4],
        .content_type = types[(data[0] & 15) % 6],
        .body = data + 1,
        .len = size - 1,
    };
    ex_limits limits = ex_default_limits;
    limits.max_items = 200;
    limits.blocks.max_lines = 5000;
    limits.blocks.max_nodes = 20000;
    const sp_profile *profiles[1] = {profile};
    ex_page *page = NULL;
    char err[256];
    if (ex_extract(profiles, 1, &input, &limits, &page, err, sizeof(err)) == EX_OK) {
        /* Every item must hold text or a title, and valid positions. */
        for (size_t i = 0; i < page->n_items; i++) {
            if (!page->items[i].title && !page->items[i].text)
                __builtin_trap();
            if (page->items[i].position != (int)i)
                __builtin_trap();
        }
        ex_page_free(page);
    }
    return 0;
}
