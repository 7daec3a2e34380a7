/*
 * The dedup engine: each story item joins a story or starts one. Pure, no I/O.
 *
 * Links, each recorded with its reason and score:
 * - URL: the same canonical url again;
 * - TEXT: the same folded text (a hash lookup; nothing is shingled again);
 * - PREFIX: containment: one text is a prefix of the other (a cut lead and its body, a
 *   crawler-cut copy), found through an index of text anchors (the first characters);
 * - TITLE: the same folded title (a bare headline and its article);
 * - TITLE_PREFIX: a cut title that is a prefix of a full one;
 * - MINHASH: near-identical texts (syndication, light edits): MinHash over syllable
 *   n-grams with LSH banding, each candidate verified on its signature.
 * Whether two items link depends only on the two items, so the same set of items in any
 * order forms the same stories (as long as nothing was evicted in between). A story keeps
 * the id it got first; when an item joins two stories, the one with the smaller id
 * survives and the other id stays as an alias (dd_resolve), and the merge is reported.
 *
 * State is bounded (dd_evict drops stories not seen within a window) and transactional:
 * dd_begin ... dd_commit, or dd_rollback to undo everything since dd_begin.
 */
#ifndef SD_DEDUP_ENGINE_H
#define SD_DEDUP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    DD_LINK_URL,
    DD_LINK_TEXT,
    DD_LINK_PREFIX,
    DD_LINK_TITLE,
    DD_LINK_TITLE_PREFIX,
    DD_LINK_MINHASH,
} dd_reason;

typedef struct dd_config {
    int gram;                 /* shingle length in syllables */
    int bands, rows;          /* LSH banding; bands x rows <= 64 */
    double min_similarity;    /* MinHash verification threshold (estimated Jaccard) */
    size_t min_minhash_chars; /* shorter texts are not shingled */
    size_t anchor_chars;      /* text anchor length, in characters */
    size_t min_prefix_chars;  /* the shorter text of a containment link has at least this many */
    size_t min_title_chars;   /* shorter titles link by nothing but exact url */
    size_t min_text_chars;    /* shorter texts (a lead cut to "[인터") link by nothing */
    size_t keep_key_bytes;    /* bytes of each text key kept for containment checks */
    size_t max_texts;         /* distinct texts (anchors) kept per story */
    size_t max_variants;      /* title variants kept per story */
} dd_config;

/* 3-grams, 16 bands x 4 rows, similarity 0.5, and the sizes tuned on the near-dup set. */
extern const dd_config dd_default_config;

typedef struct dd_item {
    const char *url;       /* the item's own canonical url (an article's page), or NULL */
    const char *title;     /* display title, kept as a variant; may be NULL */
    const char *title_key; /* match keys (normalize.h), or NULL */
    const char *text_key;
    bool title_cut;  /* the title may be cut (the rendering ended in it) */
    int64_t seen_ms; /* when the item was seen */
} dd_item;

typedef struct dd_link {
    dd_reason reason;
    double score;   /* 1 for exact links; overlap or similarity otherwise */
    uint64_t story; /* the story linked to (its id before any merge of this item) */
} dd_link;

#define DD_MAX_LINKS 8

typedef struct dd_result {
    uint64_t story; /* the item's story (a survivor, never an alias) */
    bool created;   /* the item started it */
    dd_link links[DD_MAX_LINKS];
    size_t n_links;
    uint64_t aliases[DD_MAX_LINKS]; /* stories this item merged into `story` */
    size_t n_aliases;
    bool new_variant; /* the item's title is new to an existing story */
    bool longer_text; /* the item's text is longer than any the story had */
} dd_result;

typedef struct dd_variant {
    const char *title; /* owned by the engine */
    int64_t first_seen, last_seen;
} dd_variant;

typedef struct dd_stats {
    size_t stories; /* live stories (survivors) */
    size_t aliases; /* merged-away ids still resolvable */
    size_t index_entries;
    size_t bytes; /* everything the engine holds */
} dd_stats;

typedef struct dd_engine dd_engine;

/* Returns a new engine (config copied; NULL: defaults), or NULL when out of memory. */
dd_engine *dd_new(const dd_config *config);
void dd_free(dd_engine *engine);

/*
 * Takes the thresholds of config (min_similarity, min_minhash_chars, min_prefix_chars,
 * min_title_chars, min_text_chars) for the items added from now on; the shape of the indexes (gram,
 * bands, rows, anchor and key sizes, caps) stays as the engine was made.
 */
void dd_set_thresholds(dd_engine *engine, const dd_config *config);

/*
 * Adds one item and fills *result. Returns 0, or -1 when out of memory (the engine is
 * then as before the call only inside a batch, after dd_rollback).
 */
int dd_add(dd_engine *engine, const dd_item *item, dd_result *result)
    __attribute__((warn_unused_result));

/* The survivor an id stands for now (itself when it is one), or 0 when unknown or evicted. */
uint64_t dd_resolve(const dd_engine *engine, uint64_t id);

/* The title variants of a story (borrowed until the next change); *count receives how many. */
const dd_variant *dd_variants(const dd_engine *engine, uint64_t id, size_t *count);

/* Batches: everything between dd_begin and dd_rollback is undone by dd_rollback. */
void dd_begin(dd_engine *engine);
void dd_commit(dd_engine *engine);
void dd_rollback(dd_engine *engine);

/* Drops stories (and their aliases) last seen before cutoff_ms; returns how many. Not in a batch.
 */
size_t dd_evict(dd_engine *engine, int64_t cutoff_ms);

dd_stats dd_get_stats(const dd_engine *engine);
const char *dd_reason_name(dd_reason reason);

#endif
