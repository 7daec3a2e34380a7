/*
 * `storyd process`: the pure pipeline offline, for people and for scoring.
 * Reads page events as JSON Lines ({"url", "content_type", "body" text or
 * "body_base64" bytes, optional "fetched_at"}) and writes one JSON object per
 * story item, in input order. A line that is not a valid event is reported
 * on stderr with its line number and skipped; the exit status is 1 when any
 * was. story_id comes from the dedup engine (dedup/engine.h). An item that
 * joins two stories merges them, so an id given to an earlier item may become
 * an alias later: the items are held until the input ends and written with
 * the id their story has then (each item's own links keep the ids of the
 * moment, as evidence).
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "daemon/batch.h"
#include "daemon/dedup_load.h"
#include "common/base64.h"
#include "common/log.h"
#include "core/extract.h"
#include "daemon/profile_files.h"
#include "db/story_rows.h"
#include "dedup/engine.h"

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

/* The items of the whole run, written once every merge is known. */
typedef struct pending {
    json_t **items;
    uint64_t *stories;
    size_t count, cap;
} pending;

static int write_item(pending *out, const char *page_url, const ex_page *page, const ex_item *item,
                      const dd_result *story)
{
    char id[24];
    snprintf(id, sizeof(id), "s%016" PRIx64, story->story);
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
    json_t *links = json_array();
    for (size_t i = 0; i < story->n_links; i++) {
        json_t *link = json_object();
        char other[24];
        snprintf(other, sizeof(other), "s%016" PRIx64, story->links[i].story);
        json_object_set_new(link, "reason", json_string(dd_reason_name(story->links[i].reason)));
        json_object_set_new(link, "score", json_real(story->links[i].score));
        json_object_set_new(link, "story", json_string(other));
        json_array_append_new(links, link);
    }
    json_object_set_new(obj, "links", links);
    if (story->n_aliases) {
        json_t *aliases = json_array();
        for (size_t i = 0; i < story->n_aliases; i++) {
            char alias[24];
            snprintf(alias, sizeof(alias), "s%016" PRIx64, story->aliases[i]);
            json_array_append_new(aliases, json_string(alias));
        }
        json_object_set_new(obj, "merged", aliases);
    }
    json_object_set_new(obj, "footer_brand", string_or_null(page->footer_brand));
    json_object_set_new(obj, "profile", string_or_null(page->profile_name));
    json_object_set_new(obj, "profile_version", string_or_null(page->profile_version));
    if (out->count == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 256;
        json_t **items = realloc(out->items, cap * sizeof(*items));
        uint64_t *stories = items ? realloc(out->stories, cap * sizeof(*stories)) : NULL;
        if (items)
            out->items = items;
        if (!items || !stories) {
            json_decref(obj);
            return -1;
        }
        out->stories = stories;
        out->cap = cap;
    }
    out->items[out->count] = obj;
    out->stories[out->count] = story->story;
    out->count++;
    return 0;
}

/* Writes every held item with the survivor of its story; frees them. Returns 0 or -1. */
static int flush_pending(pending *out, const dd_engine *dedup)
{
    int rc = 0;
    for (size_t i = 0; i < out->count; i++) {
        uint64_t survivor = dd_resolve(dedup, out->stories[i]);
        char id[24];
        snprintf(id, sizeof(id), "s%016" PRIx64, survivor ? survivor : out->stories[i]);
        json_object_set_new(out->items[i], "story_id", json_string(id));
        if (rc == 0 &&
            (json_dumpf(out->items[i], stdout, JSON_COMPACT) != 0 || fputc('\n', stdout) == EOF))
            rc = -1;
        json_decref(out->items[i]);
    }
    free(out->items);
    free(out->stories);
    memset(out, 0, sizeof(*out));
    return rc;
}

/* Processes one JSON line; returns the number of items, or -1 with err filled. */
static long process_line(sp_profile **profiles, int n_profiles, const ex_limits *limits,
                         dd_engine *dedup, pending *out, long lineno, const char *line, size_t len,
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
                                  limits, &page, why, sizeof(why));
    if (status != EX_OK) {
        snprintf(err, errlen, "%s: %s", ex_status_name(status), why);
        goto done;
    }
    if (page->limit)
        /* The daemon dead-letters such a page; offline, its items are shown with a warning. */
        sd_log_warning("process", "line %ld: a limit cut the page short (%s); see [limits]", lineno,
                       page->limit);
    count = 0;
    /* Items are seen when the page was fetched; without a time, input order stands in. */
    json_t *fetched = json_object_get(event, "fetched_at");
    int64_t seen_ms = json_is_integer(fetched) ? json_integer_value(fetched) : lineno;
    for (size_t i = 0; i < page->n_items; i++) {
        const ex_item *item = &page->items[i];
        dd_item key = {
            .url = item->url,
            .title = item->title,
            .title_key = item->title_key,
            .text_key = item->text_key,
            .title_cut = sr_title_cut(item),
            .seen_ms = seen_ms,
        };
        dd_result story;
        if (dd_add(dedup, &key, &story) != 0) {
            snprintf(err, errlen, "out of memory in the dedup engine");
            count = -1;
            break;
        }
        if (write_item(out, input.url, page, item, &story) != 0) {
            snprintf(err, errlen, "out of memory holding the output");
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
    sp_profile **profiles;
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
    ex_limits limits;
    bt_limits_from(config, &limits);
    dd_config dedup_config;
    dl_config_from(config, &dedup_config);
    dd_engine *dedup = dd_new(&dedup_config);
    if (!dedup) {
        sd_log_error("process", "out of memory");
        if (in != stdin)
            fclose(in);
        sd_profiles_free(profiles, n_profiles);
        return 1;
    }
    bool progress = isatty(STDERR_FILENO);
    pending out = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, pages = 0, items = 0, skipped = 0;
    while ((len = getline(&line, &cap, in)) != -1) {
        lineno++;
        if (len == 0 || (len == 1 && line[0] == '\n'))
            continue;
        long count = process_line(profiles, n_profiles, &limits, dedup, &out, lineno, line,
                                  (size_t)len, err, sizeof(err));
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
    int written = flush_pending(&out, dedup);
    if (written != 0 || fflush(stdout) != 0 || read_failed) {
        dd_free(dedup);
        sd_log_error("process", "%s", read_failed ? "reading the input failed" : "writing failed");
        return 1;
    }
    dd_stats stats = dd_get_stats(dedup);
    dd_free(dedup);
    sd_log_info("process", "%ld pages, %ld items in %zu stories, %ld lines skipped", pages, items,
                stats.stories, skipped);
    return skipped ? 1 : 0;
}
