#include "daemon/batch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "core/page_event.h"
#include "db/copy_text.h"

typedef struct bt_part {
    char *topic; /* owned */
    int32_t partition;
    int64_t next_offset;
    /* Text parameters of the offset step, owned by the batch. */
    char partition_text[16];
    char expected_text[24];
    char next_text[24];
    const char *params[5];
} bt_part;

struct bt_batch {
    sd_buf pages;   /* COPY rows for storyd_page_event */
    sd_buf rejects; /* COPY rows for storyd_rejected_event */
    size_t page_count, reject_count;
    bt_part *partitions;
    size_t partition_count, partition_cap;
    pgc_step *steps;
    size_t step_cap;
    const char *group; /* borrowed from the config during prepare */
};

static const char copy_pages_sql[] =
    "COPY storyd_page_event (url, final_url, fetched_at, http_status, content_type, body_size,"
    " content_hash, source_id, publisher_hint, kafka_topic, kafka_partition, kafka_offset,"
    " kafka_timestamp, received_at) FROM STDIN";
static const char copy_rejects_sql[] =
    "COPY storyd_rejected_event (kafka_topic, kafka_partition, kafka_offset, kafka_key,"
    " value_size, error_class, error_message, received_at) FROM STDIN";
static const char advance_sql[] = "SELECT storyd_advance_offset($1, $2, $3, $4, $5)";

bt_batch *bt_new(void)
{
    bt_batch *batch = calloc(1, sizeof(*batch));
    if (!batch)
        return NULL;
    sd_buf_init(&batch->pages);
    sd_buf_init(&batch->rejects);
    return batch;
}

void bt_reset(bt_batch *batch)
{
    sd_buf_reset(&batch->pages);
    sd_buf_reset(&batch->rejects);
    batch->page_count = batch->reject_count = 0;
    for (size_t i = 0; i < batch->partition_count; i++)
        free(batch->partitions[i].topic);
    batch->partition_count = 0;
}

void bt_free(bt_batch *batch)
{
    if (!batch)
        return;
    bt_reset(batch);
    sd_buf_release(&batch->pages);
    sd_buf_release(&batch->rejects);
    free(batch->partitions);
    free(batch->steps);
    free(batch);
}

/* Records that offset was consumed; returns -1 when out of memory. */
static int note_offset(bt_batch *batch, const char *topic, int32_t partition, int64_t offset)
{
    for (size_t i = 0; i < batch->partition_count; i++) {
        bt_part *p = &batch->partitions[i];
        if (p->partition == partition && strcmp(p->topic, topic) == 0) {
            if (offset + 1 > p->next_offset)
                p->next_offset = offset + 1;
            return 0;
        }
    }
    if (batch->partition_count == batch->partition_cap) {
        size_t cap = batch->partition_cap ? batch->partition_cap * 2 : 8;
        bt_part *grown = realloc(batch->partitions, cap * sizeof(*grown));
        if (!grown)
            return -1;
        batch->partitions = grown;
        batch->partition_cap = cap;
    }
    bt_part *p = &batch->partitions[batch->partition_count];
    memset(p, 0, sizeof(*p));
    p->topic = strdup(topic);
    if (!p->topic)
        return -1;
    p->partition = partition;
    p->next_offset = offset + 1;
    batch->partition_count++;
    return 0;
}

static void add_page_row(bt_batch *batch, const pe_page_event *event, const char *topic,
                         const rd_kafka_message_t *message, int64_t received_ms)
{
    sd_buf *row = &batch->pages;
    rd_kafka_timestamp_type_t ts_type;
    int64_t kafka_ts = rd_kafka_message_timestamp(message, &ts_type);
    sd_copy_text(row, event->url);
    sd_copy_next_column(row);
    sd_copy_text(row, event->final_url);
    sd_copy_next_column(row);
    if (event->fetched_at_ms > 0)
        sd_copy_timestamp_ms(row, event->fetched_at_ms);
    else
        sd_copy_null(row);
    sd_copy_next_column(row);
    if (event->http_status > 0)
        sd_copy_int64(row, event->http_status);
    else
        sd_copy_null(row);
    sd_copy_next_column(row);
    sd_copy_text(row, event->content_type);
    sd_copy_next_column(row);
    sd_copy_int64(row, (int64_t)event->body_len);
    sd_copy_next_column(row);
    sd_copy_bytea(row, event->content_hash, sizeof(event->content_hash));
    sd_copy_next_column(row);
    sd_copy_text(row, event->source_id);
    sd_copy_next_column(row);
    sd_copy_text(row, event->publisher_hint);
    sd_copy_next_column(row);
    sd_copy_text(row, topic);
    sd_copy_next_column(row);
    sd_copy_int64(row, message->partition);
    sd_copy_next_column(row);
    sd_copy_int64(row, message->offset);
    sd_copy_next_column(row);
    /* A producer may set any int64; PostgreSQL would refuse the batch for one out of range. */
    if (ts_type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && kafka_ts >= 0 &&
        kafka_ts <= PE_MAX_TIMESTAMP_MS)
        sd_copy_timestamp_ms(row, kafka_ts);
    else
        sd_copy_null(row);
    sd_copy_next_column(row);
    sd_copy_timestamp_ms(row, received_ms);
    sd_copy_end_row(row);
}

static void add_reject_row(bt_batch *batch, const char *topic, const rd_kafka_message_t *message,
                           int64_t received_ms, const char *error_class, const char *error)
{
    sd_buf *row = &batch->rejects;
    sd_copy_text(row, topic);
    sd_copy_next_column(row);
    sd_copy_int64(row, message->partition);
    sd_copy_next_column(row);
    sd_copy_int64(row, message->offset);
    sd_copy_next_column(row);
    if (message->key)
        sd_copy_bytea(row, message->key, message->key_len);
    else
        sd_copy_null(row);
    sd_copy_next_column(row);
    sd_copy_int64(row, (int64_t)message->len);
    sd_copy_next_column(row);
    sd_copy_text(row, error_class);
    sd_copy_next_column(row);
    /* Error messages are built by storyd from ASCII text and numbers only. */
    sd_copy_text(row, error);
    sd_copy_next_column(row);
    sd_copy_timestamp_ms(row, received_ms);
    sd_copy_end_row(row);
}

bt_added bt_add(bt_batch *batch, const rd_kafka_message_t *message, int64_t received_ms, char *why,
                size_t whylen)
{
    const char *topic = rd_kafka_topic_name(message->rkt);
    if (note_offset(batch, topic, message->partition, message->offset) != 0)
        return BT_NOMEM;
    pe_page_event *event = NULL;
    char error[256];
    pe_status status = pe_decode(message->payload, message->len, &event, error, sizeof(error));
    if (status == PE_OK) {
        add_page_row(batch, event, topic, message, received_ms);
        pe_free(event);
        batch->page_count++;
    } else if (status == PE_ERR_NOMEM) {
        return BT_NOMEM;
    } else {
        add_reject_row(batch, topic, message, received_ms, pe_status_name(status), error);
        batch->reject_count++;
        snprintf(why, whylen, "%s: %s", pe_status_name(status), error);
    }
    if (batch->pages.failed || batch->rejects.failed)
        return BT_NOMEM;
    return status == PE_OK ? BT_PAGE : BT_REJECTED;
}

size_t bt_events(const bt_batch *batch)
{
    return batch->page_count + batch->reject_count;
}

size_t bt_pages(const bt_batch *batch)
{
    return batch->page_count;
}

size_t bt_rejects(const bt_batch *batch)
{
    return batch->reject_count;
}

size_t bt_bytes(const bt_batch *batch)
{
    return batch->pages.len + batch->rejects.len;
}

size_t bt_partition_count(const bt_batch *batch)
{
    return batch->partition_count;
}

void bt_partition(const bt_batch *batch, size_t index, const char **topic, int32_t *partition,
                  int64_t *next_offset)
{
    *topic = batch->partitions[index].topic;
    *partition = batch->partitions[index].partition;
    *next_offset = batch->partitions[index].next_offset;
}

int bt_prepare(bt_batch *batch, const char *consumer_group, const int64_t *expected,
               pgc_step **steps, size_t *nsteps)
{
    size_t need = 4 + batch->partition_count;
    if (need > batch->step_cap) {
        pgc_step *grown = realloc(batch->steps, need * sizeof(*grown));
        if (!grown)
            return -1;
        batch->steps = grown;
        batch->step_cap = need;
    }
    batch->group = consumer_group;
    size_t n = 0;
    pgc_step *s = batch->steps;
    memset(s, 0, need * sizeof(*s));
    s[n++] = (pgc_step){.kind = PGC_STEP_QUERY, .sql = "BEGIN"};
    if (batch->page_count)
        s[n++] = (pgc_step){.kind = PGC_STEP_COPY,
                            .sql = copy_pages_sql,
                            .copy_data = batch->pages.data,
                            .copy_len = batch->pages.len};
    if (batch->reject_count)
        s[n++] = (pgc_step){.kind = PGC_STEP_COPY,
                            .sql = copy_rejects_sql,
                            .copy_data = batch->rejects.data,
                            .copy_len = batch->rejects.len};
    for (size_t i = 0; i < batch->partition_count; i++) {
        bt_part *p = &batch->partitions[i];
        snprintf(p->partition_text, sizeof(p->partition_text), "%" PRId32, p->partition);
        snprintf(p->expected_text, sizeof(p->expected_text), "%" PRId64, expected[i]);
        snprintf(p->next_text, sizeof(p->next_text), "%" PRId64, p->next_offset);
        p->params[0] = consumer_group;
        p->params[1] = p->topic;
        p->params[2] = p->partition_text;
        p->params[3] = expected[i] >= 0 ? p->expected_text : NULL;
        p->params[4] = p->next_text;
        s[n++] = (pgc_step){
            .kind = PGC_STEP_QUERY, .sql = advance_sql, .nparams = 5, .params = p->params};
    }
    s[n++] = (pgc_step){.kind = PGC_STEP_QUERY, .sql = "COMMIT"};
    *steps = s;
    *nsteps = n;
    return 0;
}
