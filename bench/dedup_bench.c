/*
 * The dedup engine at scale, on synthetic items: throughput and memory per story.
 *
 * usage: dedup_bench [--stories N] [--window W] [--no-exact] [--seed S] [--report-every N]
 *
 * N distinct stories of random Korean-like text (syllables drawn from a table with a skewed,
 * Zipf-like distribution; bodies of 400-3000 characters, titles of 20-40) each appear as one
 * article (its url, title and body), two teasers (title and lead: the first 150 characters
 * and "..."), three bare headlines, and for 10% of the stories a re-tagged copy of the article
 * ("[인터내셔널포커스] " in front of the body, another url). The items of W consecutive stories
 * are shuffled together, then fed to one engine with seen_ms increasing. Keys are computed
 * (nz_match_key) before the timed part; the engine's time is measured apart.
 * --no-exact makes the second teaser's lead 1-19 characters shorter than the first, so no
 * text repeats exactly and nothing is resolved by the exact-text hash lookup.
 * Prints items/s (engine only, and with key computation), how each item was linked (by its
 * strongest link), wrong splits and merges against the truth, and dd_get_stats() with bytes
 * per story. Run it pinned to one core (bench/dedup_bench.sh uses taskset -c 0).
 * A benchmark, not a test: it asserts nothing and is never run by CTest.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/normalize.h"
#include "dedup/engine.h"

enum { IT_ARTICLE, IT_TEASER1, IT_TEASER2, IT_HEADLINE, IT_RETAG };

typedef struct story {
    char *title, *body, *lead1, *lead2, *tagged; /* display text */
    char *title_key, *body_key, *lead1_key, *lead2_key, *tagged_key;
    char url[64], url2[64];
} story;

typedef struct work {
    uint32_t story; /* index in the window */
    uint8_t kind;
} work;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_next(uint64_t *state)
{
    /* splitmix64: fast, deterministic, good enough for text. */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *state, uint32_t n)
{
    return (uint32_t)(((rng_next(state) >> 32) * (uint64_t)n) >> 32);
}

/* 1200 Hangul syllables; drawn with a skew so that a few are common, as in real text. */
#define N_SYLLABLES 1200
static uint32_t syllables[N_SYLLABLES];

static void init_syllables(void)
{
    uint64_t state = 42;
    for (int i = 0; i < N_SYLLABLES; i++) {
        uint32_t initial = rng_below(&state, 19), medial = rng_below(&state, 21);
        uint32_t final = rng_below(&state, 3) == 0 ? rng_below(&state, 28) : 0;
        syllables[i] = 0xac00 + (initial * 21 + medial) * 28 + final;
    }
}

static char *put_utf8(char *p, uint32_t cp)
{
    if (cp < 0x80) {
        *p++ = (char)cp;
    } else if (cp < 0x800) {
        *p++ = (char)(0xc0 | (cp >> 6));
        *p++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *p++ = (char)(0xe0 | (cp >> 12));
        *p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *p++ = (char)(0x80 | (cp & 0x3f));
    }
    return p;
}

static uint32_t syllable(uint64_t *state)
{
    /* u^2 skews towards the front of the table. */
    double u = (double)(rng_next(state) >> 11) / 9007199254740992.0;
    return syllables[(int)(u * u * N_SYLLABLES)];
}

/* Random text of `chars` characters: words of 1-4 syllables, sentences ending "다. ". */
static char *random_text(uint64_t *state, size_t chars, bool sentences)
{
    char *out = malloc(chars * 3 + 8), *p = out;
    size_t n = 0;
    int words = 0;
    while (n < chars) {
        int len = 1 + (int)rng_below(state, 4);
        for (int i = 0; i < len && n < chars; i++, n++)
            p = put_utf8(p, syllable(state));
        if (n >= chars)
            break;
        if (sentences && ++words >= 8 && rng_below(state, 6) == 0 && n + 3 < chars) {
            p = put_utf8(p, 0xb2e4); /* 다 */
            *p++ = '.';
            n += 2;
            words = 0;
        }
        *p++ = ' ';
        n++;
    }
    *p = '\0';
    return out;
}

/* The first `chars` characters of text and "...". */
static char *lead_of(const char *text, size_t chars)
{
    size_t at = 0, n = 0, len = strlen(text);
    while (at < len && n < chars) {
        unsigned char c = (unsigned char)text[at];
        at += c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        n++;
    }
    char *out = malloc(at + 4);
    memcpy(out, text, at);
    memcpy(out + at, "...", 4);
    return out;
}

static char *key(const char *s)
{
    char *k = nz_match_key(s, strlen(s), NULL);
    if (!k) {
        fprintf(stderr, "dedup_bench: out of memory\n");
        exit(1);
    }
    return k;
}

static void story_make(story *st, uint64_t seed, uint64_t index, bool no_exact)
{
    uint64_t state = seed ^ (index * 0xd1342543de82ef95ULL);
    st->title = random_text(&state, 20 + rng_below(&state, 21), false);
    st->body = random_text(&state, 400 + rng_below(&state, 2601), true);
    st->lead1 = lead_of(st->body, 150);
    st->lead2 = no_exact ? lead_of(st->body, 150 - 1 - rng_below(&state, 19)) : NULL;
    st->tagged = NULL;
    if (rng_below(&state, 10) == 0) {
        size_t len = strlen(st->body);
        st->tagged = malloc(len + 32);
        memcpy(st->tagged, "[인터내셔널포커스] ", strlen("[인터내셔널포커스] "));
        memcpy(st->tagged + strlen("[인터내셔널포커스] "), st->body, len + 1);
    }
    snprintf(st->url, sizeof(st->url), "https://dspdaily.com/news/view.php?no=%llu",
             (unsigned long long)index);
    snprintf(st->url2, sizeof(st->url2), "https://example.org/world/%llu.html",
             (unsigned long long)index);
    st->title_key = key(st->title);
    st->body_key = key(st->body);
    st->lead1_key = key(st->lead1);
    st->lead2_key = st->lead2 ? key(st->lead2) : NULL;
    st->tagged_key = st->tagged ? key(st->tagged) : NULL;
}

static void story_free(story *st)
{
    free(st->title);
    free(st->body);
    free(st->lead1);
    free(st->lead2);
    free(st->tagged);
    free(st->title_key);
    free(st->body_key);
    free(st->lead1_key);
    free(st->lead2_key);
    free(st->tagged_key);
}

static dd_item item_of(const story *st, int kind, int64_t seen_ms)
{
    dd_item it = {.title = st->title, .title_key = st->title_key, .seen_ms = seen_ms};
    switch (kind) {
    case IT_ARTICLE:
        it.url = st->url;
        it.text_key = st->body_key;
        break;
    case IT_TEASER1:
        it.text_key = st->lead1_key;
        break;
    case IT_TEASER2:
        it.text_key = st->lead2_key ? st->lead2_key : st->lead1_key;
        break;
    case IT_HEADLINE:
        break;
    case IT_RETAG:
        it.url = st->url2;
        it.text_key = st->tagged_key;
        break;
    }
    return it;
}

static void usage(void)
{
    fprintf(stderr, "usage: dedup_bench [--stories N] [--window W] [--no-exact] [--seed S] "
                    "[--report-every N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    size_t n_stories = 100000, window = 1000, report_every = 0;
    uint64_t seed = 20240517;
    bool no_exact = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-exact") == 0)
            no_exact = true;
        else if (i + 1 >= argc)
            usage();
        else if (strcmp(argv[i], "--stories") == 0)
            n_stories = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--window") == 0)
            window = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--report-every") == 0)
            report_every = strtoull(argv[++i], NULL, 10);
        else
            usage();
    }
    if (!n_stories || !window)
        usage();
    init_syllables();

    dd_engine *engine = dd_new(NULL);
    uint64_t *truth =
        calloc(n_stories, sizeof(uint64_t)); /* story -> engine id of its first item */
    story *stories = calloc(window, sizeof(story));
    work *items = malloc(window * 7 * sizeof(work));
    if (!engine || !truth || !stories || !items) {
        fprintf(stderr, "dedup_bench: out of memory\n");
        return 1;
    }
    uint64_t order_state = seed * 31 + 7;
    size_t n_items = 0, text_items = 0, by_reason[DD_LINK_MINHASH + 2] = {0};
    size_t splits = 0, merges = 0, created = 0;
    double t_engine = 0, t_keys = 0, t_start = now_seconds();
    int64_t seen_ms = 1700000000000;

    for (size_t base = 0; base < n_stories; base += window) {
        size_t count = n_stories - base < window ? n_stories - base : window, n_work = 0;
        double t0 = now_seconds();
        for (size_t s = 0; s < count; s++) {
            story_make(&stories[s], seed, base + s, no_exact);
            static const uint8_t kinds[] = {IT_ARTICLE,  IT_TEASER1,  IT_TEASER2,
                                            IT_HEADLINE, IT_HEADLINE, IT_HEADLINE};
            for (size_t k = 0; k < sizeof(kinds); k++)
                items[n_work++] = (work){.story = (uint32_t)s, .kind = kinds[k]};
            if (stories[s].tagged)
                items[n_work++] = (work){.story = (uint32_t)s, .kind = IT_RETAG};
        }
        for (size_t i = n_work; i > 1; i--) {
            size_t j = rng_below(&order_state, (uint32_t)i);
            work tmp = items[i - 1];
            items[i - 1] = items[j];
            items[j] = tmp;
        }
        double t1 = now_seconds();
        t_keys += t1 - t0;
        for (size_t i = 0; i < n_work; i++) {
            const story *st = &stories[items[i].story];
            dd_item it = item_of(st, items[i].kind, seen_ms++);
            dd_result r;
            if (dd_add(engine, &it, &r) != 0) {
                fprintf(stderr, "dedup_bench: out of memory in the engine after %zu items\n",
                        n_items);
                return 1;
            }
            /* Outside the hot path's cost, but inside the timed loop: cheap bookkeeping. */
            n_items++;
            text_items += it.text_key != NULL;
            created += r.created;
            merges += r.n_aliases;
            int strongest = DD_LINK_MINHASH + 1; /* none */
            for (size_t l = 0; l < r.n_links; l++) {
                if ((int)r.links[l].reason < strongest)
                    strongest = (int)r.links[l].reason;
            }
            /* Exact text counts when it fired at all: it is what skips the shingling. */
            for (size_t l = 0; l < r.n_links; l++) {
                if (r.links[l].reason == DD_LINK_TEXT)
                    strongest = DD_LINK_TEXT;
            }
            by_reason[strongest]++;
            uint64_t *want = &truth[base + items[i].story];
            if (!*want)
                *want = r.story;
            else if (dd_resolve(engine, *want) != r.story)
                splits++;
        }
        t_engine += now_seconds() - t1;
        for (size_t s = 0; s < count; s++)
            story_free(&stories[s]);
        if (report_every && (base + count) % report_every == 0) {
            dd_stats st = dd_get_stats(engine);
            fprintf(stderr, "  %zu stories, %zu items: %.0f items/s, %zu bytes (%.0f per story)\n",
                    base + count, n_items, (double)n_items / t_engine, st.bytes,
                    (double)st.bytes / (double)st.stories);
        }
    }
    double wall = now_seconds() - t_start;
    dd_stats st = dd_get_stats(engine);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    printf("stories %zu, items %zu (%zu with text), window %zu, %s\n", n_stories, n_items,
           text_items, window,
           no_exact ? "no exact text repeats (--no-exact)" : "second teaser repeats the first");
    printf("engine: %.2f s, %.0f items/s (%.2f us/item); with keys and generation: %.2f s, "
           "%.0f items/s\n",
           t_engine, (double)n_items / t_engine, t_engine * 1e6 / (double)n_items, wall,
           (double)n_items / wall);
    printf("linked by (exact text when it fired, else the strongest link):");
    for (int r = 0; r <= DD_LINK_MINHASH; r++)
        printf(" %s %zu", dd_reason_name((dd_reason)r), by_reason[r]);
    printf(" new %zu\n", by_reason[DD_LINK_MINHASH + 1]);
    printf("resolved by the exact-text hash (no shingling): %zu of %zu items with text (%.1f%%)\n",
           by_reason[DD_LINK_TEXT], text_items,
           100.0 * (double)by_reason[DD_LINK_TEXT] / (double)text_items);
    printf("truth: stories created %zu (want %zu), later splits %zu, merges %zu\n", created,
           n_stories, splits, merges);
    printf("stats: stories %zu, aliases %zu, index entries %zu, bytes %zu = %.0f bytes/story "
           "(%.2f GiB); max RSS %.2f GiB\n",
           st.stories, st.aliases, st.index_entries, st.bytes,
           (double)st.bytes / (double)(st.stories ? st.stories : 1),
           (double)st.bytes / 1073741824.0, (double)ru.ru_maxrss / 1048576.0);
    dd_free(engine);
    free(truth);
    free(stories);
    free(items);
    return 0;
}
