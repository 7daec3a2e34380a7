#include "dedup/engine.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "dedup/minhash.h"
#include "dedup/multimap.h"

const dd_config dd_default_config = {
    .gram = 3,
    .bands = 16,
    .rows = 4,
    .min_similarity = 0.5,
    .min_minhash_chars = 80,
    .anchor_chars = 16,
    .min_prefix_chars = 40,
    .min_title_chars = 8,
    .min_text_chars = 8,
    .keep_key_bytes = 1536,
    .max_texts = 4,
    .max_variants = 16,
};

/* The indexes; an index key is recorded with its map so eviction can remove it. */
enum { IX_URL, IX_TEXT, IX_TITLE, IX_TITLE_PREFIX, IX_ANCHOR, IX_BAND, IX_COUNT };

typedef struct text_rec {
    uint64_t anchor;
    char *key;         /* the first keep_key_bytes of the text key; owned */
    uint32_t key_len;  /* bytes kept */
    uint32_t full_len; /* bytes of the whole key */
    mh_compact *sig;   /* owned, b-bit; NULL for texts too short to shingle */
} text_rec;

typedef struct variant_rec {
    char *title;     /* owned */
    char *title_key; /* owned */
    bool cut;
    int64_t first_seen, last_seen;
} variant_rec;

typedef struct index_key {
    uint8_t map;
    uint64_t key;
} index_key;

typedef struct slot {
    uint64_t id;     /* 0: free */
    uint32_t parent; /* itself for a survivor, the survivor's slot for an alias */
    int64_t first_seen, last_seen;
    uint32_t items;
    uint32_t longest_text; /* bytes of the longest text key seen, aliases included */
    text_rec *texts;
    uint32_t n_texts;
    variant_rec *variants;
    uint32_t n_variants;
    index_key *keys; /* every index entry pointing at this slot */
    uint32_t n_keys, cap_keys;
} slot;

/* Undo journal of a batch: slot snapshots and index changes, replayed backwards. */
typedef enum { J_SLOT, J_INDEX_ADD, J_ID_ADD } journal_kind;

typedef struct journal_entry {
    journal_kind kind;
    uint32_t slot_index;
    slot saved;   /* J_SLOT: the slot as it was (its arrays deep-copied) */
    uint8_t map;  /* J_INDEX_ADD */
    uint64_t key; /* J_INDEX_ADD, J_ID_ADD */
} journal_entry;

struct dd_engine {
    dd_config config;
    slot *slots;
    uint32_t n_slots, cap_slots;
    uint32_t free_head; /* free slot index + 1 */
    mm_map index[IX_COUNT];
    mm_map ids; /* story id -> slot */
    bool in_batch;
    journal_entry *journal;
    size_t n_journal, cap_journal;
    uint32_t batch_n_slots, batch_free_head;
    unsigned char *touched; /* per slot: snapshot taken in this batch */
    size_t cap_touched;
};

const char *dd_reason_name(dd_reason reason)
{
    static const char *const names[] = {"url",   "text",         "prefix",
                                        "title", "title_prefix", "minhash"};
    return reason <= DD_LINK_MINHASH ? names[reason] : "unknown";
}

/* ---- Small helpers ------------------------------------------------------------------------- */

static uint64_t hash_str(const char *s, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(s, len, seed);
}

/* Byte length of the first `chars` code points of s (or all of it), and the count seen. */
static size_t prefix_bytes(const char *s, size_t len, size_t chars, size_t *seen)
{
    size_t at = 0, n = 0;
    while (at < len && n < chars) {
        unsigned char c = (unsigned char)s[at];
        at += c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        n++;
    }
    if (seen)
        *seen = n;
    return at > len ? len : at;
}

static size_t char_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

static uint32_t root_of(const dd_engine *e, uint32_t s)
{
    /* No path compression: it would write to slots during lookups and complicate rollback;
     * merges are rare, so alias chains stay short. */
    while (e->slots[s].parent != s)
        s = e->slots[s].parent;
    return s;
}

/* ---- Journal --------------------------------------------------------------------------------- */

static int journal_push(dd_engine *e, const journal_entry *entry)
{
    if (e->n_journal == e->cap_journal) {
        size_t cap = e->cap_journal ? e->cap_journal * 2 : 256;
        journal_entry *grown = realloc(e->journal, cap * sizeof(*grown));
        if (!grown)
            return -1;
        e->journal = grown;
        e->cap_journal = cap;
    }
    e->journal[e->n_journal++] = *entry;
    return 0;
}

static void slot_release(slot *s)
{
    for (uint32_t i = 0; i < s->n_texts; i++) {
        free(s->texts[i].key);
        free(s->texts[i].sig);
    }
    free(s->texts);
    for (uint32_t i = 0; i < s->n_variants; i++) {
        free(s->variants[i].title);
        free(s->variants[i].title_key);
    }
    free(s->variants);
    free(s->keys);
    memset(s, 0, sizeof(*s));
}

/* A deep copy of a slot's arrays, so a snapshot survives changes to the live slot. */
static int slot_copy(slot *dst, const slot *src)
{
    *dst = *src;
    dst->texts = NULL;
    dst->variants = NULL;
    dst->keys = NULL;
    if (src->n_texts) {
        dst->texts = calloc(src->n_texts, sizeof(text_rec));
        if (!dst->texts)
            goto fail;
        for (uint32_t i = 0; i < src->n_texts; i++) {
            dst->texts[i] = src->texts[i];
            dst->texts[i].key = NULL;
            dst->texts[i].sig = NULL;
            if (!(dst->texts[i].key = malloc(src->texts[i].key_len + 1)))
                goto fail;
            memcpy(dst->texts[i].key, src->texts[i].key, src->texts[i].key_len + 1);
            if (src->texts[i].sig) {
                if (!(dst->texts[i].sig = malloc(sizeof(mh_compact))))
                    goto fail;
                *dst->texts[i].sig = *src->texts[i].sig;
            }
        }
    }
    if (src->n_variants) {
        dst->variants = calloc(src->n_variants, sizeof(variant_rec));
        if (!dst->variants)
            goto fail;
        for (uint32_t i = 0; i < src->n_variants; i++) {
            dst->variants[i] = src->variants[i];
            dst->variants[i].title = strdup(src->variants[i].title);
            dst->variants[i].title_key = strdup(src->variants[i].title_key);
            if (!dst->variants[i].title || !dst->variants[i].title_key)
                goto fail;
        }
    }
    if (src->n_keys) {
        dst->keys = malloc(src->n_keys * sizeof(index_key));
        if (!dst->keys)
            goto fail;
        memcpy(dst->keys, src->keys, src->n_keys * sizeof(index_key));
        dst->cap_keys = src->n_keys;
    }
    return 0;
fail:
    slot_release(dst);
    return -1;
}

static int ensure_touched(dd_engine *e, uint32_t n)
{
    if (n <= e->cap_touched)
        return 0;
    size_t cap = e->cap_touched ? e->cap_touched : 1024;
    while (cap < n)
        cap *= 2;
    unsigned char *grown = realloc(e->touched, cap);
    if (!grown)
        return -1;
    memset(grown + e->cap_touched, 0, cap - e->cap_touched);
    e->touched = grown;
    e->cap_touched = cap;
    return 0;
}

/* Records a slot's state before its first change in a batch. */
static int touch(dd_engine *e, uint32_t s)
{
    if (!e->in_batch)
        return 0;
    if (ensure_touched(e, s + 1) != 0)
        return -1;
    if (e->touched[s])
        return 0;
    journal_entry entry = {.kind = J_SLOT, .slot_index = s};
    if (slot_copy(&entry.saved, &e->slots[s]) != 0)
        return -1;
    if (journal_push(e, &entry) != 0) {
        slot_release(&entry.saved);
        return -1;
    }
    e->touched[s] = 1;
    return 0;
}

/* ---- Indexes -----------------------------------------------------------------------------------
 */

static int slot_note_key(slot *s, uint8_t map, uint64_t key)
{
    if (s->n_keys == s->cap_keys) {
        uint32_t cap = s->cap_keys ? s->cap_keys * 2 : 8;
        index_key *grown = realloc(s->keys, cap * sizeof(*grown));
        if (!grown)
            return -1;
        s->keys = grown;
        s->cap_keys = cap;
    }
    s->keys[s->n_keys++] = (index_key){.map = map, .key = key};
    return 0;
}

/* Adds key -> slot unless the key already leads to the slot's story. */
static int index_once(dd_engine *e, int map, uint64_t key, uint32_t s)
{
    uint32_t cursor = 0, value;
    uint32_t root = root_of(e, s);
    while (mm_next(&e->index[map], key, &cursor, &value)) {
        if (root_of(e, value) == root)
            return 0;
    }
    if (touch(e, s) != 0 || mm_add(&e->index[map], key, s) != 0)
        return -1;
    if (slot_note_key(&e->slots[s], (uint8_t)map, key) != 0) {
        mm_remove(&e->index[map], key, s);
        return -1;
    }
    if (e->in_batch) {
        journal_entry entry = {
            .kind = J_INDEX_ADD, .slot_index = s, .map = (uint8_t)map, .key = key};
        if (journal_push(e, &entry) != 0)
            return -1;
    }
    return 0;
}

/* ---- Candidates --------------------------------------------------------------------------------
 */

typedef struct candidates {
    uint32_t roots[DD_MAX_LINKS];
    dd_link links[DD_MAX_LINKS];
    size_t n;
} candidates;

static void add_candidate(const dd_engine *e, candidates *c, uint32_t s, dd_reason reason,
                          double score)
{
    uint32_t root = root_of(e, s);
    for (size_t i = 0; i < c->n; i++) {
        if (c->roots[i] == root) {
            /* Keep the strongest evidence per story: exact reasons come first. */
            if (reason < c->links[i].reason) {
                c->links[i].reason = reason;
                c->links[i].score = score;
            }
            return;
        }
    }
    if (c->n == DD_MAX_LINKS)
        return;
    c->roots[c->n] = root;
    c->links[c->n] = (dd_link){.reason = reason, .score = score, .story = e->slots[root].id};
    c->n++;
}

static void lookup_exact(const dd_engine *e, int map, uint64_t key, dd_reason reason, candidates *c)
{
    uint32_t cursor = 0, value;
    while (mm_next(&e->index[map], key, &cursor, &value))
        add_candidate(e, c, value, reason, 1.0);
}

/* Length of the common prefix of a and b, in bytes, ending at a character boundary. */
static size_t common_prefix(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = 0, limit = alen < blen ? alen : blen;
    while (n < limit && a[n] == b[n])
        n++;
    while (n > 0 && n < limit && ((unsigned char)a[n] & 0xc0) == 0x80)
        n--;
    return n;
}

/*
 * Containment: the shorter of the two texts is a prefix of the longer one, up to a few
 * characters at its end (a cut inside a word). Returns the overlap as a fraction of the
 * longer text, or 0.
 */
static double contained(const dd_engine *e, const char *key, size_t len, const text_rec *rec)
{
    size_t shorter = len < rec->full_len ? len : rec->full_len;
    size_t longer = len < rec->full_len ? rec->full_len : len;
    size_t common = common_prefix(key, len, rec->key, rec->key_len);
    /* When the kept part of the other text ends before the shorter text does, all of the
     * kept part must agree; otherwise the whole shorter text, but for 12 bytes (4 syllables). */
    size_t need = shorter <= rec->key_len ? shorter : rec->key_len;
    size_t slack = shorter <= rec->key_len ? 12 : 0;
    if (common + slack < need)
        return 0;
    if (char_count(key, common) < e->config.min_prefix_chars)
        return 0;
    return (double)common / (double)longer;
}

static void lookup_prefix(const dd_engine *e, const char *key, size_t len, uint64_t anchor,
                          candidates *c)
{
    uint32_t cursor = 0, value;
    while (mm_next(&e->index[IX_ANCHOR], anchor, &cursor, &value)) {
        const slot *s = &e->slots[value];
        for (uint32_t t = 0; t < s->n_texts; t++) {
            if (s->texts[t].anchor != anchor)
                continue;
            double overlap = contained(e, key, len, &s->texts[t]);
            if (overlap > 0)
                add_candidate(e, c, value, DD_LINK_PREFIX, overlap);
        }
    }
}

static void lookup_minhash(const dd_engine *e, const mh_signature *sig, candidates *c)
{
    for (int b = 0; b < e->config.bands; b++) {
        uint32_t cursor = 0, value;
        uint64_t band = mh_band(sig, b, e->config.rows);
        while (mm_next(&e->index[IX_BAND], band, &cursor, &value)) {
            const slot *s = &e->slots[value];
            for (uint32_t t = 0; t < s->n_texts; t++) {
                if (!s->texts[t].sig)
                    continue;
                double similarity = mh_similarity_compact(sig, s->texts[t].sig);
                if (similarity >= e->config.min_similarity)
                    add_candidate(e, c, value, DD_LINK_MINHASH, similarity);
            }
        }
    }
}

/* A cut title that is a prefix of a known title, or a known cut title that is one of ours. */
static void lookup_title_prefix(const dd_engine *e, const dd_item *item, uint64_t key,
                                candidates *c)
{
    uint32_t cursor = 0, value;
    size_t len = strlen(item->title_key);
    while (mm_next(&e->index[IX_TITLE_PREFIX], key, &cursor, &value)) {
        const slot *s = &e->slots[value];
        for (uint32_t v = 0; v < s->n_variants; v++) {
            const variant_rec *var = &s->variants[v];
            size_t vlen = strlen(var->title_key);
            bool ours_shorter = len < vlen;
            if (ours_shorter ? !item->title_cut : !var->cut)
                continue;
            size_t shorter = ours_shorter ? len : vlen;
            if (common_prefix(item->title_key, len, var->title_key, vlen) >= shorter)
                add_candidate(e, c, value, DD_LINK_TITLE_PREFIX,
                              (double)shorter / (double)(ours_shorter ? vlen : len));
        }
    }
}

/* ---- Stories
 * ------------------------------------------------------------------------------------- */

static int new_slot(dd_engine *e, uint32_t *out)
{
    uint32_t s;
    if (e->free_head) {
        s = e->free_head - 1;
        /* A reused slot is snapshotted like any other, which keeps the free chain for rollback. */
        if (touch(e, s) != 0)
            return -1;
        e->free_head = e->slots[s].parent; /* free slots chain through parent */
    } else {
        if (e->n_slots == e->cap_slots) {
            uint32_t cap = e->cap_slots ? e->cap_slots * 2 : 1024;
            slot *grown = realloc(e->slots, cap * sizeof(*grown));
            if (!grown)
                return -1;
            e->slots = grown;
            e->cap_slots = cap;
        }
        s = e->n_slots++;
    }
    memset(&e->slots[s], 0, sizeof(slot));
    e->slots[s].parent = s;
    if (e->in_batch && s >= e->batch_n_slots) {
        if (ensure_touched(e, s + 1) != 0)
            return -1;
        /* A slot appended in this batch is released by rollback: nothing to snapshot. */
        e->touched[s] = 2;
    }
    *out = s;
    return 0;
}

/* A story id from what founded it; deterministic, never 0, never an id in use. */
static uint64_t founding_id(const dd_engine *e, const dd_item *item)
{
    const char *basis = item->url                               ? item->url
                        : item->title_key && item->title_key[0] ? item->title_key
                        : item->text_key                        ? item->text_key
                                                                : "";
    size_t len = strlen(basis);
    if (basis == item->text_key)
        len = prefix_bytes(basis, len, 64, NULL);
    uint64_t id = hash_str(basis, len, 0x73746f7279ULL) | 1;
    uint32_t cursor = 0, value;
    while (mm_next(&e->ids, id, &cursor, &value)) {
        id = (hash_str((const char *)&id, sizeof(id), 1) | 1);
        cursor = 0;
    }
    return id;
}

static int add_variant(dd_engine *e, uint32_t s, const dd_item *item)
{
    if (!item->title || !item->title_key || !item->title_key[0])
        return 0;
    slot *st = &e->slots[s];
    for (uint32_t v = 0; v < st->n_variants; v++) {
        if (strcmp(st->variants[v].title, item->title) == 0) {
            variant_rec *var = &st->variants[v];
            if (item->seen_ms < var->first_seen)
                var->first_seen = item->seen_ms;
            if (item->seen_ms > var->last_seen)
                var->last_seen = item->seen_ms;
            return 0;
        }
    }
    /* New to the story even when there is no room left to keep it. */
    if (st->n_variants >= e->config.max_variants)
        return 1;
    variant_rec *grown = realloc(st->variants, (st->n_variants + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    st->variants = grown;
    variant_rec *var = &st->variants[st->n_variants];
    var->title = strdup(item->title);
    var->title_key = strdup(item->title_key);
    if (!var->title || !var->title_key) {
        free(var->title);
        free(var->title_key);
        return -1;
    }
    var->cut = item->title_cut;
    var->first_seen = var->last_seen = item->seen_ms;
    st->n_variants++;
    return 1;
}

/*
 * Keeps the item's text for later containment and similarity checks. Returns 1 when it was
 * kept, 0 when the story already holds max_texts texts (the text is then not indexed either,
 * so no index entry ever points at a text the story does not hold), -1 when out of memory.
 */
static int add_text(dd_engine *e, uint32_t s, const char *key, size_t len, uint64_t anchor,
                    const mh_signature *sig)
{
    slot *st = &e->slots[s];
    size_t keep = len < e->config.keep_key_bytes ? len : e->config.keep_key_bytes;
    keep = prefix_bytes(key, keep, (size_t)-1, NULL);
    while (keep > 0 && keep < len && ((unsigned char)key[keep] & 0xc0) == 0x80)
        keep--;
    /* Every distinct text keeps its own record, even when one contains another (a lead and
     * its body): a near-duplicate of the lead finds the story through the lead's bands and
     * must be verified against the lead's signature, or the grouping would depend on order. */
    if (st->n_texts >= e->config.max_texts)
        return 0;
    text_rec *grown = realloc(st->texts, (st->n_texts + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    st->texts = grown;
    text_rec *rec = &st->texts[st->n_texts];
    memset(rec, 0, sizeof(*rec));
    rec->anchor = anchor;
    rec->key = malloc(keep + 1);
    if (!rec->key)
        return -1;
    memcpy(rec->key, key, keep);
    rec->key[keep] = '\0';
    rec->key_len = (uint32_t)keep;
    rec->full_len = (uint32_t)len;
    if (sig) {
        rec->sig = malloc(sizeof(*rec->sig));
        if (!rec->sig) {
            free(rec->key);
            return -1;
        }
        mh_compact_of(sig, rec->sig);
    }
    st->n_texts++;
    return 1;
}

int dd_add(dd_engine *e, const dd_item *item, dd_result *result)
{
    memset(result, 0, sizeof(*result));
    const dd_config *cfg = &e->config;
    candidates c = {0};
    const char *text = item->text_key && item->text_key[0] ? item->text_key : NULL;
    const char *title = item->title_key && item->title_key[0] ? item->title_key : NULL;
    size_t text_len = text ? strlen(text) : 0;
    size_t text_chars = text ? char_count(text, text_len) : 0;
    /* A text of a few characters (a lead the crawler cut to "[인터") says nothing about which
     * story it is: two unrelated stories would share it. It neither links nor is indexed. */
    if (text && text_chars < cfg->min_text_chars) {
        text = NULL;
        text_len = text_chars = 0;
    }
    size_t title_len = title ? strlen(title) : 0;
    bool title_usable = title && char_count(title, title_len) >= cfg->min_title_chars;

    uint64_t url_key = item->url ? hash_str(item->url, strlen(item->url), IX_URL) : 0;
    uint64_t text_hash = text ? hash_str(text, text_len, IX_TEXT) : 0;
    uint64_t title_hash = title_usable ? hash_str(title, title_len, IX_TITLE) : 0;
    uint64_t title_prefix =
        title_usable ? hash_str(title, prefix_bytes(title, title_len, cfg->min_title_chars, NULL),
                                IX_TITLE_PREFIX)
                     : 0;
    size_t anchor_seen = 0;
    size_t anchor_len = text ? prefix_bytes(text, text_len, cfg->anchor_chars, &anchor_seen) : 0;
    uint64_t anchor =
        text && anchor_seen == cfg->anchor_chars ? hash_str(text, anchor_len, IX_ANCHOR) : 0;

    if (item->url)
        lookup_exact(e, IX_URL, url_key, DD_LINK_URL, &c);
    if (title_usable) {
        lookup_exact(e, IX_TITLE, title_hash, DD_LINK_TITLE, &c);
        lookup_title_prefix(e, item, title_prefix, &c);
    }
    bool seen_text = false;
    if (text) {
        size_t before = c.n;
        lookup_exact(e, IX_TEXT, text_hash, DD_LINK_TEXT, &c);
        seen_text = c.n > before;
        for (size_t i = 0; i < c.n && !seen_text; i++)
            seen_text = c.links[i].reason == DD_LINK_TEXT;
    }
    /* The exact text was seen before: its anchors and bands were indexed then, and whatever
     * they could link was linked then. Nothing is shingled again. */
    mh_signature sig;
    bool have_sig = false;
    if (text && !seen_text) {
        if (anchor && text_chars >= cfg->min_prefix_chars)
            lookup_prefix(e, text, text_len, anchor, &c);
        if (text_chars >= cfg->min_minhash_chars && mh_sign(text, text_len, cfg->gram, &sig) > 0) {
            have_sig = true;
            lookup_minhash(e, &sig, &c);
        }
    }

    /* Join the candidate with the smallest id, merge the others into it. */
    uint32_t target;
    if (c.n == 0) {
        if (new_slot(e, &target) != 0)
            return -1;
        slot *st = &e->slots[target];
        st->id = founding_id(e, item);
        st->first_seen = st->last_seen = item->seen_ms;
        if (mm_add(&e->ids, st->id, target) != 0)
            return -1;
        if (e->in_batch) {
            journal_entry entry = {.kind = J_ID_ADD, .slot_index = target, .key = st->id};
            if (journal_push(e, &entry) != 0)
                return -1;
        }
        result->created = true;
    } else {
        target = c.roots[0];
        for (size_t i = 1; i < c.n; i++) {
            if (e->slots[c.roots[i]].id < e->slots[target].id)
                target = c.roots[i];
        }
        for (size_t i = 0; i < c.n; i++) {
            uint32_t other = c.roots[i];
            if (other == target)
                continue;
            if (touch(e, other) != 0 || touch(e, target) != 0)
                return -1;
            slot *alias = &e->slots[other], *survivor = &e->slots[target];
            alias->parent = target;
            if (alias->first_seen < survivor->first_seen)
                survivor->first_seen = alias->first_seen;
            if (alias->last_seen > survivor->last_seen)
                survivor->last_seen = alias->last_seen;
            survivor->items += alias->items;
            if (alias->longest_text > survivor->longest_text)
                survivor->longest_text = alias->longest_text;
            if (result->n_aliases < DD_MAX_LINKS)
                result->aliases[result->n_aliases++] = alias->id;
        }
        memcpy(result->links, c.links, c.n * sizeof(dd_link));
        result->n_links = c.n;
    }

    /* Record the item in its story and index it where it is not yet indexed. */
    if (touch(e, target) != 0)
        return -1;
    slot *st = &e->slots[target];
    st->items++;
    if (item->seen_ms > st->last_seen)
        st->last_seen = item->seen_ms;
    if (item->seen_ms < st->first_seen)
        st->first_seen = item->seen_ms;
    int variant = add_variant(e, target, item);
    if (variant < 0)
        return -1;
    /* A story's first title is not "new": created says more. */
    result->new_variant = variant > 0 && !result->created;
    if (text && text_len > st->longest_text) {
        result->longer_text = !result->created && st->longest_text > 0;
        st->longest_text = (uint32_t)text_len;
    }
    if (item->url && index_once(e, IX_URL, url_key, target) != 0)
        return -1;
    if (title_usable && (index_once(e, IX_TITLE, title_hash, target) != 0 ||
                         index_once(e, IX_TITLE_PREFIX, title_prefix, target) != 0))
        return -1;
    if (text && !seen_text) {
        if (index_once(e, IX_TEXT, text_hash, target) != 0)
            return -1;
        if (anchor && text_chars >= cfg->min_prefix_chars) {
            int kept = add_text(e, target, text, text_len, anchor, have_sig ? &sig : NULL);
            if (kept < 0 || (kept && index_once(e, IX_ANCHOR, anchor, target) != 0))
                return -1;
            if (kept && have_sig) {
                for (int b = 0; b < cfg->bands; b++) {
                    if (index_once(e, IX_BAND, mh_band(&sig, b, cfg->rows), target) != 0)
                        return -1;
                }
            }
        }
    }
    result->story = e->slots[target].id;
    return 0;
}

/* ---- Batches ------------------------------------------------------------------------------------
 */

void dd_begin(dd_engine *e)
{
    dd_commit(e);
    e->in_batch = true;
    e->batch_n_slots = e->n_slots;
    e->batch_free_head = e->free_head;
}

void dd_commit(dd_engine *e)
{
    for (size_t i = 0; i < e->n_journal; i++) {
        if (e->journal[i].kind == J_SLOT)
            slot_release(&e->journal[i].saved);
    }
    e->n_journal = 0;
    if (e->touched)
        memset(e->touched, 0, e->cap_touched);
    e->in_batch = false;
}

void dd_rollback(dd_engine *e)
{
    if (!e->in_batch)
        return;
    for (size_t i = e->n_journal; i-- > 0;) {
        journal_entry *j = &e->journal[i];
        switch (j->kind) {
        case J_INDEX_ADD:
            mm_remove(&e->index[j->map], j->key, j->slot_index);
            break;
        case J_ID_ADD:
            mm_remove(&e->ids, j->key, j->slot_index);
            break;
        case J_SLOT:
            slot_release(&e->slots[j->slot_index]);
            e->slots[j->slot_index] = j->saved;
            memset(&j->saved, 0, sizeof(j->saved));
            break;
        }
    }
    /* Slots appended in the batch go; reused ones were restored from their snapshots. */
    for (uint32_t s = e->batch_n_slots; s < e->n_slots; s++)
        slot_release(&e->slots[s]);
    e->n_slots = e->batch_n_slots;
    e->free_head = e->batch_free_head;
    e->n_journal = 0;
    if (e->touched)
        memset(e->touched, 0, e->cap_touched);
    e->in_batch = false;
}

/* ---- Eviction, queries
 * --------------------------------------------------------------------------- */

static void free_slot(dd_engine *e, uint32_t s)
{
    slot *st = &e->slots[s];
    for (uint32_t k = 0; k < st->n_keys; k++)
        mm_remove(&e->index[st->keys[k].map], st->keys[k].key, s);
    mm_remove(&e->ids, st->id, s);
    slot_release(st);
    st->parent = e->free_head;
    e->free_head = s + 1;
}

size_t dd_evict(dd_engine *e, int64_t cutoff_ms)
{
    dd_commit(e);
    /* Decide first (an alias follows its survivor), then free. */
    unsigned char *doomed = calloc(e->n_slots ? e->n_slots : 1, 1);
    if (!doomed)
        return 0;
    size_t evicted = 0;
    for (uint32_t s = 0; s < e->n_slots; s++) {
        if (!e->slots[s].id)
            continue;
        uint32_t root = root_of(e, s);
        if (e->slots[root].last_seen < cutoff_ms) {
            doomed[s] = 1;
            evicted += root == s;
        }
    }
    for (uint32_t s = 0; s < e->n_slots; s++) {
        if (doomed[s])
            free_slot(e, s);
    }
    free(doomed);
    return evicted;
}

static int32_t slot_of_id(const dd_engine *e, uint64_t id)
{
    uint32_t cursor = 0, value;
    if (id && mm_next(&e->ids, id, &cursor, &value))
        return (int32_t)value;
    return -1;
}

uint64_t dd_resolve(const dd_engine *e, uint64_t id)
{
    int32_t s = slot_of_id(e, id);
    return s < 0 ? 0 : e->slots[root_of(e, (uint32_t)s)].id;
}

const dd_variant *dd_variants(const dd_engine *e, uint64_t id, size_t *count)
{
    /* The records start with title, first_seen, last_seen in another order: copy out. */
    static _Thread_local dd_variant out[64];
    *count = 0;
    int32_t s = slot_of_id(e, id);
    if (s < 0)
        return out;
    uint32_t root = root_of(e, (uint32_t)s);
    /* A survivor's variants include those of its aliases. */
    for (uint32_t a = 0; a < e->n_slots && *count < 64; a++) {
        if (!e->slots[a].id || root_of(e, a) != root)
            continue;
        for (uint32_t v = 0; v < e->slots[a].n_variants && *count < 64; v++) {
            const variant_rec *var = &e->slots[a].variants[v];
            out[(*count)++] = (dd_variant){
                .title = var->title, .first_seen = var->first_seen, .last_seen = var->last_seen};
        }
    }
    return out;
}

dd_stats dd_get_stats(const dd_engine *e)
{
    dd_stats stats = {0};
    stats.bytes = sizeof(*e) + (size_t)e->cap_slots * sizeof(slot) + mm_bytes(&e->ids) +
                  e->cap_journal * sizeof(journal_entry) + e->cap_touched;
    for (int m = 0; m < IX_COUNT; m++) {
        stats.bytes += mm_bytes(&e->index[m]);
        stats.index_entries += e->index[m].count;
    }
    for (uint32_t s = 0; s < e->n_slots; s++) {
        const slot *st = &e->slots[s];
        if (!st->id)
            continue;
        if (st->parent == s)
            stats.stories++;
        else
            stats.aliases++;
        stats.bytes += st->cap_keys * sizeof(index_key) + st->n_texts * sizeof(text_rec) +
                       st->n_variants * sizeof(variant_rec);
        for (uint32_t t = 0; t < st->n_texts; t++)
            stats.bytes += st->texts[t].key_len + 1 + (st->texts[t].sig ? sizeof(mh_compact) : 0);
        for (uint32_t v = 0; v < st->n_variants; v++)
            stats.bytes += strlen(st->variants[v].title) + strlen(st->variants[v].title_key) + 2;
    }
    return stats;
}

dd_engine *dd_new(const dd_config *config)
{
    dd_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->config = config ? *config : dd_default_config;
    if (e->config.bands * e->config.rows > MH_HASHES || e->config.bands < 1 || e->config.rows < 1)
        e->config = dd_default_config;
    for (int m = 0; m < IX_COUNT; m++)
        mm_init(&e->index[m]);
    mm_init(&e->ids);
    return e;
}

void dd_set_thresholds(dd_engine *engine, const dd_config *config)
{
    engine->config.min_similarity = config->min_similarity;
    engine->config.min_minhash_chars = config->min_minhash_chars;
    engine->config.min_prefix_chars = config->min_prefix_chars;
    engine->config.min_title_chars = config->min_title_chars;
    engine->config.min_text_chars = config->min_text_chars;
}

void dd_free(dd_engine *e)
{
    if (!e)
        return;
    dd_commit(e);
    for (uint32_t s = 0; s < e->n_slots; s++)
        slot_release(&e->slots[s]);
    free(e->slots);
    for (int m = 0; m < IX_COUNT; m++)
        mm_release(&e->index[m]);
    mm_release(&e->ids);
    free(e->journal);
    free(e->touched);
    free(e);
}
