/*
 * Extraction throughput on one core: page events from JSON Lines files are
 * loaded into memory, then extracted over and over for a fixed time, text
 * and HTML pages separately. Prints pages/s, MB/s and items/s.
 *
 * usage: bench_extract [--seconds S | --passes N] [--profile FILE.ini] FILE.jsonl...
 * --passes N extracts every page exactly N times instead (for callgrind,
 * whose instruction counts do not depend on how busy the machine is).
 * A benchmark, not a test: it asserts nothing and is never run by CTest.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "core/extract.h"
#include "core/profile.h"

typedef struct page {
    char *url;
    char *content_type;
    char *body;
    size_t len;
} page;

typedef struct page_set {
    page *pages;
    size_t count, cap;
    size_t bytes;
} page_set;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add_page(page_set *set, const char *url, const char *type, const char *body, size_t len)
{
    if (set->count == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 64;
        set->pages = realloc(set->pages, set->cap * sizeof(page));
        if (!set->pages) {
            perror("realloc");
            exit(1);
        }
    }
    page *p = &set->pages[set->count++];
    p->url = strdup(url);
    p->content_type = strdup(type);
    p->body = malloc(len + 1);
    memcpy(p->body, body, len);
    p->body[len] = '\0';
    p->len = len;
    set->bytes += len;
}

static int load(const char *path, page_set *text, page_set *html)
{
    json_error_t jerr;
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        json_t *event = json_loadb(line, (size_t)len, 0, &jerr);
        if (!event)
            continue;
        const char *url = json_string_value(json_object_get(event, "url"));
        const char *type = json_string_value(json_object_get(event, "content_type"));
        json_t *body = json_object_get(event, "body");
        if (url && type && json_is_string(body)) {
            page_set *set = strstr(type, "html") ? html : text;
            add_page(set, url, type, json_string_value(body), json_string_length(body));
        }
        json_decref(event);
    }
    free(line);
    fclose(f);
    return 0;
}

static sp_profile *load_profile(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof(text), f);
    fclose(f);
    char err[512];
    sp_profile *profile = sp_profile_parse(text, len, path, err, sizeof(err));
    if (!profile) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return profile;
}

static void run(const char *name, const page_set *set, const sp_profile *const *profiles,
                double seconds, long passes)
{
    if (set->count == 0) {
        printf("%-5s  no pages\n", name);
        return;
    }
    size_t pages = 0, bytes = 0, items = 0;
    double start = now_seconds(), elapsed = 0;
    char err[256];
    for (long pass = 0; passes > 0 ? pass < passes : elapsed < seconds; pass++) {
        for (size_t i = 0; i < set->count; i++) {
            const page *p = &set->pages[i];
            ex_input input = {.url = p->url,
                              .content_type = p->content_type,
                              .body = (const uint8_t *)p->body,
                              .len = p->len};
            ex_page *out;
            if (ex_extract(profiles, 1, &input, NULL, &out, err, sizeof(err)) == EX_OK) {
                items += out->n_items;
                ex_page_free(out);
            }
            pages++;
            bytes += p->len;
        }
        elapsed = now_seconds() - start;
    }
    printf("%-5s  %6zu distinct pages  %10.0f pages/s  %8.1f MB/s  %10.0f items/s\n", name,
           set->count, (double)pages / elapsed, (double)bytes / elapsed / 1e6,
           (double)items / elapsed);
}

int main(int argc, char **argv)
{
    double seconds = 3;
    long passes = 0;
    const char *profile_path = STORYD_SOURCE_PROFILE_DIR "/dspdaily.com.ini";
    page_set text = {0}, html = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
            passes = atol(argv[++i]);
        else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
            profile_path = argv[++i];
        else if (load(argv[i], &text, &html) != 0)
            return 1;
    }
    if (text.count + html.count == 0) {
        fprintf(stderr, "usage: bench_extract [--seconds S | --passes N] [--profile FILE.ini] "
                        "FILE.jsonl...\n");
        return 2;
    }
    sp_profile *profile = load_profile(profile_path);
    const sp_profile *profiles[1] = {profile};
    printf("extraction, one core, %.0f s per kind (text: %.1f KB avg, html: %.1f KB avg)\n",
           seconds, text.count ? (double)text.bytes / (double)text.count / 1e3 : 0,
           html.count ? (double)html.bytes / (double)html.count / 1e3 : 0);
    run("text", &text, profiles, seconds, passes);
    run("html", &html, profiles, seconds, passes);
    sp_profile_free(profile);
    return 0;
}
