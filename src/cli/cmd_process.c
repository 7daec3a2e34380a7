/*
 * `storyd process`: the pure pipeline offline, for people and for scoring.
 * Reads page events as JSON Lines ({"url", "content_type", "body" text or
 * "body_base64" bytes, optional "fetched_at"}) and writes one JSON object per
 * story item, in input order. A line that is not a valid event is reported
 * on stderr with its line number and skipped; the exit status is 1 when any
 * was. Until the dedup engine lands, story_id is the hash of the item's
 * title key (or of the start of its text key): the same title gives the
 * same id, which is exact-key dedup and nothing more.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "cli/cli.h"
#include "common/base64.h"
#include "common/log.h"
#include "core/extract.h"

/* How much of a text key identifies an item without a title. */
#define TEXT_KEY_PREFIX 48

static void story_id(const ex_item *item, char out[24])
{
    const char *key = item->title_key && item->title_key[0] ? item->title_key : item->text_key;
    size_t len = key ? strlen(key) : 0;
    if (key == item->text_key && len > TEXT_KEY_PREFIX) {
        /* Cut at a character boundary so the prefix is the same text everywhere. */
        len = TEXT_KEY_PREFIX;
        while (len > 0 && ((unsigned char)key[len] & 0xc0) == 0x80)
            len--;
    }
    snprintf(out, 24, "s%016" PRIx64, (uint64_t)XXH3_64bits(key ? key : "", len));
}

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *time_or_null(const ex_item *item)
{
    if (item->precision == EX_TIME_NONE)
        return json_null();
    time_t seconds = (time_t)(item->published_at_ms / 1000);
    struct tm tm;
    char text[32];
    gmtime_r(&seconds, &tm);
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(text);
}

static int write_item(const char *page_url, const ex_page *page, const ex_item *item)
{
    char id[24];
    story_id(item, id);
    json_t *obj = json_object();
    json_object_set_new(obj, "page_url", json_string(page_url));
    json_object_set_new(obj, "canonical_url", string_or_null(page->canonical_url));
    json_object_set_new(obj, "page_kind", json_string(sp_page_kind_name(page->kind)));
    json_object_set_new(obj, "kind", json_string(ex_kind_name(item->kind)));
    json_object_set_new(obj, "title", string_or_null(item->title));
    json_object_set_new(obj, "text", string_or_null(item->text));
    json_object_set_new(obj, "brand", string_or_null(item->brand));
    json_object_set_new(obj, "section", string_or_null(item->section));
    json_object_set_new(obj, "published_at", time_or_null(item));
    const char *precision = ex_precision_name(item->precision);
    json_object_set_new(obj, "published_precision", string_or_null(precision));
    json_object_set_new(obj, "cut", json_string(ex_cut_name(item->cut)));
    json_object_set_new(obj, "position", json_integer(item->position));
    json_object_set_new(obj, "url", string_or_null(item->url));
    json_object_set_new(obj, "story_id", json_string(id));
    json_object_set_new(obj, "footer_brand", string_or_null(page->footer_brand));
    json_object_set_new(obj, "profile", string_or_null(page->profile_name));
    json_object_set_new(obj, "profile_version", string_or_null(page->profile_version));
    int rc = json_dumpf(obj, stdout, JSON_COMPACT);
    json_decref(obj);
    if (rc == 0 && fputc('\n', stdout) == EOF)
        rc = -1;
    return rc;
}

/* Processes one JSON line; returns the number of items, or -1 with err filled. */
static long process_line(struct sp_profile **profiles, int n_profiles, const char *line, size_t len,
                         char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *event = json_loadb(line, len, 0, &jerr);
    if (!event) {
        snprintf(err, errlen, "column %d: %s", jerr.column, jerr.text);
        return -1;
    }
    long count = -1;
    sd_buf body;
    sd_buf_init(&body);
    json_t *url = json_object_get(event, "url");
    json_t *content_type = json_object_get(event, "content_type");
    json_t *text = json_object_get(event, "body");
    json_t *b64 = json_object_get(event, "body_base64");
    if (!json_is_object(event) || !json_is_string(url) || !json_string_length(url)) {
        snprintf(err, errlen, "key url: required (a non-empty string)");
        goto done;
    }
    if (content_type && !json_is_string(content_type) && !json_is_null(content_type)) {
        snprintf(err, errlen, "key content_type: expected a string");
        goto done;
    }
    ex_input input = {
        .url = json_string_value(url),
        .content_type = json_is_string(content_type) ? json_string_value(content_type) : NULL,
    };
    if (json_is_string(text)) {
        input.body = (const uint8_t *)json_string_value(text);
        input.len = json_string_length(text);
    } else if (json_is_string(b64)) {
        if (sd_base64_decode(json_string_value(b64), &body) != 0) {
            snprintf(err, errlen, "key body_base64: not base64");
            goto done;
        }
        input.body = (const uint8_t *)body.data;
        input.len = body.len;
    } else if (text || b64) {
        snprintf(err, errlen, "key body: expected a string (or body_base64)");
        goto done;
    }
    ex_page *page = NULL;
    char why[512];
    ex_status status = ex_extract((const sp_profile *const *)profiles, (size_t)n_profiles, &input,
                                  NULL, &page, why, sizeof(why));
    if (status != EX_OK) {
        snprintf(err, errlen, "%s: %s", ex_status_name(status), why);
        goto done;
    }
    count = 0;
    for (size_t i = 0; i < page->n_items; i++) {
        if (write_item(input.url, page, &page->items[i]) != 0) {
            snprintf(err, errlen, "writing the output failed");
            count = -1;
            break;
        }
        count++;
    }
    ex_page_free(page);
done:
    sd_buf_release(&body);
    json_decref(event);
    return count;
}

int sd_cmd_process(const sd_config *config, const char *path, bool extra_operands)
{
    if (extra_operands) {
        sd_log_error("process", "one input at most (a file, or - for standard input)");
        return 2;
    }
    struct sp_profile **profiles;
    char err[1024];
    int n_profiles = sd_profiles_load(config, &profiles, err, sizeof(err));
    if (n_profiles < 0) {
        sd_log_error("process", "%s", err);
        return 1;
    }
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in) {
        sd_log_error("process", "%s: %s", path, strerror(errno));
        sd_profiles_free(profiles, n_profiles);
        return 1;
    }
    bool progress = isatty(STDERR_FILENO);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, pages = 0, items = 0, skipped = 0;
    while ((len = getline(&line, &cap, in)) != -1) {
        lineno++;
        if (len == 0 || (len == 1 && line[0] == '\n'))
            continue;
        long count = process_line(profiles, n_profiles, line, (size_t)len, err, sizeof(err));
        if (count < 0) {
            sd_log_error("process", "%s:%ld: %s; line skipped", path, lineno, err);
            skipped++;
            continue;
        }
        pages++;
        items += count;
        if (progress && pages % 100 == 0)
            fprintf(stderr, "\rprocess: %ld pages, %ld items", pages, items);
    }
    if (progress)
        fprintf(stderr, "\r\033[K");
    bool read_failed = ferror(in);
    free(line);
    if (in != stdin)
        fclose(in);
    sd_profiles_free(profiles, n_profiles);
    if (fflush(stdout) != 0 || read_failed) {
        sd_log_error("process", "%s", read_failed ? "reading the input failed" : "writing failed");
        return 1;
    }
    sd_log_info("process", "%ld pages, %ld items, %ld lines skipped", pages, items, skipped);
    return skipped ? 1 : 0;
}
