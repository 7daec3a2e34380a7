/*
 * The story rows of one batch: each item of the batch's pages goes through
 * the dedup engine in order, and becomes a sighting row (with the engine's
 * input, so the state can be rebuilt from the rows), its link rows, a staged
 * text row, and, when it joined two stories, a merge. Pure: the engine is
 * changed, nothing else; the rows are COPY text (copy_text.h) and the merge
 * list is a set of PostgreSQL array literals for one statement.
 *
 * The caller brackets a build with dd_begin and dd_commit (the batch
 * committed) or dd_rollback (it did not), so the engine always equals what
 * PostgreSQL holds.
 */
#ifndef SD_DB_STORY_ROWS_H
#define SD_DB_STORY_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "core/item.h"
#include "dedup/engine.h"

/* One page of the batch, in the order its items reach the engine. Everything is borrowed. */
typedef struct sr_page {
    const ex_page *page;
    const char *page_url;
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t seen_ms; /* when the page was fetched (or received): the items' time */
} sr_page;

typedef struct sr_rows sr_rows;

/* Returns NULL when out of memory. */
sr_rows *sr_new(void);
void sr_free(sr_rows *rows);
void sr_reset(sr_rows *rows);

/*
 * Adds every item of pages[0..n) (a NULL page has none) to the engine, in
 * order, numbering them from first_seq, and builds the rows. Returns 0, or -1
 * when out of memory (the caller rolls the engine back).
 */
int sr_build(sr_rows *rows, dd_engine *engine, int64_t first_seq, const sr_page *pages, size_t n)
    __attribute__((warn_unused_result));

/*
 * Story events (storyd/v1/story_event.proto) go to the outbox for this topic
 * (borrowed; NULL, the default: none are built). One CREATED or UPDATED event
 * per item, one MERGED per story an item merged away.
 */
void sr_set_event_topic(sr_rows *rows, const char *topic);
size_t sr_event_count(const sr_rows *rows);
/* COPY text rows for storyd_outbox (sr_copy_events_sql's columns), borrowed. */
const sd_buf *sr_event_rows(const sr_rows *rows);

/* Whether the engine treats an item's title as possibly cut (the rendering ended in it). */
bool sr_title_cut(const ex_item *item);

/* The next seq after the batch (first_seq when it held no item). */
int64_t sr_next_seq(const sr_rows *rows);
size_t sr_sighting_count(const sr_rows *rows);
size_t sr_merge_count(const sr_rows *rows);
size_t sr_created_count(const sr_rows *rows);

/* COPY text rows for storyd_sighting, storyd_story_link and the text stage (borrowed). */
const sd_buf *sr_sighting_rows(const sr_rows *rows);
const sd_buf *sr_link_rows(const sr_rows *rows);
const sd_buf *sr_text_rows(const sr_rows *rows);
/* The seq range of the batch's sightings as decimal text (borrowed), for the upserts. */
const char *sr_first_seq_text(const sr_rows *rows);
const char *sr_last_seq_text(const sr_rows *rows);
/* Merges as four bigint array literals: alias, survivor, seen_ms, seq (borrowed). */
const char *const *sr_merge_params(const sr_rows *rows);

/* The column lists of the COPY rows above, and the SQL that merges them (see schemas/0002). */
extern const char sr_copy_sightings_sql[];
extern const char sr_copy_links_sql[];
extern const char sr_copy_texts_sql[];
extern const char sr_copy_events_sql[];
extern const char sr_stage_sql[];
extern const char sr_insert_texts_sql[];
extern const char sr_upsert_stories_sql[];
extern const char sr_upsert_variants_sql[];
extern const char sr_merge_sql[];

#endif
