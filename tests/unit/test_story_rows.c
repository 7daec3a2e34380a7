/*
 * Unit tests of the story rows of a batch (src/db/story_rows.c): items through
 * the dedup engine in order, sighting, link and text rows in COPY text, merges
 * naming the survivor at the end of the batch, and rows that do not depend on
 * where batches begin and end or on a rollback in between. All text is
 * invented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/normalize.h"
#include "db/story_rows.h"

#define MS INT64_C(1733300000000)

static const char body[] =
    "연길시가 26일 동북아 국경무역박람회를 열었다. 올해로 아홉 번째인 박람회에는 12개국 480개 "
    "기업이 참가해 농산물과 가공식품, 전자제품과 관광 상품을 선보였다. 주최 측은 첫날에만 3만 "
    "명이 다녀갔다고 밝혔다. 행사장에는 러시아와 몽골, 일본 기업의 전시관이 나란히 섰고 현장 "
    "계약도 잇따랐다.";
static const char lead[] = "연길시가 26일 동북아 국경무역박람회를 열었다. 올해로 아홉 번째인 "
                           "박람회에는 12개국 480개 기업이 참가해 농산물과 가공식품";
static const char other[] =
    "훈춘시 방천 전망대가 새 단장을 마치고 다시 문을 열었다. 전망대에서는 세 나라의 국경을 한눈에 "
    "볼 수 있으며, 시는 올해 관광객 50만 명을 기대하고 있다고 밝혔다.";

static void set_item(ex_page *page, ex_kind kind, const char *title, const char *text,
                     const char *url)
{
    ex_item *item = ex_page_add_item(page, kind);
    assert_non_null(item);
    if (title) {
        item->title = strdup(title);
        item->title_key = nz_match_key(title, strlen(title), NULL);
    }
    if (text) {
        item->text = strdup(text);
        item->text_key = nz_match_key(text, strlen(text), NULL);
    }
    if (url)
        item->url = strdup(url);
}

typedef struct fixture {
    ex_page *pages[4];
    sr_page sr[4];
} fixture;

/*
 * Page 0: the article (title, body, its url). Page 1: a listing with the
 * article's teaser (lead) and an unrelated headline. Page 2: the unrelated
 * story's article, and the first article's headline again.
 */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    for (int i = 0; i < 3; i++)
        f->pages[i] = calloc(1, sizeof(ex_page));
    set_item(f->pages[0], EX_ARTICLE, "국경무역박람회 개막…12개국 480개 기업 참가", body,
             "https://dspdaily.com/news/article.html?no=101");
    set_item(f->pages[1], EX_TEASER, "국경무역박람회 개막", lead, NULL);
    set_item(f->pages[1], EX_HEADLINE, "방천 전망대 새 단장 마치고 다시 문 열어", NULL,
             "https://dspdaily.com/news/article.html?no=102");
    set_item(f->pages[2], EX_ARTICLE, "방천 전망대 새 단장 마치고 다시 문 열어", other,
             "https://dspdaily.com/news/article.html?no=102");
    set_item(f->pages[2], EX_HEADLINE, "국경무역박람회 개막…12개국 480개 기업 참가", NULL, NULL);
    for (int i = 0; i < 3; i++)
        f->sr[i] = (sr_page){.page = f->pages[i],
                             .page_url = "https://dspdaily.com/news/list.html",
                             .topic = "storyd.pages",
                             .partition = i % 2,
                             .offset = 40 + i,
                             .seen_ms = MS + i * 1000};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 3; i++)
        ex_page_free(f->pages[i]);
    free(f);
    return 0;
}

/* Splits COPY text into rows; returns the count and the row starts (owned copy). */
static size_t count_char(const char *s, size_t len, char c)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == c;
    return n;
}

/* The value of column `col` of row `row` (0-based), copied into out. */
static void column(const sd_buf *buf, size_t row, size_t col, char *out, size_t outlen)
{
    const char *p = buf->data;
    for (size_t r = 0; r < row; r++)
        p = strchr(p, '\n') + 1;
    for (size_t c = 0; c < col; c++)
        p = strchr(p, '\t') + 1;
    size_t len = strcspn(p, "\t\n");
    assert_true(len < outlen);
    memcpy(out, p, len);
    out[len] = '\0';
}

static void test_every_item_becomes_a_sighting_in_order(void **state)
{
    fixture *f = *state;
    dd_engine *engine = dd_new(NULL);
    sr_rows *rows = sr_new();
    dd_begin(engine);
    assert_int_equal(sr_build(rows, engine, 7, f->sr, 3), 0);
    dd_commit(engine);
    assert_int_equal(sr_sighting_count(rows), 5);
    assert_int_equal(sr_next_seq(rows), 12);
    assert_string_equal(sr_first_seq_text(rows), "7");
    assert_string_equal(sr_last_seq_text(rows), "11");
    const sd_buf *s = sr_sighting_rows(rows);
    assert_int_equal(count_char(s->data, s->len, '\n'), 5);
    /* 23 columns: 22 tabs per row. */
    assert_int_equal(count_char(s->data, s->len, '\t'), 5 * 22);
    char value[256];
    column(s, 0, 0, value, sizeof(value));
    assert_string_equal(value, "7");
    column(s, 4, 0, value, sizeof(value));
    assert_string_equal(value, "11");
    column(s, 1, 9, value, sizeof(value));
    assert_string_equal(value, "teaser");
    column(s, 2, 6, value, sizeof(value));
    assert_string_equal(value, "41");
    /* A headline has no text: NULL hash and length. */
    column(s, 2, 11, value, sizeof(value));
    assert_string_equal(value, "\\N");
    column(s, 2, 12, value, sizeof(value));
    assert_string_equal(value, "\\N");
    /* seen_ms is the page's. */
    column(s, 3, 20, value, sizeof(value));
    assert_string_equal(value, "1733300002000");
    sr_free(rows);
    dd_free(engine);
}

static void test_same_story_shares_the_survivor_id(void **state)
{
    fixture *f = *state;
    dd_engine *engine = dd_new(NULL);
    sr_rows *rows = sr_new();
    dd_begin(engine);
    assert_int_equal(sr_build(rows, engine, 1, f->sr, 3), 0);
    dd_commit(engine);
    const sd_buf *s = sr_sighting_rows(rows);
    char article[32], teaser[32], headline_again[32], other_article[32], other_headline[32];
    column(s, 0, 1, article, sizeof(article));
    column(s, 1, 1, teaser, sizeof(teaser));
    column(s, 4, 1, headline_again, sizeof(headline_again));
    column(s, 2, 1, other_headline, sizeof(other_headline));
    column(s, 3, 1, other_article, sizeof(other_article));
    assert_string_equal(article, teaser);
    assert_string_equal(article, headline_again);
    assert_string_equal(other_headline, other_article);
    assert_string_not_equal(article, other_article);
    assert_int_equal(sr_created_count(rows), 2);
    /* created_story is t for the founders only. */
    char created[4];
    column(s, 0, 3, created, sizeof(created));
    assert_string_equal(created, "t");
    column(s, 1, 3, created, sizeof(created));
    assert_string_equal(created, "f");
    sr_free(rows);
    dd_free(engine);
}

static void test_links_name_their_reason(void **state)
{
    fixture *f = *state;
    dd_engine *engine = dd_new(NULL);
    sr_rows *rows = sr_new();
    dd_begin(engine);
    assert_int_equal(sr_build(rows, engine, 1, f->sr, 3), 0);
    dd_commit(engine);
    const sd_buf *links = sr_link_rows(rows);
    assert_true(links->len > 0);
    /* 5 columns per row. */
    size_t n = count_char(links->data, links->len, '\n');
    assert_int_equal(count_char(links->data, links->len, '\t'), n * 4);
    /* The teaser (seq 2) links by containment of its lead in the body. */
    assert_non_null(strstr(links->data, "2\t0\tprefix\t"));
    /* The other story's article (seq 4) links to its headline by url. */
    assert_non_null(strstr(links->data, "4\t0\turl\t1.000000\t"));
    sr_free(rows);
    dd_free(engine);
}

static void test_texts_are_staged_with_hash_and_key(void **state)
{
    fixture *f = *state;
    dd_engine *engine = dd_new(NULL);
    sr_rows *rows = sr_new();
    dd_begin(engine);
    assert_int_equal(sr_build(rows, engine, 1, f->sr, 3), 0);
    dd_commit(engine);
    const sd_buf *t = sr_text_rows(rows);
    /* Body, lead and the other body: three texts, four columns each. */
    assert_int_equal(count_char(t->data, t->len, '\n'), 3);
    assert_int_equal(count_char(t->data, t->len, '\t'), 9);
    char hash[64];
    column(t, 0, 1, hash, sizeof(hash));
    assert_int_equal(strlen(hash), 3 + 32); /* \\x and 16 bytes in hex */
    char sighting_hash[64];
    column(sr_sighting_rows(rows), 0, 11, sighting_hash, sizeof(sighting_hash));
    assert_string_equal(hash, sighting_hash);
    sr_free(rows);
    dd_free(engine);
}

/* An item that joins two stories merges them; the merge names the survivor at the batch end. */
static void test_merge_names_the_survivor(void **state)
{
    (void)state;
    ex_page *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)), *c = calloc(1, sizeof(*c));
    set_item(a, EX_TEASER, "훈춘 방천 전망대 재개장", lead, NULL);
    set_item(b, EX_HEADLINE, "국경무역박람회 개막…12개국 480개 기업 참가", NULL, NULL);
    /* The article carries b's title and a body a's lead is a prefix of. */
    set_item(c, EX_ARTICLE, "국경무역박람회 개막…12개국 480개 기업 참가", body, NULL);
    sr_page pages[3] = {
        {.page = a, .page_url = "u1", .topic = "t", .offset = 1, .seen_ms = MS},
        {.page = b, .page_url = "u2", .topic = "t", .offset = 2, .seen_ms = MS + 1},
        {.page = c, .page_url = "u3", .topic = "t", .offset = 3, .seen_ms = MS + 2},
    };
    dd_engine *engine = dd_new(NULL);
    sr_rows *rows = sr_new();
    dd_begin(engine);
    assert_int_equal(sr_build(rows, engine, 1, pages, 3), 0);
    dd_commit(engine);
    assert_int_equal(sr_created_count(rows), 2);
    assert_int_equal(sr_merge_count(rows), 1);
    const char *const *params = sr_merge_params(rows);
    char first[32], second[32], third[32];
    column(sr_sighting_rows(rows), 0, 1, first, sizeof(first));
    column(sr_sighting_rows(rows), 1, 1, second, sizeof(second));
    column(sr_sighting_rows(rows), 2, 1, third, sizeof(third));
    /* Every sighting names the survivor... */
    assert_string_equal(first, second);
    assert_string_equal(first, third);
    char survivor[40];
    snprintf(survivor, sizeof(survivor), "{%s}", first);
    assert_string_equal(params[1], survivor);
    /* ...and the alias is the other founder, merged by the third item at its time. */
    assert_string_not_equal(params[0], survivor);
    assert_string_equal(params[2], "{1733300000002}");
    assert_string_equal(params[3], "{3}");
    sr_free(rows);
    dd_free(engine);
    ex_page_free(a);
    ex_page_free(b);
    ex_page_free(c);
}

/* A rolled-back batch built again gives the same rows: what a replay after a lost COMMIT sends. */
static void test_rebuild_after_rollback_is_identical(void **state)
{
    fixture *f = *state;
    dd_engine *engine = dd_new(NULL);
    sr_rows *rows = sr_new();
    dd_begin(engine);
    assert_int_equal(sr_build(rows, engine, 1, f->sr, 1), 0);
    dd_commit(engine);
    dd_begin(engine);
    assert_int_equal(sr_build(rows, engine, 2, f->sr + 1, 2), 0);
    char *before = strdup(sr_sighting_rows(rows)->data);
    char *links_before = strdup(sr_link_rows(rows)->data);
    dd_rollback(engine);
    dd_begin(engine);
    assert_int_equal(sr_build(rows, engine, 2, f->sr + 1, 2), 0);
    dd_commit(engine);
    assert_string_equal(sr_sighting_rows(rows)->data, before);
    assert_string_equal(sr_link_rows(rows)->data, links_before);
    free(before);
    free(links_before);
    sr_free(rows);
    dd_free(engine);
}

/* Batch boundaries do not change what the engine answers (story_id_at_sighting). */
static void test_batch_boundaries_do_not_change_answers(void **state)
{
    fixture *f = *state;
    dd_engine *one = dd_new(NULL), *two = dd_new(NULL);
    sr_rows *all = sr_new(), *part = sr_new();
    dd_begin(one);
    assert_int_equal(sr_build(all, one, 1, f->sr, 3), 0);
    dd_commit(one);
    char answers[5][32];
    for (int i = 0; i < 5; i++)
        column(sr_sighting_rows(all), (size_t)i, 2, answers[i], sizeof(answers[i]));
    int64_t seq = 1;
    int row = 0;
    for (int p = 0; p < 3; p++) {
        dd_begin(two);
        assert_int_equal(sr_build(part, two, seq, f->sr + p, 1), 0);
        dd_commit(two);
        for (size_t i = 0; i < sr_sighting_count(part); i++, row++) {
            char answer[32];
            column(sr_sighting_rows(part), i, 2, answer, sizeof(answer));
            assert_string_equal(answer, answers[row]);
        }
        seq = sr_next_seq(part);
    }
    assert_int_equal(row, 5);
    assert_int_equal(seq, 6);
    sr_free(all);
    sr_free(part);
    dd_free(one);
    dd_free(two);
}

static void test_null_page_and_empty_batch(void **state)
{
    (void)state;
    dd_engine *engine = dd_new(NULL);
    sr_rows *rows = sr_new();
    sr_page failed = {.page = NULL, .page_url = "u", .topic = "t"};
    dd_begin(engine);
    assert_int_equal(sr_build(rows, engine, 5, &failed, 1), 0);
    dd_commit(engine);
    assert_int_equal(sr_sighting_count(rows), 0);
    assert_int_equal(sr_next_seq(rows), 5);
    assert_int_equal(sr_sighting_rows(rows)->len, 0);
    assert_string_equal(sr_merge_params(rows)[0], "{}");
    sr_free(rows);
    sr_free(NULL);
    dd_free(engine);
}

static void test_title_cut_rule(void **state)
{
    (void)state;
    ex_item item = {.cut = EX_CUT_PAGE_END};
    assert_true(sr_title_cut(&item));
    item.text = (char *)"x";
    assert_false(sr_title_cut(&item));
    item.text = NULL;
    item.cut = EX_CUT_SITE;
    assert_false(sr_title_cut(&item));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_every_item_becomes_a_sighting_in_order),
        T(test_same_story_shares_the_survivor_id),
        T(test_links_name_their_reason),
        T(test_texts_are_staged_with_hash_and_key),
        cmocka_unit_test(test_merge_names_the_survivor),
        T(test_rebuild_after_rollback_is_identical),
        T(test_batch_boundaries_do_not_change_answers),
        cmocka_unit_test(test_null_page_and_empty_batch),
        cmocka_unit_test(test_title_cut_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
