/*
 * The dedup engine: one test per link, merges, eviction, rollback and order
 * independence. Keys are written as nz_match_key would make them (folded,
 * without spaces or punctuation), from invented Korean text.
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
#include "dedup/engine.h"

/* A long invented body (about 600 characters) and pieces of it. */
static const char body_text[] =
    "연길시가 26일 동북아 국경무역박람회를 열었다 올해로 아홉 번째인 박람회에는 12개국 480개 "
    "기업이 참가해 농산물과 가공식품 전자제품과 관광 상품을 선보였다 주최 측은 첫날에만 3만 "
    "명이 다녀갔다고 밝혔다 행사장에는 러시아와 몽골 일본 기업의 전시관이 나란히 섰고 현장 "
    "계약도 잇따랐다 한 참가 기업 대표는 국경 도시의 물류가 빨라지면서 거래처를 넓힐 기회가 "
    "생겼다고 말했다 연길시는 박람회 기간 동안 무료 셔틀버스를 운행하고 통역 봉사자 200명을 "
    "배치했다 박람회는 30일까지 이어지며 마지막 날에는 우수 기업 시상식이 열린다 시 관계자는 "
    "내년에는 참가국을 15개국으로 늘리고 온라인 상담관도 따로 마련하겠다고 밝혔다 지역 "
    "상인들은 숙박과 음식점 매출이 평소의 두 배로 늘었다며 반겼다";

/* The byte length of at most max bytes of text, ending at a character boundary. */
static int utf8_cut(const char *text, int max)
{
    while (max > 0 && ((unsigned char)text[max] & 0xc0) == 0x80)
        max--;
    return max;
}

static char *key(const char *text)
{
    char *k = nz_match_key(text, strlen(text), NULL);
    assert_non_null(k);
    return k;
}

typedef struct fixture {
    dd_engine *engine;
    char *keys[16];
    int n_keys;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->engine = dd_new(NULL);
    *state = f;
    return f->engine ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    dd_free(f->engine);
    for (int i = 0; i < f->n_keys; i++)
        free(f->keys[i]);
    free(f);
    return 0;
}

static const char *k(fixture *f, const char *text)
{
    f->keys[f->n_keys] = key(text);
    return f->keys[f->n_keys++];
}

static dd_result add(fixture *f, const char *url, const char *title, const char *text, int64_t seen)
{
    dd_item item = {
        .url = url,
        .title = title,
        .title_key = title ? k(f, title) : NULL,
        .text_key = text ? k(f, text) : NULL,
        .seen_ms = seen,
    };
    dd_result r;
    assert_int_equal(dd_add(f->engine, &item, &r), 0);
    return r;
}

static bool has_reason(const dd_result *r, dd_reason reason)
{
    for (size_t i = 0; i < r->n_links; i++) {
        if (r->links[i].reason == reason)
            return true;
    }
    return false;
}

static void a_cut_lead_of_a_few_characters_links_nothing(void **state)
{
    fixture *f = *state;
    /* The crawler cut both pages in the middle of the last teaser's brand tag. */
    dd_result a = add(f, NULL, "연변 조선족자치주 창립 기념 행사 열려", "[인터", 1);
    dd_result b = add(f, NULL, "하얼빈 빙등제 관광객 역대 최다 기록", "[인터", 2);
    assert_true(a.created);
    assert_true(b.created);
    assert_int_not_equal(a.story, b.story);
    assert_false(has_reason(&b, DD_LINK_TEXT));
}

static void thresholds_change_for_later_items(void **state)
{
    fixture *f = *state;
    const char *title = "연길 국경무역박람회 개막";
    dd_result a = add(f, NULL, title, NULL, 1);
    dd_result b = add(f, NULL, title, NULL, 2);
    assert_int_equal(a.story, b.story);
    /* A SIGHUP raises the shortest title that may link: the same title no longer does. */
    dd_config stricter = dd_default_config;
    stricter.min_title_chars = 40;
    dd_set_thresholds(f->engine, &stricter);
    dd_result c = add(f, NULL, title, NULL, 3);
    assert_true(c.created);
    assert_int_not_equal(c.story, a.story);
    /* Back to the default, it links again. */
    dd_set_thresholds(f->engine, &dd_default_config);
    dd_result d = add(f, NULL, title, NULL, 4);
    assert_false(d.created);
    assert_true(has_reason(&d, DD_LINK_TITLE));
}

static void same_url_links(void **state)
{
    fixture *f = *state;
    dd_result a = add(f, "https://dspdaily.com/news/view.php?no=1", NULL, "짧은 본문 하나", 1);
    dd_result b = add(f, "https://dspdaily.com/news/view.php?no=1", NULL, "다른 모양의 본문", 2);
    assert_true(a.created);
    assert_false(b.created);
    assert_int_equal(a.story, b.story);
    assert_true(has_reason(&b, DD_LINK_URL));
}

static void exact_text_links_without_shingling(void **state)
{
    fixture *f = *state;
    dd_result a = add(f, NULL, NULL, body_text, 1);
    dd_result b = add(f, NULL, NULL, body_text, 2);
    assert_int_equal(a.story, b.story);
    assert_int_equal(b.n_links, 1);
    assert_int_equal(b.links[0].reason, DD_LINK_TEXT);
    /* The second copy added no index entry: the stream repeating itself costs a lookup. */
    dd_stats before = dd_get_stats(f->engine);
    add(f, NULL, NULL, body_text, 3);
    assert_int_equal(dd_get_stats(f->engine).index_entries, before.index_entries);
}

static void cut_lead_links_by_containment(void **state)
{
    fixture *f = *state;
    dd_result article =
        add(f, "https://dspdaily.com/news/view.php?no=2", "연길서 박람회 개막", body_text, 1);
    /* A lead: the first 150 or so characters, cut by the site with "..." (the extractor has
     * moved its brand tag out already). */
    char lead[sizeof(body_text) + 4];
    snprintf(lead, sizeof(lead), "%.*s...", utf8_cut(body_text, 420), body_text);
    dd_result teaser = add(f, NULL, "연길 국경무역박람회 열려 12개국 참가", lead, 2);
    assert_int_equal(teaser.story, article.story);
    assert_true(has_reason(&teaser, DD_LINK_PREFIX));
}

static void short_common_start_is_not_containment(void **state)
{
    fixture *f = *state;
    dd_result a = add(f, NULL, NULL, body_text, 1);
    /* Same first sentence, then a different story: not a prefix, not near-identical. */
    dd_result b = add(f, NULL, NULL,
                      "연길시가 26일 동북아 국경무역박람회를 열었다 그러나 이 글은 전혀 다른 "
                      "이야기로 이어지며 도심의 교통 체증과 주차 요금 인상에 대한 시민 반응을 "
                      "다룬다 시의회는 다음 달 조례 개정안을 심사할 예정이며 상인회는 반대 서명을 "
                      "모으고 있다",
                      2);
    assert_int_not_equal(a.story, b.story);
}

static void bare_headline_links_by_title(void **state)
{
    fixture *f = *state;
    dd_result a = add(f, NULL, "“참가자 3만 명” 연길 국경무역박람회 개막…러시아·몽골 기업 몰려",
                      body_text, 1);
    /* Quote styles and spacing differ; the folded titles are equal. */
    dd_result b = add(
        f, NULL, "\"참가자 3만 명\" 연길 국경무역박람회 개막... 러시아·몽골 기업 몰려", NULL, 2);
    assert_int_equal(a.story, b.story);
    assert_true(has_reason(&b, DD_LINK_TITLE));
}

static void short_titles_do_not_link(void **state)
{
    fixture *f = *state;
    dd_result a = add(f, NULL, "포토뉴스", NULL, 1);
    dd_result b = add(f, NULL, "포토뉴스", NULL, 2);
    assert_int_not_equal(a.story, b.story);
}

static void cut_headline_links_to_full_title(void **state)
{
    fixture *f = *state;
    dd_result full =
        add(f, NULL, "연변 청년 농구팀, 전국 아마추어 대회 준우승…결승서 1점 차 석패", NULL, 1);
    dd_item cut = {.title = "연변 청년 농구팀, 전국 아마추어 대회 준우승",
                   .title_key = k(f, "연변 청년 농구팀, 전국 아마추어 대회 준우승"),
                   .title_cut = true,
                   .seen_ms = 2};
    dd_result r;
    assert_int_equal(dd_add(f->engine, &cut, &r), 0);
    assert_int_equal(r.story, full.story);
    assert_true(has_reason(&r, DD_LINK_TITLE_PREFIX));
    /* A title sharing only its start, not marked cut, is a different headline. */
    dd_item other = cut;
    other.title_cut = false;
    other.title = "연변 청년 농구팀, 전국 대회 첫 경기서 역전승";
    other.title_key = k(f, other.title);
    assert_int_equal(dd_add(f->engine, &other, &r), 0);
    assert_int_not_equal(r.story, full.story);
}

static void edited_headline_keeps_variants(void **state)
{
    fixture *f = *state;
    dd_result a = add(f, "https://dspdaily.com/news/view.php?no=3", "박람회 개막…12개국 480개 기업",
                      body_text, 100);
    dd_result b = add(f, NULL, "연길 국경무역박람회 개막, 첫날 3만 명", body_text, 200);
    dd_result c = add(f, NULL, "박람회 개막…12개국 480개 기업", NULL, 300);
    assert_int_equal(a.story, b.story);
    assert_int_equal(a.story, c.story);
    size_t n;
    const dd_variant *v = dd_variants(f->engine, a.story, &n);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].title, "박람회 개막…12개국 480개 기업");
    assert_int_equal(v[0].first_seen, 100);
    assert_int_equal(v[0].last_seen, 300);
    assert_string_equal(v[1].title, "연길 국경무역박람회 개막, 첫날 3만 명");
    assert_int_equal(v[1].first_seen, 200);
}

static void other_brand_tag_links(void **state)
{
    fixture *f = *state;
    char a_text[2048], b_text[2048];
    snprintf(a_text, sizeof(a_text), "%s", body_text);
    /* The extractor moves the tag out of the text; even left in, the folded keys differ only
     * there, and the rest links by similarity. */
    snprintf(b_text, sizeof(b_text), "인터내셔널포커스 %s", body_text);
    dd_result a = add(f, "https://dspdaily.com/news/view.php?no=4", NULL, a_text, 1);
    dd_result b = add(f, "https://www.otherhost.example/a/4", NULL, b_text, 2);
    assert_int_equal(a.story, b.story);
    assert_true(has_reason(&b, DD_LINK_MINHASH));
}

static void near_identical_bodies_link_by_minhash(void **state)
{
    fixture *f = *state;
    /* A sentence dropped and particles edited: neither equal nor a prefix. */
    char edited[2048];
    snprintf(edited, sizeof(edited), "%s", body_text);
    char *drop = strstr(edited, "한 참가 기업 대표는");
    char *end = strstr(edited, "연길시는 박람회 기간");
    assert_non_null(drop);
    assert_non_null(end);
    memmove(drop, end, strlen(end) + 1);
    char *particle = strstr(edited, "시 관계자는");
    assert_non_null(particle);
    memcpy(particle, "시 관계자가", strlen("시 관계자가"));
    dd_result a = add(f, NULL, NULL, body_text, 1);
    dd_result b = add(f, NULL, NULL, edited, 2);
    assert_int_equal(a.story, b.story);
    assert_true(has_reason(&b, DD_LINK_MINHASH));
    assert_true(b.links[0].score >= dd_default_config.min_similarity);
}

static void different_articles_on_one_event_stay_apart(void **state)
{
    fixture *f = *state;
    dd_result a = add(f, NULL, "연길서 국경무역박람회 개막", body_text, 1);
    dd_result b = add(f, NULL, "박람회 기간 연길 숙박업소 만실…바가지 요금 단속",
                      "국경무역박람회가 열린 연길시에서 숙박업소 대부분이 만실을 기록했다 시는 "
                      "일부 업소가 평소의 세 배가 넘는 요금을 받는다는 민원이 잇따르자 단속반을 "
                      "꾸려 현장 점검에 나섰다 단속반은 요금표를 게시하지 않은 업소 12곳에 "
                      "시정을 명령했고 관광객 신고 센터도 운영한다고 밝혔다 시 관계자는 박람회가 "
                      "끝날 때까지 점검을 이어가겠다고 말했다",
                      2);
    assert_int_not_equal(a.story, b.story);
}

static void merge_keeps_smaller_id_and_alias_resolves(void **state)
{
    fixture *f = *state;
    dd_result a = add(f, NULL, "첫 번째 이야기의 제목입니다", NULL, 1);
    dd_result b = add(f, "https://dspdaily.com/news/view.php?no=9", NULL, body_text, 2);
    assert_int_not_equal(a.story, b.story);
    /* New evidence: the article page carries the first story's title. */
    dd_result c =
        add(f, "https://dspdaily.com/news/view.php?no=9", "첫 번째 이야기의 제목입니다", NULL, 3);
    uint64_t survivor = a.story < b.story ? a.story : b.story;
    uint64_t alias = a.story < b.story ? b.story : a.story;
    assert_int_equal(c.story, survivor);
    assert_int_equal(c.n_aliases, 1);
    assert_int_equal(c.aliases[0], alias);
    assert_int_equal(dd_resolve(f->engine, alias), survivor);
    assert_int_equal(dd_resolve(f->engine, survivor), survivor);
    dd_stats stats = dd_get_stats(f->engine);
    assert_int_equal(stats.stories, 1);
    assert_int_equal(stats.aliases, 1);
}

static void eviction_drops_old_stories(void **state)
{
    fixture *f = *state;
    dd_result old = add(f, NULL, "오래된 이야기의 제목입니다", NULL, 100);
    dd_result recent = add(f, NULL, "새로운 이야기의 제목입니다", NULL, 1000);
    dd_stats before = dd_get_stats(f->engine);
    assert_int_equal(dd_evict(f->engine, 500), 1);
    assert_int_equal(dd_resolve(f->engine, old.story), 0);
    assert_int_equal(dd_resolve(f->engine, recent.story), recent.story);
    dd_stats after = dd_get_stats(f->engine);
    assert_int_equal(after.stories, 1);
    assert_true(after.index_entries < before.index_entries);
    /* The evicted title no longer links: it starts a new story. */
    dd_result again = add(f, NULL, "오래된 이야기의 제목입니다", NULL, 1100);
    assert_true(again.created);
}

static void rollback_undoes_a_batch(void **state)
{
    fixture *f = *state;
    dd_result a = add(f, NULL, "남아 있을 이야기의 제목", body_text, 1);
    dd_stats committed = dd_get_stats(f->engine);
    dd_begin(f->engine);
    dd_result b = add(f, NULL, "배치 안에서 생긴 다른 이야기", "전혀 다른 짧은 본문입니다", 2);
    dd_result c =
        add(f, "https://dspdaily.com/news/view.php?no=77", "남아 있을 이야기의 제목", NULL, 3);
    assert_true(b.created);
    assert_int_equal(c.story, a.story);
    dd_rollback(f->engine);
    dd_stats after = dd_get_stats(f->engine);
    assert_int_equal(after.stories, committed.stories);
    assert_int_equal(after.index_entries, committed.index_entries);
    assert_int_equal(dd_resolve(f->engine, b.story), 0);
    size_t n;
    const dd_variant *v = dd_variants(f->engine, a.story, &n);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].last_seen, 1);
    /* The url added in the rolled-back batch is unknown again. */
    dd_result d = add(f, "https://dspdaily.com/news/view.php?no=77", NULL, "새 본문", 4);
    assert_true(d.created);
    /* And a committed batch stays. */
    dd_begin(f->engine);
    dd_result e = add(f, NULL, "커밋될 이야기의 제목입니다", NULL, 5);
    dd_commit(f->engine);
    assert_int_equal(dd_resolve(f->engine, e.story), e.story);
}

static void rollback_undoes_a_merge(void **state)
{
    fixture *f = *state;
    dd_result a = add(f, NULL, "첫 번째 이야기의 제목입니다", NULL, 1);
    dd_result b = add(f, "https://dspdaily.com/news/view.php?no=9", NULL, body_text, 2);
    dd_begin(f->engine);
    add(f, "https://dspdaily.com/news/view.php?no=9", "첫 번째 이야기의 제목입니다", NULL, 3);
    assert_int_equal(dd_get_stats(f->engine).stories, 1);
    dd_rollback(f->engine);
    assert_int_equal(dd_get_stats(f->engine).stories, 2);
    assert_int_equal(dd_resolve(f->engine, a.story), a.story);
    assert_int_equal(dd_resolve(f->engine, b.story), b.story);
}

/* ---- Order independence -------------------------------------------------------------------- */

typedef struct input {
    const char *url, *title, *text;
} input;

/* A group label per item: items with equal labels ended in one story. */
static void group(const input *items, const int *order, size_t n, int *labels)
{
    dd_engine *engine = dd_new(NULL);
    uint64_t stories[32];
    char *keys[64];
    size_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        const input *in = &items[order[i]];
        dd_item item = {.url = in->url, .title = in->title, .seen_ms = (int64_t)i};
        if (in->title)
            item.title_key = keys[nk++] = key(in->title);
        if (in->text)
            item.text_key = keys[nk++] = key(in->text);
        dd_result r;
        assert_int_equal(dd_add(engine, &item, &r), 0);
        stories[order[i]] = r.story;
    }
    /* Label = index of the first item (in input numbering) with the same final story. */
    for (size_t i = 0; i < n; i++) {
        uint64_t s = dd_resolve(engine, stories[i]);
        labels[i] = (int)i;
        for (size_t j = 0; j < i; j++) {
            if (dd_resolve(engine, stories[j]) == s) {
                labels[i] = labels[j];
                break;
            }
        }
    }
    for (size_t i = 0; i < nk; i++)
        free(keys[i]);
    dd_free(engine);
}

static void shuffled_input_gives_the_same_grouping(void **state)
{
    (void)state;
    char lead[sizeof(body_text) + 4], cut[sizeof(body_text)];
    snprintf(lead, sizeof(lead), "%.*s...", utf8_cut(body_text, 450), body_text);
    snprintf(cut, sizeof(cut), "%.*s", utf8_cut(body_text, 900), body_text);
    const input items[] = {
        {"https://dspdaily.com/news/view.php?no=1", "연길서 국경무역박람회 개막", body_text},
        {NULL, "연길서 국경무역박람회 개막", lead},
        {NULL, "연길서 국경무역박람회 개막", NULL},
        {"https://dspdaily.com/news/view.php?no=5", NULL, cut},
        {NULL, "박람회 첫날 3만 명 다녀가", lead},
        {NULL, "전혀 다른 이야기의 제목입니다", NULL},
        {"https://dspdaily.com/news/view.php?no=6", "전혀 다른 이야기의 제목입니다",
         "도심의 교통 체증과 주차 요금 인상에 대한 시민 반응을 다룬 글이다 시의회는 다음 달 "
         "조례 개정안을 심사할 예정이며 상인회는 반대 서명을 모으고 있다"},
        {NULL, "세 번째 이야기 제목입니다", NULL},
    };
    const size_t n = sizeof(items) / sizeof(items[0]);
    int order[8], reference[8], labels[8];
    for (size_t i = 0; i < n; i++)
        order[i] = (int)i;
    group(items, order, n, reference);
    /* Items 0-4 are one story, 5-6 another, 7 alone. */
    for (size_t i = 1; i < 5; i++)
        assert_int_equal(reference[i], reference[0]);
    assert_int_equal(reference[6], reference[5]);
    assert_int_not_equal(reference[5], reference[0]);
    assert_int_equal(reference[7], 7);
    unsigned seed = 12345;
    for (int round = 0; round < 200; round++) {
        for (size_t i = n - 1; i > 0; i--) {
            seed = seed * 1103515245u + 12345u;
            size_t j = (seed >> 16) % (i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        group(items, order, n, labels);
        assert_memory_equal(labels, reference, n * sizeof(int));
    }
}

/*
 * A body, its lead, and a near-copy of the lead (a brand word left in front): every order
 * gives one story. Once the engine kept only the longer of two texts with the same start,
 * and the near-copy of the lead was verified against the body's signature.
 */
static void lead_near_copy_joins_in_every_order(void **state)
{
    (void)state;
    char lead[sizeof(body_text) + 4], copy[sizeof(body_text) + 40];
    snprintf(lead, sizeof(lead), "%.*s...", utf8_cut(body_text, 420), body_text);
    snprintf(copy, sizeof(copy), "인터내셔널포커스 %.*s...", utf8_cut(body_text, 420), body_text);
    const input items[] = {{NULL, NULL, body_text}, {NULL, NULL, lead}, {NULL, NULL, copy}};
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                     {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int o = 0; o < 6; o++) {
        int labels[3];
        group(items, orders[o], 3, labels);
        assert_int_equal(labels[1], labels[0]);
        assert_int_equal(labels[2], labels[0]);
    }
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(same_url_links),
        T(exact_text_links_without_shingling),
        T(cut_lead_links_by_containment),
        T(short_common_start_is_not_containment),
        T(bare_headline_links_by_title),
        T(short_titles_do_not_link),
        T(cut_headline_links_to_full_title),
        T(edited_headline_keeps_variants),
        T(other_brand_tag_links),
        T(near_identical_bodies_link_by_minhash),
        T(different_articles_on_one_event_stay_apart),
        T(merge_keeps_smaller_id_and_alias_resolves),
        T(eviction_drops_old_stories),
        T(rollback_undoes_a_batch),
        T(rollback_undoes_a_merge),
        T(thresholds_change_for_later_items),
        T(a_cut_lead_of_a_few_characters_links_nothing),
        cmocka_unit_test(shuffled_input_gives_the_same_grouping),
        cmocka_unit_test(lead_near_copy_joins_in_every_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
