/*
 * Scores the dedup engine on a near-duplicate pair set (bench/neardup_set.py).
 *
 * usage: dedup_eval [--gram N] [--bands B] [--rows R] [--sim X] [--anchor N]
 *                   [--min-prefix N] [--min-minhash N] [--summary] [--misses N] PAIRS.jsonl
 *
 * Each pair gets a fresh engine: a is added, then b (keys from nz_match_key, no url, so a
 * link can only come from the text or the title); the pair merged when both resolve to one
 * story. The same again with b first: the verdict must not depend on the order.
 * Prints per kind the pairs, how many merged (recall for kinds that must merge, the
 * false-merge rate for kinds that must not), the link reasons of the second item, and
 * overall precision, recall and F1, with the estimated Jaccard similarity of the two texts
 * (min/mean/max: how close a kind comes to the threshold). Kinds named dev_* (every pair of
 * labelled corpus items) are scored apart. --summary prints one line for the tuning grid.
 * A benchmark, not a test: it asserts nothing and is never run by CTest.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/normalize.h"
#include "dedup/engine.h"
#include "dedup/minhash.h"

#define MAX_KINDS 64
#define N_REASONS (DD_LINK_MINHASH + 1)

typedef struct side {
    char *title, *text, *title_key, *text_key;
    bool title_cut;
} side;

typedef struct kind_stats {
    char name[48];
    bool same;
    size_t pairs, merged, mismatched;
    size_t reasons[N_REASONS]; /* pairs whose second item linked by this reason (a then b) */
    size_t n_sim;              /* pairs with two shingled texts */
    double sim_min, sim_max, sim_sum;
    bool dev; /* dev_* kinds: labelled corpus items, scored apart */
} kind_stats;

static size_t chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* The estimated Jaccard similarity of two texts' shingles, or -1 when one has none. */
static double text_similarity(const dd_config *cfg, const char *a, const char *b)
{
    mh_signature sa, sb;
    if (!a || !b || mh_sign(a, strlen(a), cfg->gram, &sa) == 0 ||
        mh_sign(b, strlen(b), cfg->gram, &sb) == 0)
        return -1;
    return mh_similarity(&sa, &sb);
}

static char *key_of(const char *s)
{
    if (!s)
        return NULL;
    char *key = nz_match_key(s, strlen(s), NULL);
    if (!key) {
        fprintf(stderr, "dedup_eval: out of memory\n");
        exit(1);
    }
    return key;
}

static char *dup_or_null(const json_t *v)
{
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static void side_load(side *s, const json_t *obj)
{
    memset(s, 0, sizeof(*s));
    s->title = dup_or_null(json_object_get(obj, "title"));
    s->text = dup_or_null(json_object_get(obj, "text"));
    s->title_cut = json_is_true(json_object_get(obj, "title_cut"));
    s->title_key = key_of(s->title);
    s->text_key = key_of(s->text);
}

static void side_free(side *s)
{
    free(s->title);
    free(s->text);
    free(s->title_key);
    free(s->text_key);
}

static dd_item item_of(const side *s, int64_t seen_ms)
{
    return (dd_item){.url = NULL,
                     .title = s->title,
                     .title_key = s->title_key,
                     .text_key = s->text_key,
                     .title_cut = s->title_cut,
                     .seen_ms = seen_ms};
}

/* Adds first then second to a fresh engine; returns whether they share a story. */
static bool run_pair(const dd_config *cfg, const side *first, const side *second, unsigned *reasons)
{
    dd_engine *e = dd_new(cfg);
    if (!e) {
        fprintf(stderr, "dedup_eval: out of memory\n");
        exit(1);
    }
    dd_result r1, r2;
    dd_item i1 = item_of(first, 1000), i2 = item_of(second, 2000);
    if (dd_add(e, &i1, &r1) != 0 || dd_add(e, &i2, &r2) != 0) {
        fprintf(stderr, "dedup_eval: dd_add failed\n");
        exit(1);
    }
    bool merged = dd_resolve(e, r1.story) == dd_resolve(e, r2.story);
    *reasons = 0;
    for (size_t i = 0; i < r2.n_links; i++)
        *reasons |= 1u << r2.links[i].reason;
    dd_free(e);
    return merged;
}

static double ratio(size_t num, size_t den)
{
    return den ? (double)num / (double)den : 0.0;
}

static void usage(void)
{
    fprintf(stderr, "usage: dedup_eval [--gram N] [--bands B] [--rows R] [--sim X] [--anchor N]\n"
                    "                  [--min-prefix N] [--min-minhash N] [--summary] "
                    "[--misses N] PAIRS.jsonl\n");
    exit(2);
}

static bool is_default(const dd_config *c)
{
    const dd_config *d = &dd_default_config;
    return c->gram == d->gram && c->bands == d->bands && c->rows == d->rows &&
           c->min_similarity == d->min_similarity && c->anchor_chars == d->anchor_chars &&
           c->min_prefix_chars == d->min_prefix_chars &&
           c->min_minhash_chars == d->min_minhash_chars;
}

static void print_side(const char *label, const side *s)
{
    const char *text = s->text ? s->text : "(none)";
    size_t len = strlen(text), shown = len < 120 ? len : 120;
    while (shown < len && ((unsigned char)text[shown] & 0xc0) == 0x80)
        shown--;
    printf("    %s title=%s%s text=%.*s%s\n", label, s->title ? s->title : "(none)",
           s->title_cut ? " (cut)" : "", (int)shown, text, shown < len ? "..." : "");
}

typedef struct totals {
    size_t tp, fn, fp, tn, mismatched;
    double precision, recall, f1;
} totals;

static totals sum_up(const kind_stats *kinds, size_t n_kinds, bool dev)
{
    totals t = {0};
    for (size_t k = 0; k < n_kinds; k++) {
        if (kinds[k].dev != dev)
            continue;
        if (kinds[k].same) {
            t.tp += kinds[k].merged;
            t.fn += kinds[k].pairs - kinds[k].merged;
        } else {
            t.fp += kinds[k].merged;
            t.tn += kinds[k].pairs - kinds[k].merged;
        }
        t.mismatched += kinds[k].mismatched;
    }
    t.precision = ratio(t.tp, t.tp + t.fp);
    t.recall = ratio(t.tp, t.tp + t.fn);
    t.f1 = t.precision + t.recall > 0 ? 2 * t.precision * t.recall / (t.precision + t.recall) : 0;
    return t;
}

int main(int argc, char **argv)
{
    dd_config cfg = dd_default_config;
    bool summary = false;
    long misses = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--summary") == 0)
            summary = true;
        else if (!has_value && strncmp(a, "--", 2) == 0)
            usage();
        else if (strcmp(a, "--gram") == 0)
            cfg.gram = atoi(argv[++i]);
        else if (strcmp(a, "--bands") == 0)
            cfg.bands = atoi(argv[++i]);
        else if (strcmp(a, "--rows") == 0)
            cfg.rows = atoi(argv[++i]);
        else if (strcmp(a, "--sim") == 0)
            cfg.min_similarity = atof(argv[++i]);
        else if (strcmp(a, "--anchor") == 0)
            cfg.anchor_chars = (size_t)atol(argv[++i]);
        else if (strcmp(a, "--min-prefix") == 0)
            cfg.min_prefix_chars = (size_t)atol(argv[++i]);
        else if (strcmp(a, "--min-minhash") == 0)
            cfg.min_minhash_chars = (size_t)atol(argv[++i]);
        else if (strcmp(a, "--misses") == 0)
            misses = atol(argv[++i]);
        else if (a[0] == '-')
            usage();
        else
            path = a;
    }
    if (!path || cfg.bands < 1 || cfg.rows < 1 || cfg.bands * cfg.rows > 64 || cfg.gram < 1 ||
        cfg.gram > 16)
        usage();
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }

    kind_stats kinds[MAX_KINDS];
    size_t n_kinds = 0, line_no = 0, shown = 0;
    /* The weakest positive only MinHash linked, the closest shingled negative (near-dup). */
    double mh_pos_min = -1, neg_max = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        line_no++;
        json_error_t err;
        json_t *pair = json_loads(line, 0, &err);
        const char *kind = pair ? json_string_value(json_object_get(pair, "kind")) : NULL;
        if (!kind || !json_is_object(json_object_get(pair, "a")) ||
            !json_is_object(json_object_get(pair, "b"))) {
            fprintf(stderr, "%s:%zu: not a pair\n", path, line_no);
            json_decref(pair);
            continue;
        }
        bool same = json_is_true(json_object_get(pair, "same"));
        size_t k = 0;
        while (k < n_kinds && strcmp(kinds[k].name, kind) != 0)
            k++;
        if (k == n_kinds) {
            if (n_kinds == MAX_KINDS) {
                fprintf(stderr, "dedup_eval: too many kinds\n");
                return 1;
            }
            memset(&kinds[k], 0, sizeof(kinds[k]));
            snprintf(kinds[k].name, sizeof(kinds[k].name), "%s", kind);
            kinds[k].same = same;
            kinds[k].dev = strncmp(kind, "dev_", 4) == 0;
            n_kinds++;
        }
        side a, b;
        side_load(&a, json_object_get(pair, "a"));
        side_load(&b, json_object_get(pair, "b"));
        unsigned reasons_ab, reasons_ba;
        bool ab = run_pair(&cfg, &a, &b, &reasons_ab);
        bool ba = run_pair(&cfg, &b, &a, &reasons_ba);
        kind_stats *ks = &kinds[k];
        ks->pairs++;
        ks->merged += ab;
        ks->mismatched += ab != ba;
        for (int r = 0; r < N_REASONS; r++)
            ks->reasons[r] += (reasons_ab >> r) & 1;
        double sim = text_similarity(&cfg, a.text_key, b.text_key);
        if (sim >= 0 && !ks->dev && same && ab && reasons_ab == 1u << DD_LINK_MINHASH &&
            (mh_pos_min < 0 || sim < mh_pos_min))
            mh_pos_min = sim;
        /* Only texts the engine shingles (min_minhash_chars) can be linked by MinHash. */
        if (sim >= 0 && !ks->dev && !same && sim > neg_max &&
            chars(a.text_key) >= cfg.min_minhash_chars &&
            chars(b.text_key) >= cfg.min_minhash_chars)
            neg_max = sim;
        if (sim >= 0) {
            if (!ks->n_sim || sim < ks->sim_min)
                ks->sim_min = sim;
            if (!ks->n_sim || sim > ks->sim_max)
                ks->sim_max = sim;
            ks->sim_sum += sim;
            ks->n_sim++;
        }
        if ((ab != same || ab != ba) && (long)shown < misses) {
            shown++;
            printf("  miss %s:%zu %s: a+b %s, b+a %s\n", path, line_no, kind,
                   ab ? "merged" : "apart", ba ? "merged" : "apart");
            print_side("a", &a);
            print_side("b", &b);
        }
        side_free(&a);
        side_free(&b);
        json_decref(pair);
    }
    free(line);
    fclose(f);

    totals set = sum_up(kinds, n_kinds, false), dev = sum_up(kinds, n_kinds, true);
    if (summary) {
        printf("gram=%d bands=%d rows=%d sim=%.2f anchor=%zu min_prefix=%zu P=%.4f R=%.4f "
               "F1=%.4f FP=%zu FN=%zu devP=%.4f devR=%.4f devF1=%.4f mh_pos_min=%.2f neg_max=%.2f "
               "order_mismatch=%zu%s\n",
               cfg.gram, cfg.bands, cfg.rows, cfg.min_similarity, cfg.anchor_chars,
               cfg.min_prefix_chars, set.precision, set.recall, set.f1, set.fp, set.fn,
               dev.precision, dev.recall, dev.f1, mh_pos_min, neg_max,
               set.mismatched + dev.mismatched, is_default(&cfg) ? " default" : "");
        return 0;
    }
    printf("config: gram %d, %d bands x %d rows, similarity %.2f, anchor %zu, min prefix %zu, "
           "min minhash %zu%s\n\n",
           cfg.gram, cfg.bands, cfg.rows, cfg.min_similarity, cfg.anchor_chars,
           cfg.min_prefix_chars, cfg.min_minhash_chars, is_default(&cfg) ? " (default)" : "");
    printf("%-18s %-4s %5s %6s %-11s %5s %5s  %-14s  %s\n", "kind", "same", "pairs", "merged",
           "measure", "value", "order", "sim min/avg/max", "links of b (a then b)");
    for (int pass = 0; pass < 3; pass++) {
        for (size_t k = 0; k < n_kinds; k++) {
            kind_stats *ks = &kinds[k];
            if (pass < 2 ? ks->dev || ks->same != (pass == 0) : !ks->dev)
                continue;
            char sims[32] = "-";
            if (ks->n_sim)
                snprintf(sims, sizeof(sims), "%.2f/%.2f/%.2f", ks->sim_min,
                         ks->sim_sum / (double)ks->n_sim, ks->sim_max);
            printf("%-18s %-4s %5zu %6zu %-11s %5.3f %5zu  %-14s ", ks->name,
                   ks->same ? "yes" : "no", ks->pairs, ks->merged,
                   ks->same ? "recall" : "false-merge", ratio(ks->merged, ks->pairs),
                   ks->mismatched, sims);
            for (int r = 0; r < N_REASONS; r++) {
                if (ks->reasons[r])
                    printf(" %s:%zu", dd_reason_name((dd_reason)r), ks->reasons[r]);
            }
            printf("\n");
        }
    }
    printf("\nnear-dup set: positives %zu (merged %zu), negatives %zu (merged %zu)\n",
           set.tp + set.fn, set.tp, set.fp + set.tn, set.fp);
    printf("  precision %.4f  recall %.4f  F1 %.4f  order mismatches %zu\n", set.precision,
           set.recall, set.f1, set.mismatched);
    printf("  weakest MinHash-only positive %.2f, closest negative %.2f (threshold %.2f)\n",
           mh_pos_min, neg_max, cfg.min_similarity);
    printf("dev labels, pairwise: same story %zu (merged %zu), other story %zu (merged %zu)\n",
           dev.tp + dev.fn, dev.tp, dev.fp + dev.tn, dev.fp);
    printf("  precision %.4f  recall %.4f  F1 %.4f  order mismatches %zu\n", dev.precision,
           dev.recall, dev.f1, dev.mismatched);
    return 0;
}
