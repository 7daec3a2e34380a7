/*
 * A batch: the rows of consumed events, built as COPY text while messages
 * arrive, and the next offset of every partition it touches. The batch is
 * written as ONE transaction: BEGIN, COPY page rows, COPY rejected events,
 * one fenced offset advance per partition, COMMIT.
 */
#ifndef SD_DAEMON_BATCH_H
#define SD_DAEMON_BATCH_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/pg_conn.h"

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

/*
 * Adds one message (borrowed). received_ms is when storyd took it. A message
 * that does not decode becomes a rejected-event row; either way its offset
 * counts as consumed.
 */
bt_added bt_add(bt_batch *batch, const rd_kafka_message_t *message, int64_t received_ms, char *why,
                size_t whylen);

size_t bt_events(const bt_batch *batch);
size_t bt_pages(const bt_batch *batch);
size_t bt_rejects(const bt_batch *batch);
size_t bt_bytes(const bt_batch *batch);

/* The partitions in the batch: topic (borrowed), partition and the next offset to store. */
size_t bt_partition_count(const bt_batch *batch);
void bt_partition(const bt_batch *batch, size_t index, const char **topic, int32_t *partition,
                  int64_t *next_offset);

/*
 * Builds the transaction's steps. expected[i] is the offset stored in
 * PostgreSQL for partition i of the batch, or -1 when none is stored. The
 * steps are owned by the batch and valid until bt_reset; the caller may set
 * their hooks. Returns 0 or -1 (out of memory).
 */
int bt_prepare(bt_batch *batch, const char *consumer_group, const int64_t *expected,
               pgc_step **steps, size_t *nsteps) __attribute__((warn_unused_result));

#endif
