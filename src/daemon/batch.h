/*
 * A batch: the rows of consumed events, built as COPY text while messages
 * arrive, their extracted pages, their story rows (bt_dedup), and the next
 * offset of every partition it touches. The batch is written as ONE
 * transaction: BEGIN, COPY page rows and rejected events, COPY texts (staged,
 * then inserted once each), sightings and links, the story and title-variant
 * upserts aggregated from the sightings, the merges, one fenced offset
 * advance per partition, COMMIT.
 */
#ifndef SD_DAEMON_BATCH_H
#define SD_DAEMON_BATCH_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "core/extract.h"
#include "core/page_event.h"
#include "core/profile.h"
#include "daemon/pg_conn.h"
#include "db/story_rows.h"
#include "dedup/engine.h"

typedef struct bt_batch bt_batch;

typedef enum {
    BT_PAGE = 0,     /* decoded: a page row was added */
    BT_REJECTED = 1, /* not decodable: a rejected-event row was added, why says why */
    BT_NOMEM = -1,
} bt_added;

/* Returns NULL when out of memory. */
bt_batch *bt_new(void);
void bt_free(bt_batch *batch);
/* Empties the batch for reuse (keeps buffers). */
void bt_reset(bt_batch *batch);

/* What extraction needs: the site profiles (borrowed for the call). */
typedef struct bt_extract {
    const sp_profile *const *profiles;
    size_t n_profiles;
    const ex_limits *limits; /* NULL: ex_default_limits */
    size_t max_event_bytes;  /* a larger message is dead-lettered; 0: no bound */
    int64_t max_page_ms;     /* an extraction taking longer is dead-lettered; 0: no bound */
} bt_extract;

/* The extraction limits of storyd's [limits] keys (out is filled whole). */
void bt_limits_from(const sd_config *config, ex_limits *out);

/*
 * Adds one message (borrowed). received_ms is when storyd took it. A message
 * that decodes is extracted at once (pure, no state) with extract's profiles
 * (NULL: none) and kept for the dedup pass; a page extraction fails on still
 * gets its page row, naming the error. A message that does not decode
 * becomes a rejected-event row. Either way its offset counts as consumed.
 */
bt_added bt_add(bt_batch *batch, const rd_kafka_message_t *message, int64_t received_ms,
                const bt_extract *extract, char *why, size_t whylen);

/*
 * The dedup pass: every item of the batch's pages, in order, through the
 * engine (the caller brackets it with dd_begin and dd_commit/dd_rollback),
 * numbered from first_seq; builds the story rows that bt_prepare sends. May be
 * run again after a rollback and gives the same rows. Returns 0 or -1 (out of
 * memory).
 */
int bt_dedup(bt_batch *batch, dd_engine *engine, int64_t first_seq)
    __attribute__((warn_unused_result));
/* The story rows of the last bt_dedup (borrowed). */
const sr_rows *bt_stories(const bt_batch *batch);
/* Story items extracted so far. */
size_t bt_items(const bt_batch *batch);

size_t bt_events(const bt_batch *batch);
size_t bt_pages(const bt_batch *batch);
size_t bt_rejects(const bt_batch *batch);
size_t bt_bytes(const bt_batch *batch);

/* The partitions in the batch: topic (borrowed), partition and the next offset to store. */
size_t bt_partition_count(const bt_batch *batch);
void bt_partition(const bt_batch *batch, size_t index, const char **topic, int32_t *partition,
                  int64_t *next_offset);

/*
 * The outbox topics (borrowed from the config for the batch's life): story
 * events for story_topic, and every message that cannot be decoded or
 * extracted, with its key and bytes, for dead_letter_topic. NULL: none.
 */
void bt_set_topics(bt_batch *batch, const char *story_topic, const char *dead_letter_topic);
/*
 * The wire format of the input (storyd.input_format): PE_FORMAT_AUTO, the
 * default, lets each message's content-type header or first byte decide.
 */
void bt_set_input_format(bt_batch *batch, pe_format format);
/* Dead letters in the batch. */
size_t bt_dead_letters(const bt_batch *batch);

/*
 * statements: send the rows as pipelined prepared INSERTs (batch.write_method =
 * statements) instead of COPY, the same rows and the same transaction.
 */
void bt_set_statements(bt_batch *batch, bool statements);

/*
 * Builds the transaction's steps. expected[i] is the offset stored in
 * PostgreSQL for partition i of the batch, or -1 when none is stored. The
 * steps are owned by the batch and valid until bt_reset; the caller may set
 * their hooks. Returns 0 or -1 (out of memory).
 */
int bt_prepare(bt_batch *batch, const char *consumer_group, const int64_t *expected,
               pgc_step **steps, size_t *nsteps) __attribute__((warn_unused_result));

#endif
