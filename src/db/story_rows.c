#include "db/story_rows.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "db/copy_text.h"
#include "storyd/v1/story_event.pb-c.h"

/* One item's answer from the engine, kept until the batch's survivors are known. */
typedef struct sr_item {
    const sr_page *page; /* borrowed from the sr_build call */
    const ex_item *item; /* borrowed */
    int64_t seq;
    dd_result result;
} sr_item;

typedef struct sr_merge {
    uint64_t alias;
    int64_t seen_ms;
    int64_t seq;
} sr_merge;

struct sr_rows {
    sd_buf sightings, links, texts, events;
    const char *event_topic; /* borrowed; NULL: no story events */
    size_t n_events;
    uint8_t *packed; /* scratch for one packed StoryEvent */
    size_t packed_cap;
    sd_buf merge_alias, merge_survivor, merge_ms, merge_seq;
    const char *merge_params[4]; /* point into the merge buffers */
    sr_item *items;
    size_t n_items, cap_items;
    sr_merge *merges;
    size_t n_merges, cap_merges;
    size_t created;
    int64_t first_seq, next_seq;
    char first_text[24], last_text[24];
};

const char sr_copy_sightings_sql[] =
    "COPY storyd_sighting (seq, story_id, story_id_at_sighting, created_story, kafka_topic,"
    " kafka_partition, kafka_offset, page_url, position, kind, title, text_hash, text_length,"
    " brand, section, published_at, published_precision, cut, item_url, seen_at, seen_ms,"
    " title_key, title_cut) FROM STDIN";
const char sr_copy_links_sql[] =
    "COPY storyd_story_link (sighting_seq, link_no, reason, score, linked_story_id) FROM STDIN";
const char sr_copy_events_sql[] =
    "COPY storyd_outbox (event_id, kind, kafka_topic, kafka_key, value) FROM STDIN";
const char sr_copy_texts_sql[] =
    "COPY storyd_stage_text (seq, text_hash, text, text_key) FROM STDIN";

/* The text stage lives as long as the session: pg_conn runs this after every connect. */
const char sr_stage_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS storyd_stage_text (seq bigint, text_hash bytea, text text,"
    " text_key text) ON COMMIT DELETE ROWS";

/* A batch repeats texts; DISTINCT ON keeps one per key (the earliest), so ON CONFLICT sees each
 * key once. */
const char sr_insert_texts_sql[] =
    "INSERT INTO storyd_text (text_hash, text, text_key)"
    " SELECT DISTINCT ON (text_hash) text_hash, text, text_key FROM storyd_stage_text"
    " ORDER BY text_hash, seq ON CONFLICT (text_hash) DO NOTHING";

/*
 * Stories are aggregated per id from the batch's sightings (just copied) before the upsert,
 * because ON CONFLICT cannot touch one row twice in a statement. Every choice is associative
 * (earliest title, longest then earliest text, sums, least and greatest), so the rows are the
 * same whatever the batch boundaries were; and "earliest" is by fetch time, then page url, then
 * position (storyd_sighting_before, schema version 5), never by seq, so they are also the same
 * whatever order the partitions' sightings arrived in.
 */
#define SR_SIGHTING_ORDER "g.seen_at, g.page_url, g.position, g.seq"
const char sr_upsert_stories_sql[] =
    "INSERT INTO storyd_story AS s (story_id, title, title_seq, text, text_seq, first_seen_at,"
    " last_seen_at, sightings, first_sighting_seq)"
    " SELECT g.story_id,"
    " (array_agg(g.title ORDER BY " SR_SIGHTING_ORDER ") FILTER (WHERE g.title IS NOT NULL))[1],"
    " (array_agg(g.seq ORDER BY " SR_SIGHTING_ORDER ") FILTER (WHERE g.title IS NOT NULL))[1],"
    " (array_agg(t.text ORDER BY length(t.text) DESC, " SR_SIGHTING_ORDER ")"
    " FILTER (WHERE t.text IS NOT NULL))[1],"
    " (array_agg(g.seq ORDER BY length(t.text) DESC, " SR_SIGHTING_ORDER ")"
    " FILTER (WHERE t.text IS NOT NULL))[1],"
    " min(g.seen_at), max(g.seen_at), count(*), min(g.seq)"
    " FROM storyd_sighting g LEFT JOIN storyd_text t ON t.text_hash = g.text_hash"
    " WHERE g.seq BETWEEN $1::bigint AND $2::bigint GROUP BY g.story_id"
    " ON CONFLICT (story_id) DO UPDATE SET"
    " title = CASE WHEN excluded.title_seq IS NOT NULL AND (s.title_seq IS NULL"
    " OR storyd_sighting_before(excluded.title_seq, s.title_seq)) THEN excluded.title"
    " ELSE s.title END,"
    " title_seq = CASE WHEN excluded.title_seq IS NOT NULL AND (s.title_seq IS NULL"
    " OR storyd_sighting_before(excluded.title_seq, s.title_seq)) THEN excluded.title_seq"
    " ELSE s.title_seq END,"
    " text = CASE WHEN excluded.text IS NOT NULL AND (s.text IS NULL"
    " OR length(excluded.text) > length(s.text) OR (length(excluded.text) = length(s.text)"
    " AND storyd_sighting_before(excluded.text_seq, s.text_seq))) THEN excluded.text"
    " ELSE s.text END,"
    " text_seq = CASE WHEN excluded.text IS NOT NULL AND (s.text IS NULL"
    " OR length(excluded.text) > length(s.text) OR (length(excluded.text) = length(s.text)"
    " AND storyd_sighting_before(excluded.text_seq, s.text_seq))) THEN excluded.text_seq"
    " ELSE s.text_seq END,"
    " first_seen_at = least(s.first_seen_at, excluded.first_seen_at),"
    " last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at),"
    " sightings = s.sightings + excluded.sightings,"
    " first_sighting_seq = least(s.first_sighting_seq, excluded.first_sighting_seq),"
    " updated_at = now()";

const char sr_upsert_variants_sql[] =
    "INSERT INTO storyd_title_variant AS v (story_id, title, first_seen_at, last_seen_at,"
    " sightings)"
    " SELECT story_id, title, min(seen_at), max(seen_at), count(*) FROM storyd_sighting"
    " WHERE seq BETWEEN $1::bigint AND $2::bigint AND title IS NOT NULL GROUP BY story_id, title"
    " ON CONFLICT (story_id, title) DO UPDATE SET"
    " first_seen_at = least(v.first_seen_at, excluded.first_seen_at),"
    " last_seen_at = greatest(v.last_seen_at, excluded.last_seen_at),"
    " sightings = v.sightings + excluded.sightings";

/* Merges name the survivor at the end of the batch, so their order does not matter. */
const char sr_merge_sql[] = "SELECT storyd_merge_story(m.alias, m.survivor,"
                            " timestamptz 'epoch' + m.seen_ms * interval '1 millisecond', m.seq)"
                            " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])"
                            " AS m(alias, survivor, seen_ms, seq)";

sr_rows *sr_new(void)
{
    sr_rows *rows = calloc(1, sizeof(*rows));
    if (!rows)
        return NULL;
    sd_buf_init(&rows->sightings);
    sd_buf_init(&rows->links);
    sd_buf_init(&rows->texts);
    sd_buf_init(&rows->events);
    sd_buf_init(&rows->merge_alias);
    sd_buf_init(&rows->merge_survivor);
    sd_buf_init(&rows->merge_ms);
    sd_buf_init(&rows->merge_seq);
    return rows;
}

void sr_reset(sr_rows *rows)
{
    sd_buf_reset(&rows->sightings);
    sd_buf_reset(&rows->links);
    sd_buf_reset(&rows->texts);
    sd_buf_reset(&rows->events);
    rows->n_events = 0;
    sd_buf_reset(&rows->merge_alias);
    sd_buf_reset(&rows->merge_survivor);
    sd_buf_reset(&rows->merge_ms);
    sd_buf_reset(&rows->merge_seq);
    rows->n_items = rows->n_merges = rows->created = 0;
    rows->first_seq = rows->next_seq = 0;
}

void sr_free(sr_rows *rows)
{
    if (!rows)
        return;
    sd_buf_release(&rows->sightings);
    sd_buf_release(&rows->links);
    sd_buf_release(&rows->texts);
    sd_buf_release(&rows->events);
    free(rows->packed);
    sd_buf_release(&rows->merge_alias);
    sd_buf_release(&rows->merge_survivor);
    sd_buf_release(&rows->merge_ms);
    sd_buf_release(&rows->merge_seq);
    free(rows->items);
    free(rows->merges);
    free(rows);
}

static int add_item(sr_rows *rows, const sr_page *page, const ex_item *item, int64_t seq,
                    const dd_result *result)
{
    if (rows->n_items == rows->cap_items) {
        size_t cap = rows->cap_items ? rows->cap_items * 2 : 256;
        sr_item *grown = realloc(rows->items, cap * sizeof(*grown));
        if (!grown)
            return -1;
        rows->items = grown;
        rows->cap_items = cap;
    }
    rows->items[rows->n_items++] =
        (sr_item){.page = page, .item = item, .seq = seq, .result = *result};
    for (size_t i = 0; i < result->n_aliases; i++) {
        if (rows->n_merges == rows->cap_merges) {
            size_t cap = rows->cap_merges ? rows->cap_merges * 2 : 16;
            sr_merge *grown = realloc(rows->merges, cap * sizeof(*grown));
            if (!grown)
                return -1;
            rows->merges = grown;
            rows->cap_merges = cap;
        }
        rows->merges[rows->n_merges++] =
            (sr_merge){.alias = result->aliases[i], .seen_ms = page->seen_ms, .seq = seq};
    }
    return 0;
}

static void copy_bool(sd_buf *row, bool value)
{
    sd_buf_append_char(row, value ? 't' : 'f');
}

/* Story ids are unsigned in the engine and bigint (two's complement) in PostgreSQL. */
static void copy_id(sd_buf *row, uint64_t id)
{
    sd_copy_int64(row, (int64_t)id);
}

static void sighting_row(sr_rows *rows, const sr_item *it, uint64_t survivor,
                         const XXH128_canonical_t *hash)
{
    sd_buf *row = &rows->sightings;
    const ex_item *item = it->item;
    const sr_page *page = it->page;
    sd_copy_int64(row, it->seq);
    sd_copy_next_column(row);
    copy_id(row, survivor);
    sd_copy_next_column(row);
    copy_id(row, it->result.story);
    sd_copy_next_column(row);
    copy_bool(row, it->result.created);
    sd_copy_next_column(row);
    sd_copy_text(row, page->topic);
    sd_copy_next_column(row);
    sd_copy_int64(row, page->partition);
    sd_copy_next_column(row);
    sd_copy_int64(row, page->offset);
    sd_copy_next_column(row);
    sd_copy_text(row, page->page_url);
    sd_copy_next_column(row);
    sd_copy_int64(row, item->position);
    sd_copy_next_column(row);
    sd_copy_text(row, ex_kind_name(item->kind));
    sd_copy_next_column(row);
    sd_copy_text(row, item->title);
    sd_copy_next_column(row);
    if (hash)
        sd_copy_bytea(row, hash->digest, sizeof(hash->digest));
    else
        sd_copy_null(row);
    sd_copy_next_column(row);
    if (item->text)
        sd_copy_int64(row, (int64_t)strlen(item->text));
    else
        sd_copy_null(row);
    sd_copy_next_column(row);
    sd_copy_text(row, item->brand);
    sd_copy_next_column(row);
    sd_copy_text(row, item->section);
    sd_copy_next_column(row);
    if (item->precision != EX_TIME_NONE)
        sd_copy_timestamp_ms(row, item->published_at_ms);
    else
        sd_copy_null(row);
    sd_copy_next_column(row);
    sd_copy_text(row, ex_precision_name(item->precision));
    sd_copy_next_column(row);
    sd_copy_text(row, ex_cut_name(item->cut));
    sd_copy_next_column(row);
    sd_copy_text(row, item->url);
    sd_copy_next_column(row);
    sd_copy_timestamp_ms(row, page->seen_ms);
    sd_copy_next_column(row);
    sd_copy_int64(row, page->seen_ms);
    sd_copy_next_column(row);
    sd_copy_text(row, item->title_key);
    sd_copy_next_column(row);
    copy_bool(row, sr_title_cut(item));
    sd_copy_end_row(row);
}

static void link_rows(sr_rows *rows, const sr_item *it)
{
    for (size_t i = 0; i < it->result.n_links; i++) {
        const dd_link *link = &it->result.links[i];
        sd_buf *row = &rows->links;
        sd_copy_int64(row, it->seq);
        sd_copy_next_column(row);
        sd_copy_int64(row, (int64_t)i);
        sd_copy_next_column(row);
        sd_copy_text(row, dd_reason_name(link->reason));
        sd_copy_next_column(row);
        sd_buf_printf(row, "%.6f", link->score);
        sd_copy_next_column(row);
        copy_id(row, link->story);
        sd_copy_end_row(row);
    }
}

static void text_row(sr_rows *rows, const sr_item *it, const XXH128_canonical_t *hash)
{
    sd_buf *row = &rows->texts;
    sd_copy_int64(row, it->seq);
    sd_copy_next_column(row);
    sd_copy_bytea(row, hash->digest, sizeof(hash->digest));
    sd_copy_next_column(row);
    sd_copy_text(row, it->item->text);
    sd_copy_next_column(row);
    sd_copy_text(row, it->item->text_key);
    sd_copy_end_row(row);
}

static void merge_params(sr_rows *rows, const dd_engine *engine)
{
    sd_buf *bufs[4] = {&rows->merge_alias, &rows->merge_survivor, &rows->merge_ms,
                       &rows->merge_seq};
    for (int b = 0; b < 4; b++)
        sd_buf_append_char(bufs[b], '{');
    for (size_t i = 0; i < rows->n_merges; i++) {
        const sr_merge *m = &rows->merges[i];
        const char *sep = i ? "," : "";
        uint64_t survivor = dd_resolve(engine, m->alias);
        sd_buf_printf(&rows->merge_alias, "%s%" PRId64, sep, (int64_t)m->alias);
        sd_buf_printf(&rows->merge_survivor, "%s%" PRId64, sep, (int64_t)survivor);
        sd_buf_printf(&rows->merge_ms, "%s%" PRId64, sep, m->seen_ms);
        sd_buf_printf(&rows->merge_seq, "%s%" PRId64, sep, m->seq);
    }
    for (int b = 0; b < 4; b++) {
        sd_buf_append_char(bufs[b], '}');
        rows->merge_params[b] = bufs[b]->data;
    }
}

static void story_key(char *out, size_t len, uint64_t id)
{
    snprintf(out, len, "s%016" PRIx64, id);
}

/* Appends one outbox row: the event packed as protobuf, keyed by key. Returns 0 or -1. */
static int event_row(sr_rows *rows, const char *kind, const char *key,
                     const Storyd__V1__StoryEvent *event)
{
    size_t size = protobuf_c_message_get_packed_size(&event->base);
    if (size > rows->packed_cap) {
        uint8_t *grown = realloc(rows->packed, size);
        if (!grown)
            return -1;
        rows->packed = grown;
        rows->packed_cap = size;
    }
    protobuf_c_message_pack(&event->base, rows->packed);
    sd_buf *row = &rows->events;
    sd_copy_text(row, event->event_id);
    sd_copy_next_column(row);
    sd_copy_text(row, kind);
    sd_copy_next_column(row);
    sd_copy_text(row, rows->event_topic);
    sd_copy_next_column(row);
    sd_copy_bytea(row, (const uint8_t *)key, strlen(key));
    sd_copy_next_column(row);
    sd_copy_bytea(row, rows->packed, size);
    sd_copy_end_row(row);
    rows->n_events++;
    return 0;
}

/* protobuf-c wants writable strings for its string fields; absent ones are "". */
static char *str(const char *text)
{
    return (char *)(text ? text : "");
}

/*
 * The events of one item: CREATED or UPDATED about the story the engine answered (the id of
 * that moment, so the events do not depend on later merges or on batch boundaries), and one
 * MERGED per story the item merged away.
 */
static int item_events(sr_rows *rows, const sr_item *it)
{
    const ex_item *item = it->item;
    char key[24], event_id[80];
    story_key(key, sizeof(key), it->result.story);
    bool created = it->result.created;
    snprintf(event_id, sizeof(event_id), "%s/%" PRId64 "/%s", key, it->seq,
             created ? "created" : "updated");
    Storyd__V1__Sighting sighting = STORYD__V1__SIGHTING__INIT;
    sighting.page_url = str(it->page->page_url);
    sighting.kind = str(ex_kind_name(item->kind));
    sighting.title = str(item->title);
    sighting.position = item->position;
    sighting.item_url = str(item->url);
    sighting.brand = str(item->brand);
    sighting.section = str(item->section);
    sighting.published_at_ms = item->precision != EX_TIME_NONE ? item->published_at_ms : 0;
    sighting.text = str(created || it->result.longer_text ? item->text : NULL);
    Storyd__V1__StoryEvent event = STORYD__V1__STORY_EVENT__INIT;
    event.event_id = event_id;
    event.kind =
        created ? STORYD__V1__STORY_EVENT__KIND__CREATED : STORYD__V1__STORY_EVENT__KIND__UPDATED;
    event.story_key = key;
    event.seq = it->seq;
    event.seen_at_ms = it->page->seen_ms;
    event.new_title_variant = it->result.new_variant;
    event.longer_text = it->result.longer_text;
    event.sighting = &sighting;
    if (event_row(rows, created ? "created" : "updated", key, &event) != 0)
        return -1;
    for (size_t i = 0; i < it->result.n_aliases; i++) {
        char alias[24], merged_id[80];
        story_key(alias, sizeof(alias), it->result.aliases[i]);
        snprintf(merged_id, sizeof(merged_id), "%s/%" PRId64 "/merged", alias, it->seq);
        Storyd__V1__StoryEvent merged = STORYD__V1__STORY_EVENT__INIT;
        merged.event_id = merged_id;
        merged.kind = STORYD__V1__STORY_EVENT__KIND__MERGED;
        merged.story_key = alias;
        merged.seq = it->seq;
        merged.seen_at_ms = it->page->seen_ms;
        merged.alias_key = alias;
        merged.survivor_key = key;
        if (event_row(rows, "merged", alias, &merged) != 0)
            return -1;
    }
    return 0;
}

void sr_set_event_topic(sr_rows *rows, const char *topic)
{
    rows->event_topic = topic;
}

size_t sr_event_count(const sr_rows *rows)
{
    return rows->n_events;
}

const sd_buf *sr_event_rows(const sr_rows *rows)
{
    return &rows->events;
}

bool sr_title_cut(const ex_item *item)
{
    return item->cut == EX_CUT_PAGE_END && !item->text;
}

int sr_build(sr_rows *rows, dd_engine *engine, int64_t first_seq, const sr_page *pages, size_t n)
{
    sr_reset(rows);
    rows->first_seq = rows->next_seq = first_seq;
    for (size_t p = 0; p < n; p++) {
        const ex_page *page = pages[p].page;
        if (!page)
            continue;
        for (size_t i = 0; i < page->n_items; i++) {
            const ex_item *item = &page->items[i];
            dd_item key = {
                .url = item->url,
                .title = item->title,
                .title_key = item->title_key,
                .text_key = item->text_key,
                .title_cut = sr_title_cut(item),
                .seen_ms = pages[p].seen_ms,
            };
            dd_result result;
            if (dd_add(engine, &key, &result) != 0)
                return -1;
            if (add_item(rows, &pages[p], item, rows->next_seq, &result) != 0)
                return -1;
            rows->next_seq++;
            if (result.created)
                rows->created++;
        }
    }
    /* Rows name each story by its survivor at the end of the batch: later merges re-point them
     * in PostgreSQL (storyd_merge_story), as the engine's aliases do in memory. */
    for (size_t i = 0; i < rows->n_items; i++) {
        const sr_item *it = &rows->items[i];
        uint64_t survivor = dd_resolve(engine, it->result.story);
        XXH128_canonical_t hash;
        bool has_text = it->item->text && it->item->text_key;
        if (has_text) {
            XXH128_canonicalFromHash(&hash,
                                     XXH3_128bits(it->item->text_key, strlen(it->item->text_key)));
            text_row(rows, it, &hash);
        }
        sighting_row(rows, it, survivor ? survivor : it->result.story, has_text ? &hash : NULL);
        link_rows(rows, it);
        if (rows->event_topic && item_events(rows, it) != 0)
            return -1;
    }
    merge_params(rows, engine);
    snprintf(rows->first_text, sizeof(rows->first_text), "%" PRId64, rows->first_seq);
    snprintf(rows->last_text, sizeof(rows->last_text), "%" PRId64, rows->next_seq - 1);
    bool failed = rows->sightings.failed || rows->links.failed || rows->texts.failed ||
                  rows->events.failed || rows->merge_alias.failed || rows->merge_survivor.failed ||
                  rows->merge_ms.failed || rows->merge_seq.failed;
    return failed ? -1 : 0;
}

int64_t sr_next_seq(const sr_rows *rows)
{
    return rows->next_seq;
}

size_t sr_sighting_count(const sr_rows *rows)
{
    return rows->n_items;
}

size_t sr_merge_count(const sr_rows *rows)
{
    return rows->n_merges;
}

size_t sr_created_count(const sr_rows *rows)
{
    return rows->created;
}

const sd_buf *sr_sighting_rows(const sr_rows *rows)
{
    return &rows->sightings;
}

const sd_buf *sr_link_rows(const sr_rows *rows)
{
    return &rows->links;
}

const sd_buf *sr_text_rows(const sr_rows *rows)
{
    return &rows->texts;
}

const char *sr_first_seq_text(const sr_rows *rows)
{
    return rows->first_text;
}

const char *sr_last_seq_text(const sr_rows *rows)
{
    return rows->last_text;
}

const char *const *sr_merge_params(const sr_rows *rows)
{
    return rows->merge_params;
}
