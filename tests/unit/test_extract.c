/*
 * Unit tests of the extractor (src/core/extract*.c) with the real site profile
 * (profiles/dspdaily.com.ini) on the template fixtures of
 * tests/fixtures/templates/: one text rendering per template or oddity of
 * dspdaily.com, its first line "#url: ..." giving the page url, and next to
 * it NN-name.expected.json, the items a careful editor extracts (the rules
 * of the corpus README). Every headline, lead and body of the fixtures is
 * invented; only the site's template lines are real.
 *
 * Expected files: a JSON array, first the page ({"page_kind", "footer_brand",
 * "canonical_url", optional "edited_at"}), then one object per item in page
 * order: "kind", "title" (exact display text or null), "text_prefix" (the
 * display text starts with it, after the brand tag was moved out; null: no
 * text), "brand", and where present "cut", "published_precision",
 * "published_at" (UTC ISO), "section" and "title_key_of" (a string whose
 * match key the title's must equal).
 *
 * Paths come from STORYD_SOURCE_DIR (set by CTest; "." otherwise). CTest also
 * sets TZ to a zone other than Korea's, so every date check proves the KST
 * handling does not depend on the machine's zone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <iconv.h>
#include <jansson.h>
#include <time.h>

#include "core/extract.h"
#include "core/item.h"
#include "core/normalize.h"
#include "core/profile.h"

#define FIXTURE_DIR  "tests/fixtures/templates"
#define PROFILE_PATH "profiles/dspdaily.com.ini"

static sp_profile *profile;

/* ---- Files ----------------------------------------------------------------------------------- */

static const char *source_dir(void)
{
    const char *dir = getenv("STORYD_SOURCE_DIR");
    return dir && dir[0] ? dir : ".";
}

/* Reads a whole file (NUL-terminated for convenience); NULL when it cannot be read. */
static char *read_file(const char *path, size_t *len)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return NULL;
    size_t cap = 1 << 16, used = 0;
    char *data = malloc(cap + 1);
    while (data) {
        size_t got = fread(data + used, 1, cap - used, file);
        used += got;
        if (used < cap)
            break;
        cap *= 2;
        char *grown = realloc(data, cap + 1);
        if (!grown) {
            free(data);
            data = NULL;
        }
        data = grown;
    }
    fclose(file);
    if (data) {
        data[used] = '\0';
        *len = used;
    }
    return data;
}

/* One fixture file: the url of its "#url: " first line and the body after it. */
typedef struct fixture {
    char *data; /* the whole file */
    char *url;  /* points into data */
    const char *body;
    size_t body_len;
} fixture;

static void fixture_load(fixture *fx, const char *stem, const char *ext)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s/%s.%s", source_dir(), FIXTURE_DIR, stem, ext);
    size_t len = 0;
    fx->data = read_file(path, &len);
    if (!fx->data)
        fail_msg("cannot read %s (is STORYD_SOURCE_DIR set?)", path);
    if (strncmp(fx->data, "#url: ", 6) != 0)
        fail_msg("%s: the first line is not \"#url: ...\"", path);
    char *eol = strchr(fx->data, '\n');
    if (!eol)
        fail_msg("%s: no body after the #url line", path);
    *eol = '\0';
    fx->url = fx->data + 6;
    fx->body = eol + 1;
    fx->body_len = len - (size_t)(fx->body - fx->data);
}

static json_t *expected_load(const char *stem)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s/%s.expected.json", source_dir(), FIXTURE_DIR, stem);
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    if (!root)
        fail_msg("%s:%d: %s", path, error.line, error.text);
    if (!json_is_array(root) || json_array_size(root) < 1 ||
        !json_object_get(json_array_get(root, 0), "page_kind"))
        fail_msg("%s: not an array starting with the page object", path);
    return root;
}

/* ---- Running the extractor ------------------------------------------------------------------- */

static ex_page *extract(const char *url, const char *content_type, const void *body, size_t len,
                        const ex_limits *limits)
{
    const sp_profile *const profiles[] = {profile};
    ex_input input = {.url = url, .content_type = content_type, .body = body, .len = len};
    ex_page *page = NULL;
    char err[256] = "";
    ex_status status = ex_extract(profiles, 1, &input, limits, &page, err, sizeof(err));
    if (status != EX_OK)
        fail_msg("ex_extract(%s) failed: %s: %s", url, ex_status_name(status), err);
    assert_non_null(page);
    return page;
}

static ex_page *extract_fixture(const fixture *fx, const char *content_type)
{
    return extract(fx->url, content_type, fx->body, fx->body_len, NULL);
}

/* "2025-12-31T12:10:00Z" in Unix epoch milliseconds. */
static int64_t iso_ms(const char *iso)
{
    struct tm tm = {0};
    if (sscanf(iso, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        fail_msg("bad ISO time in an expected file: %s", iso);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000;
}

static void ms_iso(int64_t ms, char *out, size_t outlen)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&seconds, &tm)) {
        snprintf(out, outlen, "(%lld ms)", (long long)ms);
        return;
    }
    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- Comparing with an expected file --------------------------------------------------------- */

typedef struct comparison {
    const char *what; /* fixture name for messages */
    int mismatches;
} comparison;

static const char *show(const char *s)
{
    return s ? s : "(null)";
}

/* Copies the start of s into out, cut at a character boundary. */
static const char *snippet(const char *s, char *out, size_t outlen)
{
    if (!s)
        return NULL;
    size_t len = strlen(s);
    if (len >= outlen) {
        len = outlen - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

static void mismatch(comparison *c, size_t index, const char *field, const char *expected,
                     const char *actual)
{
    c->mismatches++;
    if (index == SIZE_MAX)
        print_error("%s: page: %s: expected \"%s\", got \"%s\"\n", c->what, field, show(expected),
                    show(actual));
    else
        print_error("%s: item %zu: %s: expected \"%s\", got \"%s\"\n", c->what, index, field,
                    show(expected), show(actual));
}

/* Compares a nullable string field: JSON null means NULL. */
static void check_string(comparison *c, size_t index, const char *field, const json_t *want,
                         const char *got)
{
    if (json_is_null(want)) {
        if (got)
            mismatch(c, index, field, NULL, got);
    } else if (!json_is_string(want)) {
        fail_msg("%s: item %zu: %s must be a string or null", c->what, index, field);
    } else if (!got || strcmp(json_string_value(want), got) != 0) {
        mismatch(c, index, field, json_string_value(want), got);
    }
}

static void check_page(comparison *c, const ex_page *page, const json_t *want)
{
    check_string(c, SIZE_MAX, "page_kind", json_object_get(want, "page_kind"),
                 sp_page_kind_name(page->kind));
    check_string(c, SIZE_MAX, "footer_brand", json_object_get(want, "footer_brand"),
                 page->footer_brand);
    check_string(c, SIZE_MAX, "canonical_url", json_object_get(want, "canonical_url"),
                 page->canonical_url);
    const json_t *edited = json_object_get(want, "edited_at");
    if (edited) {
        char got[64] = "";
        if (page->edited_at_ms >= 0)
            ms_iso(page->edited_at_ms, got, sizeof(got));
        if (json_is_null(edited) ? page->edited_at_ms != -1
                                 : page->edited_at_ms != iso_ms(json_string_value(edited)))
            mismatch(c, SIZE_MAX, "edited_at", json_string_value(edited),
                     page->edited_at_ms >= 0 ? got : NULL);
    }
}

static void check_item(comparison *c, size_t index, const ex_item *item, const json_t *want)
{
    check_string(c, index, "kind", json_object_get(want, "kind"), ex_kind_name(item->kind));
    check_string(c, index, "title", json_object_get(want, "title"), item->title);
    const json_t *prefix = json_object_get(want, "text_prefix");
    if (json_is_null(prefix)) {
        if (item->text)
            mismatch(c, index, "text", NULL, item->text);
    } else if (!item->text ||
               strncmp(item->text, json_string_value(prefix), strlen(json_string_value(prefix)))) {
        char head[160];
        mismatch(c, index, "text_prefix", json_string_value(prefix),
                 snippet(item->text, head, sizeof(head)));
    }
    check_string(c, index, "brand", json_object_get(want, "brand"), item->brand);
    const json_t *cut = json_object_get(want, "cut");
    if (cut)
        check_string(c, index, "cut", cut, ex_cut_name(item->cut));
    const json_t *precision = json_object_get(want, "published_precision");
    if (precision)
        check_string(c, index, "published_precision", precision,
                     ex_precision_name(item->precision));
    const json_t *published = json_object_get(want, "published_at");
    if (published && item->precision != EX_TIME_NONE &&
        item->published_at_ms != iso_ms(json_string_value(published))) {
        char got[64];
        ms_iso(item->published_at_ms, got, sizeof(got));
        mismatch(c, index, "published_at", json_string_value(published), got);
    }
    const json_t *section = json_object_get(want, "section");
    if (section)
        check_string(c, index, "section", section, item->section);
    const json_t *key_of = json_object_get(want, "title_key_of");
    if (key_of) {
        const char *text = json_string_value(key_of);
        char *key = nz_match_key(text, strlen(text), NULL);
        assert_non_null(key);
        if (!item->title_key || strcmp(key, item->title_key) != 0)
            mismatch(c, index, "title_key", key, item->title_key);
        free(key);
    }
}

static void dump_items(const char *what, const ex_page *page)
{
    print_error("%s: the extractor gave %zu items (page %s, footer %s, %s):\n", what, page->n_items,
                sp_page_kind_name(page->kind), show(page->footer_brand), show(page->canonical_url));
    for (size_t i = 0; i < page->n_items; i++) {
        const ex_item *item = &page->items[i];
        char text[100];
        print_error("  %zu %s cut=%s %s brand=%s section=%s title=\"%s\" text=\"%s\"\n", i,
                    ex_kind_name(item->kind), ex_cut_name(item->cut),
                    show(ex_precision_name(item->precision)), show(item->brand),
                    show(item->section), show(item->title),
                    show(snippet(item->text, text, sizeof(text))));
    }
}

/*
 * Compares a page with an expected array; only its first `limit` items when
 * limit is not SIZE_MAX. Returns the number of mismatches (each printed).
 */
static int compare(const char *what, const ex_page *page, const json_t *expected, size_t limit)
{
    comparison c = {.what = what};
    check_page(&c, page, json_array_get(expected, 0));
    size_t want_n = json_array_size(expected) - 1;
    if (limit < want_n)
        want_n = limit;
    if (page->n_items != want_n) {
        char want_s[32], got_s[32];
        snprintf(want_s, sizeof(want_s), "%zu", want_n);
        snprintf(got_s, sizeof(got_s), "%zu", page->n_items);
        mismatch(&c, SIZE_MAX, "item count", want_s, got_s);
    }
    size_t n = page->n_items < want_n ? page->n_items : want_n;
    for (size_t i = 0; i < n; i++)
        check_item(&c, i, &page->items[i], json_array_get(expected, i + 1));
    for (size_t i = 0; i < page->n_items; i++) {
        if (page->items[i].position != (int)i) {
            c.mismatches++;
            print_error("%s: item %zu has position %d\n", what, i, page->items[i].position);
        }
    }
    if (c.mismatches)
        dump_items(what, page);
    return c.mismatches;
}

/* ---- The fixtures ---------------------------------------------------------------------------- */

/* Every fixture, as an X-macro; fixture_list_complete checks that none on disk is missing here. */
#define FIXTURES(X)                                                                                \
    X("01-body-first-best")                                                                        \
    X("02-begins-at-footer")                                                                       \
    X("03-body-cut-mid-sentence")                                                                  \
    X("04-login-header")                                                                           \
    X("05-old-template")                                                                           \
    X("06-legacy-mail")                                                                            \
    X("07-old-listing")                                                                            \
    X("08-all-php")                                                                                \
    X("09-section-listing")                                                                        \
    X("10-section-columns")                                                                        \
    X("11-footer-brand-differs")                                                                   \
    X("12-lead-tags")                                                                              \
    X("13-nfd-entities")                                                                           \
    X("14-nfd-whole-page")                                                                         \
    X("15-markdown-quotes")                                                                        \
    X("16-article-caption-glued")                                                                  \
    X("17-section-entry-no-lead")
/* The fixtures that also come as HTML (NN-name.html): the same items are expected. */
#define HTML_FIXTURES(X)                                                                           \
    X("06-legacy-mail")                                                                            \
    X("08-all-php")

#define STEM(stem) stem,
static const char *const fixture_stems[] = {FIXTURES(STEM)};
#define N_FIXTURES (sizeof(fixture_stems) / sizeof(fixture_stems[0]))

static const char *const html_stems[] = {HTML_FIXTURES(STEM)};
#define N_HTML (sizeof(html_stems) / sizeof(html_stems[0]))

static void test_fixture(void **state)
{
    const char *stem = *state;
    fixture fx = {0};
    fixture_load(&fx, stem, "txt");
    json_t *expected = expected_load(stem);
    ex_page *page = extract_fixture(&fx, "text/plain; charset=utf-8");
    assert_false(page->is_html);
    assert_string_equal(page->profile_name, "dspdaily.com");
    int mismatches = compare(stem, page, expected, SIZE_MAX);
    ex_page_free(page);
    json_decref(expected);
    free(fx.data);
    assert_int_equal(mismatches, 0);
}

/* An HTML rendering of a fixture gives the items of its text rendering. */
static void test_html_fixture(void **state)
{
    const char *stem = *state;
    fixture fx = {0};
    fixture_load(&fx, stem, "html");
    json_t *expected = expected_load(stem);
    ex_page *page = extract_fixture(&fx, "text/html; charset=utf-8");
    assert_true(page->is_html);
    char what[128];
    snprintf(what, sizeof(what), "%s.html", stem);
    int mismatches = compare(what, page, expected, SIZE_MAX);
    ex_page_free(page);
    json_decref(expected);
    free(fx.data);
    assert_int_equal(mismatches, 0);
}

static bool listed(const char *name, size_t stem_len, const char *const *stems, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(stems[i]) == stem_len && strncmp(stems[i], name, stem_len) == 0)
            return true;
    }
    return false;
}

/* Every NN-name.txt (and .html) on disk has a test here and an expected file. */
static void test_fixture_list_complete(void **state)
{
    (void)state;
    char dir_path[1024];
    snprintf(dir_path, sizeof(dir_path), "%s/%s", source_dir(), FIXTURE_DIR);
    DIR *dir = opendir(dir_path);
    if (!dir)
        fail_msg("cannot open %s", dir_path);
    int missing = 0;
    size_t txt = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        const char *name = entry->d_name;
        size_t len = strlen(name);
        if (len > 4 && strcmp(name + len - 4, ".txt") == 0) {
            txt++;
            if (!listed(name, len - 4, fixture_stems, N_FIXTURES)) {
                print_error("%s is not in fixture_stems\n", name);
                missing++;
            }
        } else if (len > 5 && strcmp(name + len - 5, ".html") == 0 &&
                   !listed(name, len - 5, html_stems, N_HTML)) {
            print_error("%s is not in html_stems\n", name);
            missing++;
        }
    }
    closedir(dir);
    assert_int_equal(missing, 0);
    assert_int_equal(txt, N_FIXTURES);
    for (size_t i = 0; i < N_FIXTURES; i++)
        json_decref(expected_load(fixture_stems[i]));
}

/* ---- Charsets -------------------------------------------------------------------------------- */

/* Converts UTF-8 text to `to` with iconv; fails the test when a character has no mapping. */
static char *convert(const char *text, size_t len, const char *to, size_t *out_len)
{
    iconv_t cd = iconv_open(to, "UTF-8");
    assert_true(cd != (iconv_t)-1);
    size_t cap = len * 2 + 16;
    char *out = malloc(cap);
    assert_non_null(out);
    char *in = (char *)text, *dst = out;
    size_t in_left = len, out_left = cap;
    if (iconv(cd, &in, &in_left, &dst, &out_left) == (size_t)-1)
        fail_msg("iconv to %s failed at byte %zu", to, len - in_left);
    iconv_close(cd);
    *out_len = cap - out_left;
    return out;
}

/* The body-first fixture converted to EUC-KR (CP949, as Korean sites write it). */
static void check_euc_kr(const char *content_type)
{
    fixture fx = {0};
    fixture_load(&fx, "01-body-first-best", "txt");
    json_t *expected = expected_load("01-body-first-best");
    size_t len;
    char *euc = convert(fx.body, fx.body_len, "CP949", &len);
    assert_true(len < fx.body_len); /* Hangul takes 2 bytes instead of 3 */
    ex_page *page = extract(fx.url, content_type, euc, len, NULL);
    assert_int_equal(page->replaced_bytes, 0);
    assert_string_not_equal(page->charset, "utf-8");
    char what[128];
    snprintf(what, sizeof(what), "01-body-first-best as EUC-KR (%s)", content_type);
    int mismatches = compare(what, page, expected, SIZE_MAX);
    ex_page_free(page);
    free(euc);
    json_decref(expected);
    free(fx.data);
    assert_int_equal(mismatches, 0);
}

static void test_euc_kr_labelled(void **state)
{
    (void)state;
    check_euc_kr("text/plain; charset=euc-kr");
}

static void test_euc_kr_unlabelled(void **state)
{
    (void)state;
    check_euc_kr("text/plain");
}

/* Invalid bytes become U+FFFD, are counted, and cost no item. */
static void test_invalid_bytes_counted(void **state)
{
    (void)state;
    fixture fx = {0};
    fixture_load(&fx, "08-all-php", "txt");
    json_t *expected = expected_load("08-all-php");
    /* Two stray bytes at the end of the first lead. */
    const char *mark = strstr(fx.body, "제한한다고 밝혔다.");
    assert_non_null(mark);
    size_t at = (size_t)(mark - fx.body) + strlen("제한한다고 밝혔다.");
    char *body = malloc(fx.body_len + 2);
    assert_non_null(body);
    memcpy(body, fx.body, at);
    memcpy(body + at, "\xff\xfe", 2);
    memcpy(body + at + 2, fx.body + at, fx.body_len - at);
    ex_page *page = extract(fx.url, "text/plain; charset=utf-8", body, fx.body_len + 2, NULL);
    assert_int_equal(page->replaced_bytes, 2);
    int mismatches = compare("08-all-php with invalid bytes", page, expected, SIZE_MAX);
    assert_non_null(page->items[0].text);
    assert_non_null(strstr(page->items[0].text, "\xef\xbf\xbd"));
    ex_page_free(page);
    free(body);
    json_decref(expected);
    free(fx.data);
    assert_int_equal(mismatches, 0);
}

/* ---- Pages no profile serves, limits --------------------------------------------------------- */

static void test_other_host(void **state)
{
    (void)state;
    fixture fx = {0};
    fixture_load(&fx, "01-body-first-best", "txt");
    ex_page *page = extract("https://News.Example.org/news/view.php?page=2&no=90001",
                            "text/plain; charset=utf-8", fx.body, fx.body_len, NULL);
    assert_int_equal(page->kind, SP_PAGE_OTHER);
    /* No profile: the generic extractor gives the page's one story, never list items. */
    assert_int_equal(page->n_items, 1);
    assert_int_equal(page->items[0].kind, EX_ARTICLE);
    assert_non_null(page->items[0].text);
    assert_null(page->profile_name);
    assert_null(page->footer_brand);
    /* No profile: no keep-only-`no` rule, the parameters are only sorted. */
    assert_string_equal(page->canonical_url,
                        "https://news.example.org/news/view.php?no=90001&page=2");
    ex_page_free(page);
    free(fx.data);
}

static void test_max_items_truncates(void **state)
{
    (void)state;
    fixture fx = {0};
    fixture_load(&fx, "01-body-first-best", "txt");
    json_t *expected = expected_load("01-body-first-best");
    ex_limits limits = ex_default_limits;
    limits.max_items = 3;
    ex_page *page = extract(fx.url, "text/plain; charset=utf-8", fx.body, fx.body_len, &limits);
    assert_true(page->truncated);
    assert_string_equal(page->limit, "max_items");
    int mismatches = compare("01-body-first-best, max_items 3", page, expected, 3);
    ex_page_free(page);

    /* A limit the page stays within marks nothing. */
    limits.max_items = json_array_size(expected) - 1;
    page = extract(fx.url, "text/plain; charset=utf-8", fx.body, fx.body_len, &limits);
    assert_false(page->truncated);
    assert_null(page->limit);
    assert_int_equal(page->n_items, limits.max_items);
    ex_page_free(page);
    json_decref(expected);
    free(fx.data);
    assert_int_equal(mismatches, 0);
}

/* Each structural limit names itself on the page it cut short. */
static void test_limits_name_themselves(void **state)
{
    (void)state;
    static const char *const url = "https://dspdaily.com/news/view.php?no=1";
    ex_limits limits = ex_default_limits;
    limits.blocks.max_depth = 16;
    char deep[4096] = "<html><body>";
    for (int i = 0; i < 40; i++)
        strcat(deep, "<div>");
    strcat(deep, "deep text</body></html>");
    ex_page *page = extract(url, "text/html; charset=utf-8", deep, strlen(deep), &limits);
    assert_string_equal(page->limit, "max_depth");
    ex_page_free(page);

    limits = ex_default_limits;
    limits.blocks.max_nodes = 50;
    char wide[8192] = "<html><body>";
    for (int i = 0; i < 200; i++)
        strcat(wide, "<b>x</b>");
    strcat(wide, "</body></html>");
    page = extract(url, "text/html; charset=utf-8", wide, strlen(wide), &limits);
    assert_string_equal(page->limit, "max_nodes");
    ex_page_free(page);

    limits = ex_default_limits;
    limits.blocks.max_lines = 100;
    char lines[4096] = "";
    for (int i = 0; i < 300; i++)
        strcat(lines, "줄\n");
    page = extract(url, "text/plain; charset=utf-8", lines, strlen(lines), &limits);
    assert_string_equal(page->limit, "max_lines");
    ex_page_free(page);

    /* The generic extractor (a host no profile serves) marks its body cut. */
    limits = ex_default_limits;
    limits.max_item_bytes = 300;
    char article[8192] = "<html><body><article><h1>A title here</h1>";
    for (int i = 0; i < 20; i++)
        strcat(article, "<p>A paragraph of an article that goes on for a while, with words.</p>");
    strcat(article, "</article></body></html>");
    page = extract("https://example.org/a", "text/html; charset=utf-8", article, strlen(article),
                   &limits);
    assert_non_null(page->limit);
    ex_page_free(page);
}

static void test_a_non_page_content_type_is_refused(void **state)
{
    (void)state;
    const sp_profile *const profiles[] = {profile};
    static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F'};
    ex_input input = {.url = "https://dspdaily.com/news/view.php?no=1",
                      .content_type = "image/jpeg",
                      .body = jpeg,
                      .len = sizeof(jpeg)};
    ex_page *page = NULL;
    char err[256];
    assert_int_equal(ex_extract(profiles, 1, &input, NULL, &page, err, sizeof(err)),
                     EX_ERR_CONTENT_TYPE);
    assert_null(page);
    assert_string_equal(err, "image/jpeg is not a text or HTML page");
    /* Text of any kind, XHTML and a missing type are read. */
    static const char *const pages[] = {"text/plain", "TEXT/HTML; charset=utf-8",
                                        "application/xhtml+xml", NULL};
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        input.content_type = pages[i];
        input.body = (const unsigned char *)"<html><body><p>text</p></body></html>";
        input.len = strlen((const char *)input.body);
        assert_int_equal(ex_extract(profiles, 1, &input, NULL, &page, err, sizeof(err)), EX_OK);
        ex_page_free(page);
    }
}

/* ---- KST dates ------------------------------------------------------------------------------- */

typedef struct date_case {
    const char *text;
    ex_precision precision;
    const char *utc; /* expected instant, when a date */
} date_case;

static const date_case date_cases[] = {
    {"2025.08.18 13:33", EX_TIME_MINUTE, "2025-08-18T04:33:00Z"},
    {"2025-08-18 13:33", EX_TIME_MINUTE, "2025-08-18T04:33:00Z"},
    {"2024-05-23(목)", EX_TIME_DAY, "2024-05-22T15:00:00Z"},
    {"2024-05-23", EX_TIME_DAY, "2024-05-22T15:00:00Z"},
    {"2026.03.11", EX_TIME_DAY, "2026-03-10T15:00:00Z"},
    {"2025.12.31 21:10", EX_TIME_MINUTE, "2025-12-31T12:10:00Z"},
    {"2026.01.01 08:59", EX_TIME_MINUTE, "2025-12-31T23:59:00Z"},
    {"2024.03.10 02:30 수정", EX_TIME_MINUTE,
     "2024-03-09T17:30:00Z"},                                     /* no such time in New York */
    {"2024.11.03 01:30", EX_TIME_MINUTE, "2024-11-02T16:30:00Z"}, /* twice in New York */
    {"2024.02.29", EX_TIME_DAY, "2024-02-28T15:00:00Z"},
    {"", EX_TIME_NONE, NULL},
    {"최종편집", EX_TIME_NONE, NULL},
    {"입력 2025.08.18 13:33", EX_TIME_NONE, NULL},
    {"2025/08/18", EX_TIME_NONE, NULL},
    {"2025.13.01", EX_TIME_NONE, NULL},
    {"2025.08.32", EX_TIME_NONE, NULL},
    {"2025.08-18", EX_TIME_NONE, NULL},
    {"20250818", EX_TIME_NONE, NULL},
    {"2025.08.18 24:00", EX_TIME_NONE, NULL},
    {"2025.08.18 13:61", EX_TIME_NONE, NULL},
    {"2025.08.181", EX_TIME_NONE, NULL},
    {"12:30", EX_TIME_NONE, NULL},
    {"garbage", EX_TIME_NONE, NULL},
};

static int check_dates(const char *zone)
{
    int failures = 0;
    for (size_t i = 0; i < sizeof(date_cases) / sizeof(date_cases[0]); i++) {
        const date_case *dc = &date_cases[i];
        int64_t ms = INT64_MIN;
        ex_precision got = ex_parse_kst_date(dc->text, &ms);
        if (got != dc->precision) {
            print_error("TZ=%s: \"%s\": precision %s, expected %s\n", zone, dc->text,
                        show(ex_precision_name(got)), show(ex_precision_name(dc->precision)));
            failures++;
        } else if (dc->utc && ms != iso_ms(dc->utc)) {
            char at[64];
            ms_iso(ms, at, sizeof(at));
            print_error("TZ=%s: \"%s\": %s, expected %s\n", zone, dc->text, at, dc->utc);
            failures++;
        }
    }
    return failures;
}

static void test_kst_dates(void **state)
{
    (void)state;
    const char *tz = getenv("TZ");
    assert_int_equal(check_dates(tz ? tz : "(unset)"), 0);
}

/* February 30th and April 31st are no dates (timegm would make them March 2nd and May 1st). */
/* A date cut right after the space and one digit of its time: no read past the end. */
static void test_kst_date_cut_in_its_time(void **state)
{
    (void)state;
    int64_t ms = 0;
    for (const char *const *t =
             (const char *const[]){"2024.05.23 1", "2024.05.23 ", "2024.05.23 12",
                                   "2024.05.23 12:", "2024.05.23 12:3", NULL};
         *t; t++) {
        /* Copied to a buffer of its exact size, so ASan sees any read beyond it. */
        size_t len = strlen(*t) + 1;
        char *exact = malloc(len);
        memcpy(exact, *t, len);
        ex_precision precision = ex_parse_kst_date(exact, &ms);
        free(exact);
        assert_int_equal(precision, EX_TIME_DAY);
    }
}

static void test_kst_date_rejects_impossible_day(void **state)
{
    (void)state;
    static const char *const impossible[] = {"2025.02.30", "2025-04-31 10:00", "2023.02.29"};
    int accepted = 0;
    for (size_t i = 0; i < sizeof(impossible) / sizeof(impossible[0]); i++) {
        int64_t ms = 0;
        ex_precision got = ex_parse_kst_date(impossible[i], &ms);
        if (got != EX_TIME_NONE) {
            char at[64];
            ms_iso(ms, at, sizeof(at));
            print_error("\"%s\" was read as %s (%s), expected no date\n", impossible[i], at,
                        ex_precision_name(got));
            accepted++;
        }
    }
    assert_int_equal(accepted, 0);
}

/* The tests run outside Korea's zone, or they would not prove anything about it. */
static void test_runs_outside_kst(void **state)
{
    (void)state;
    time_t now = time(NULL);
    struct tm local;
    assert_non_null(localtime_r(&now, &local));
    if (local.tm_gmtoff == 9 * 3600)
        fail_msg("TZ=%s is UTC+9: run with TZ=America/New_York (CTest sets it)",
                 show(getenv("TZ")));
}

/* Dates and extracted items do not move with the machine's zone. */
static void test_kst_independent_of_tz(void **state)
{
    (void)state;
    static const char *const zones[] = {
        "America/New_York",       "Asia/Seoul",  "UTC", "Pacific/Chatham", "Pacific/Kiritimati",
        "EST5EDT,M3.2.0,M11.1.0", "<-0930>9:30",
    };
    fixture fx = {0};
    fixture_load(&fx, "04-login-header", "txt");
    json_t *expected = expected_load("04-login-header");
    fixture lx = {0};
    fixture_load(&lx, "09-section-listing", "txt");
    json_t *lexpected = expected_load("09-section-listing");
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    int failures = 0;
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        setenv("TZ", zones[z], 1);
        tzset();
        failures += check_dates(zones[z]);
        char what[128];
        snprintf(what, sizeof(what), "04-login-header under TZ=%s", zones[z]);
        ex_page *page = extract_fixture(&fx, "text/plain; charset=utf-8");
        failures += compare(what, page, expected, SIZE_MAX);
        ex_page_free(page);
        snprintf(what, sizeof(what), "09-section-listing under TZ=%s", zones[z]);
        page = extract_fixture(&lx, "text/plain; charset=utf-8");
        failures += compare(what, page, lexpected, SIZE_MAX);
        ex_page_free(page);
    }
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
    json_decref(expected);
    json_decref(lexpected);
    free(fx.data);
    free(lx.data);
    assert_int_equal(failures, 0);
}

/* ---- Main ------------------------------------------------------------------------------------ */

static int load_profile(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", source_dir(), PROFILE_PATH);
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text) {
        fprintf(stderr, "cannot read %s (set STORYD_SOURCE_DIR to the source tree)\n", path);
        return -1;
    }
    char err[512] = "";
    profile = sp_profile_parse(text, len, path, err, sizeof(err));
    free(text);
    if (!profile) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int free_profile(void **state)
{
    (void)state;
    sp_profile_free(profile);
    profile = NULL;
    return 0;
}

#define FIXTURE_TEST(stem)                                                                         \
    {.name = "fixture " stem, .test_func = test_fixture, .initial_state = (void *)stem},
#define HTML_TEST(stem)                                                                            \
    {.name = "html " stem, .test_func = test_html_fixture, .initial_state = (void *)stem},

int main(void)
{
    /* Run outside Korea's zone even when started by hand (CTest sets TZ itself). */
    if (!getenv("TZ"))
        setenv("TZ", "America/New_York", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_outside_kst),
        cmocka_unit_test(test_fixture_list_complete),
        /* clang-format off */
        FIXTURES(FIXTURE_TEST)
        HTML_FIXTURES(HTML_TEST)
        /* clang-format on */
        cmocka_unit_test(test_euc_kr_labelled),
        cmocka_unit_test(test_euc_kr_unlabelled),
        cmocka_unit_test(test_invalid_bytes_counted),
        cmocka_unit_test(test_other_host),
        cmocka_unit_test(test_max_items_truncates),
        cmocka_unit_test(test_limits_name_themselves),
        cmocka_unit_test(test_a_non_page_content_type_is_refused),
        cmocka_unit_test(test_kst_dates),
        cmocka_unit_test(test_kst_date_rejects_impossible_day),
        cmocka_unit_test(test_kst_date_cut_in_its_time),
        cmocka_unit_test(test_kst_independent_of_tz),
    };
    return cmocka_run_group_tests_name("extract", tests, load_profile, free_profile);
}
