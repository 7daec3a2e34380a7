#include "daemon/batch.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "core/extract.h"
#include "core/page_event.h"
#include "db/copy_text.h"
#include "db/story_rows.h"

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

/*
 * The rows of one COPY step as parameters of a pipelined prepared INSERT of the same columns
 * (batch.write_method = statements): the same data, sent the other way, to measure both.
 */
typedef struct bt_statement {
    char sql[1024];      /* INSERT INTO table (columns) VALUES ($1, ...) */
    char name[32];       /* the prepared statement's name */
    sd_buf values;       /* decoded values, NUL-terminated */
    const char **params; /* rows * columns pointers into values, NULL for SQL NULL */
    size_t params_cap;
} bt_statement;

#define BT_MAX_COPIES 7

/* An extracted page waiting for the dedup pass of its batch. */
typedef struct bt_page {
    ex_page *page;  /* owned; NULL when extraction failed */
    char *page_url; /* owned */
    size_t part;    /* index into partitions (topic pointers stay put when the array grows) */
    int64_t offset;
    int64_t seen_ms;
} bt_page;

struct bt_batch {
    sd_buf pages;   /* COPY rows for storyd_page_event */
    sd_buf rejects; /* COPY rows for storyd_rejected_event */
    sd_buf dead;    /* COPY rows for storyd_outbox: dead letters */
    size_t page_count, reject_count, dead_count;
    const char *dead_letter_topic; /* borrowed from the config; NULL: none */
    pe_format input_format;        /* PE_FORMAT_AUTO unless the config forces one */
    bt_page *extracted;
    size_t n_extracted, cap_extracted;
    sr_page *sr_pages; /* built from extracted for sr_build */
    size_t cap_sr_pages;
    sr_rows *stories; /* the story rows of the last bt_dedup */
    bool statements;  /* send COPY steps as pipelined INSERTs */
    bt_statement statement[BT_MAX_COPIES];
    bool deduped;
    size_t item_count;
    const char *seq_params[2];
    bt_part *partitions;
    size_t partition_count, partition_cap;
    pgc_step *steps;
    size_t step_cap;
    const char *group; /* borrowed from the config during prepare */
};

static const char copy_pages_sql[] =
    "COPY storyd_page_event (url, final_url, fetched_at, http_status, content_type, body_size,"
    " content_hash, source_id, publisher_hint, kafka_topic, kafka_partition, kafka_offset,"
    " kafka_timestamp, received_at, page_kind, canonical_url, profile, profile_version, charset,"
    " item_count, extract_error, wire_format, schema_id) FROM STDIN";
static const char copy_rejects_sql[] =
    "COPY storyd_rejected_event (kafka_topic, kafka_partition, kafka_offset, kafka_key,"
    " value_size, error_class, error_message, received_at) FROM STDIN";
static const char copy_dead_sql[] =
    "COPY storyd_outbox (event_id, kind, kafka_topic, kafka_key, value, error_class,"
    " error_message, source_topic, source_partition, source_offset) FROM STDIN";
static const char advance_sql[] = "SELECT storyd_advance_offset($1, $2, $3, $4, $5)";

bt_batch *bt_new(void)
{
    bt_batch *batch = calloc(1, sizeof(*batch));
    if (!batch)
        return NULL;
    sd_buf_init(&batch->pages);
    sd_buf_init(&batch->rejects);
    sd_buf_init(&batch->dead);
    for (int i = 0; i < BT_MAX_COPIES; i++)
        sd_buf_init(&batch->statement[i].values);
    batch->stories = sr_new();
    if (!batch->stories) {
        free(batch);
        return NULL;
    }
    return batch;
}

void bt_reset(bt_batch *batch)
{
    sd_buf_reset(&batch->pages);
    sd_buf_reset(&batch->rejects);
    sd_buf_reset(&batch->dead);
    batch->page_count = batch->reject_count = batch->dead_count = 0;
    for (size_t i = 0; i < batch->n_extracted; i++) {
        ex_page_free(batch->extracted[i].page);
        free(batch->extracted[i].page_url);
    }
    batch->n_extracted = 0;
    batch->item_count = 0;
    batch->deduped = false;
    sr_reset(batch->stories);
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
    sd_buf_release(&batch->dead);
    free(batch->partitions);
    free(batch->steps);
    free(batch->extracted);
    free(batch->sr_pages);
    sr_free(batch->stories);
    for (int i = 0; i < BT_MAX_COPIES; i++) {
        sd_buf_release(&batch->statement[i].values);
        free(batch->statement[i].params);
    }
    free(batch);
}

/* Records that offset was consumed; returns the partition's index, or -1 when out of memory. */
static long note_offset(bt_batch *batch, const char *topic, int32_t partition, int64_t offset)
{
    for (size_t i = 0; i < batch->partition_count; i++) {
        bt_part *p = &batch->partitions[i];
        if (p->partition == partition && strcmp(p->topic, topic) == 0) {
            if (offset + 1 > p->next_offset)
                p->next_offset = offset + 1;
            return (long)i;
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
    return (long)batch->partition_count - 1;
}

/* The message's Kafka coordinates as three columns (topic, partition, offset), no separator
 * after them. */
static void copy_coordinates(sd_buf *row, const char *topic, const rd_kafka_message_t *message)
{
    sd_copy_text(row, topic);
    sd_copy_next_column(row);
    sd_copy_int64(row, message->partition);
    sd_copy_next_column(row);
    sd_copy_int64(row, message->offset);
}

static void add_page_row(bt_batch *batch, const pe_page_event *event, const char *topic,
                         const rd_kafka_message_t *message, int64_t received_ms,
                         const ex_page *page, const char *extract_error)
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
    copy_coordinates(row, topic, message);
    sd_copy_next_column(row);
    /* A producer may set any int64; PostgreSQL would refuse the batch for one out of range. */
    if (ts_type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && kafka_ts >= 0 &&
        kafka_ts <= PE_MAX_TIMESTAMP_MS)
        sd_copy_timestamp_ms(row, kafka_ts);
    else
        sd_copy_null(row);
    sd_copy_next_column(row);
    sd_copy_timestamp_ms(row, received_ms);
    sd_copy_next_column(row);
    if (page) {
        sd_copy_text(row, sp_page_kind_name(page->kind));
        sd_copy_next_column(row);
        sd_copy_text(row, page->canonical_url);
        sd_copy_next_column(row);
        sd_copy_text(row, page->profile_name);
        sd_copy_next_column(row);
        sd_copy_text(row, page->profile_version);
        sd_copy_next_column(row);
        sd_copy_text(row, page->charset);
        sd_copy_next_column(row);
        sd_copy_int64(row, (int64_t)page->n_items);
        sd_copy_next_column(row);
        sd_copy_null(row);
    } else {
        for (int i = 0; i < 6; i++) {
            sd_copy_null(row);
            sd_copy_next_column(row);
        }
        sd_copy_text(row, extract_error);
    }
    sd_copy_next_column(row);
    sd_copy_text(row, pe_format_name(event->format));
    sd_copy_next_column(row);
    if (event->schema_id >= 0)
        sd_copy_int64(row, event->schema_id);
    else
        sd_copy_null(row);
    sd_copy_end_row(row);
}

/* The message's key as a bytea column, or NULL when it has none. */
static void copy_key(sd_buf *row, const rd_kafka_message_t *message)
{
    if (message->key)
        sd_copy_bytea(row, message->key, message->key_len);
    else
        sd_copy_null(row);
}

static void add_reject_row(bt_batch *batch, const char *topic, const rd_kafka_message_t *message,
                           int64_t received_ms, const char *error_class, const char *error)
{
    sd_buf *row = &batch->rejects;
    copy_coordinates(row, topic, message);
    sd_copy_next_column(row);
    copy_key(row, message);
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

/*
 * The message as it came, bound for the dead-letter topic through the outbox, in the
 * transaction that advances its offset: a crash can neither lose it nor skip it.
 */
static void add_dead_letter(bt_batch *batch, const char *topic, const rd_kafka_message_t *message,
                            const char *error_class, const char *error)
{
    if (!batch->dead_letter_topic)
        return;
    sd_buf *row = &batch->dead;
    sd_buf_printf(row, "dl/");
    sd_copy_text(row, topic);
    sd_buf_printf(row, "/%" PRId32 "/%" PRId64, message->partition, message->offset);
    sd_copy_next_column(row);
    sd_copy_text(row, "dead_letter");
    sd_copy_next_column(row);
    sd_copy_text(row, batch->dead_letter_topic);
    sd_copy_next_column(row);
    copy_key(row, message);
    sd_copy_next_column(row);
    sd_copy_bytea(row, message->payload, message->len);
    sd_copy_next_column(row);
    sd_copy_text(row, error_class);
    sd_copy_next_column(row);
    sd_copy_text(row, error);
    sd_copy_next_column(row);
    copy_coordinates(row, topic, message);
    sd_copy_end_row(row);
    batch->dead_count++;
}

void bt_set_topics(bt_batch *batch, const char *story_topic, const char *dead_letter_topic)
{
    sr_set_event_topic(batch->stories, story_topic);
    batch->dead_letter_topic = dead_letter_topic;
}

size_t bt_dead_letters(const bt_batch *batch)
{
    return batch->dead_count;
}

/* When the page's items were seen: its fetch time, else the Kafka timestamp, else now. */
static int64_t seen_ms_of(const pe_page_event *event, const rd_kafka_message_t *message,
                          int64_t received_ms)
{
    if (event->fetched_at_ms > 0)
        return event->fetched_at_ms;
    rd_kafka_timestamp_type_t ts_type;
    int64_t kafka_ts = rd_kafka_message_timestamp(message, &ts_type);
    if (ts_type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && kafka_ts > 0 &&
        kafka_ts <= PE_MAX_TIMESTAMP_MS)
        return kafka_ts;
    return received_ms;
}

void bt_limits_from(const sd_config *config, ex_limits *out)
{
    *out = (ex_limits){
        .max_page_bytes = (size_t)config->limit_page_bytes,
        .max_items = (size_t)config->limit_items,
        .max_item_bytes = (size_t)config->limit_item_bytes,
        .blocks = {.max_lines = (size_t)config->limit_lines,
                   .max_depth = (size_t)config->limit_html_depth,
                   .max_nodes = (size_t)config->limit_html_nodes},
    };
}

/* The value of the ex_limits field a page reports as the one that cut it short. */
static size_t limit_value(const ex_limits *limits, const char *name)
{
    if (strcmp(name, "max_items") == 0)
        return limits->max_items;
    if (strcmp(name, "max_item_bytes") == 0 || strcmp(name, "max_body_bytes") == 0)
        return limits->max_item_bytes;
    if (strcmp(name, "max_lines") == 0)
        return limits->blocks.max_lines;
    if (strcmp(name, "max_depth") == 0)
        return limits->blocks.max_depth;
    if (strcmp(name, "max_nodes") == 0)
        return limits->blocks.max_nodes;
    return 0;
}

/* The [limits] key of an ex_limits field name. */
static const char *limit_key(const char *name)
{
    if (strcmp(name, "max_depth") == 0)
        return "max_html_depth";
    if (strcmp(name, "max_nodes") == 0)
        return "max_html_nodes";
    if (strcmp(name, "max_body_bytes") == 0)
        return "max_item_bytes";
    return name;
}

static int64_t monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*
 * Extracts the page and keeps it for the dedup pass; returns 0 or -1 (out of memory). A page
 * that fails, or that a limit cut short, or whose extraction ran past max_page_ms, keeps no
 * items: error says why, and the event is dead-lettered by the caller.
 */
static int extract_page(bt_batch *batch, const bt_extract *extract, const pe_page_event *event,
                        size_t part, int64_t offset, int64_t seen_ms, ex_page **page, char *error,
                        size_t errlen)
{
    *page = NULL;
    error[0] = '\0';
    if (batch->n_extracted == batch->cap_extracted) {
        size_t cap = batch->cap_extracted ? batch->cap_extracted * 2 : 64;
        bt_page *grown = realloc(batch->extracted, cap * sizeof(*grown));
        if (!grown)
            return -1;
        batch->extracted = grown;
        batch->cap_extracted = cap;
    }
    const char *url = event->final_url && event->final_url[0] ? event->final_url : event->url;
    char *page_url = strdup(url);
    if (!page_url)
        return -1;
    ex_input input = {.url = url,
                      .content_type = event->content_type,
                      .body = event->body,
                      .len = event->body_len};
    char why[512];
    const ex_limits *limits = extract && extract->limits ? extract->limits : &ex_default_limits;
    int64_t started = monotonic_ms();
    ex_status status =
        ex_extract(extract ? extract->profiles : NULL, extract ? extract->n_profiles : 0, &input,
                   limits, page, why, sizeof(why));
    int64_t took = monotonic_ms() - started;
    if (status == EX_ERR_NOMEM) {
        free(page_url);
        return -1;
    }
    if (status == EX_ERR_TOO_LARGE) {
        snprintf(error, errlen, "limit: limits.%s", why);
    } else if (status != EX_OK) {
        snprintf(error, errlen, "%s: %s", ex_status_name(status), why);
    } else if ((*page)->limit) {
        const char *name = (*page)->limit;
        snprintf(error, errlen, "limit: limits.%s (%zu) exceeded; none of its items were stored",
                 limit_key(name), limit_value(limits, name));
    } else if (extract && extract->max_page_ms > 0 && took > extract->max_page_ms) {
        snprintf(error, errlen,
                 "limit: limits.max_page_ms (%" PRId64 ") exceeded: the extraction took %" PRId64
                 " ms",
                 extract->max_page_ms, took);
    }
    if (error[0] && *page) {
        ex_page_free(*page);
        *page = NULL;
    }
    batch->extracted[batch->n_extracted++] = (bt_page){
        .page = *page, .page_url = page_url, .part = part, .offset = offset, .seen_ms = seen_ms};
    if (*page)
        batch->item_count += (*page)->n_items;
    return 0;
}

/*
 * The message's last "content-type" header as a string in out, or NULL when it has none (or one
 * too long to be a media type storyd knows: the bytes decide then).
 */
static const char *content_type_header(const rd_kafka_message_t *message, char *out, size_t len)
{
    rd_kafka_headers_t *headers = NULL;
    const void *value = NULL;
    size_t size = 0;
    if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(headers, "content-type", &value, &size) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        !value || size >= len)
        return NULL;
    memcpy(out, value, size);
    out[size] = '\0';
    return out;
}

void bt_set_input_format(bt_batch *batch, pe_format format)
{
    batch->input_format = format;
}

bt_added bt_add(bt_batch *batch, const rd_kafka_message_t *message, int64_t received_ms,
                const bt_extract *extract, char *why, size_t whylen)
{
    const char *topic = rd_kafka_topic_name(message->rkt);
    long part = note_offset(batch, topic, message->partition, message->offset);
    if (part < 0)
        return BT_NOMEM;
    pe_page_event *event = NULL;
    char error[640];
    char content_type[128];
    pe_status status;
    if (extract && extract->max_event_bytes > 0 && message->len > extract->max_event_bytes) {
        /* Not even decoded: it goes to the dead letters whole. */
        status = PE_ERR_LIMIT;
        snprintf(error, sizeof(error), "limits.max_event_bytes (%zu) exceeded: %zu bytes",
                 extract->max_event_bytes, message->len);
    } else {
        status = pe_decode_message(message->payload, message->len, batch->input_format,
                                   content_type_header(message, content_type, sizeof(content_type)),
                                   &event, error, sizeof(error));
    }
    if (status == PE_OK) {
        ex_page *page;
        char extract_error[640];
        if (extract_page(batch, extract, event, (size_t)part, message->offset,
                         seen_ms_of(event, message, received_ms), &page, extract_error,
                         sizeof(extract_error)) != 0) {
            pe_free(event);
            return BT_NOMEM;
        }
        add_page_row(batch, event, topic, message, received_ms, page, extract_error);
        if (!page)
            add_dead_letter(batch, topic, message,
                            strncmp(extract_error, "limit: ", 7) == 0 ? "limit" : "extract",
                            extract_error);
        pe_free(event);
        batch->page_count++;
    } else if (status == PE_ERR_NOMEM) {
        return BT_NOMEM;
    } else {
        add_reject_row(batch, topic, message, received_ms, pe_status_name(status), error);
        add_dead_letter(batch, topic, message, pe_status_name(status), error);
        batch->reject_count++;
        snprintf(why, whylen, "%s: %s", pe_status_name(status), error);
    }
    if (batch->pages.failed || batch->rejects.failed || batch->dead.failed)
        return BT_NOMEM;
    return status == PE_OK ? BT_PAGE : BT_REJECTED;
}

int bt_dedup(bt_batch *batch, dd_engine *engine, int64_t first_seq)
{
    if (batch->n_extracted > batch->cap_sr_pages) {
        sr_page *grown = realloc(batch->sr_pages, batch->n_extracted * sizeof(*grown));
        if (!grown)
            return -1;
        batch->sr_pages = grown;
        batch->cap_sr_pages = batch->n_extracted;
    }
    for (size_t i = 0; i < batch->n_extracted; i++) {
        const bt_page *bp = &batch->extracted[i];
        batch->sr_pages[i] = (sr_page){.page = bp->page,
                                       .page_url = bp->page_url,
                                       .topic = batch->partitions[bp->part].topic,
                                       .partition = batch->partitions[bp->part].partition,
                                       .offset = bp->offset,
                                       .seen_ms = bp->seen_ms};
    }
    batch->deduped = true;
    return sr_build(batch->stories, engine, first_seq, batch->sr_pages, batch->n_extracted);
}

const sr_rows *bt_stories(const bt_batch *batch)
{
    return batch->stories;
}

size_t bt_items(const bt_batch *batch)
{
    return batch->item_count;
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

void bt_set_statements(bt_batch *batch, bool statements)
{
    batch->statements = statements;
}

/*
 * Turns a COPY step into a pipelined INSERT of its rows. The INSERT is derived from the COPY's
 * "COPY table (columns) FROM STDIN". Returns 0 or -1 (out of memory, or rows that do not fit).
 */
static int copy_to_statement(bt_statement *st, int index, pgc_step *step)
{
    const char *open = strchr(step->sql, '(');
    const char *close = open ? strchr(open, ')') : NULL;
    if (!open || !close || strncmp(step->sql, "COPY ", 5) != 0)
        return -1;
    size_t columns = 1;
    for (const char *c = open; c < close; c++)
        columns += *c == ',';
    int used = snprintf(st->sql, sizeof(st->sql), "INSERT INTO %.*s %.*s) VALUES (",
                        (int)(open - step->sql - 6), step->sql + 5, (int)(close - open), open);
    for (size_t i = 1; i <= columns && used > 0 && (size_t)used < sizeof(st->sql); i++)
        used += snprintf(st->sql + used, sizeof(st->sql) - (size_t)used, "%s$%zu",
                         i > 1 ? ", " : "", i);
    if (used <= 0 || (size_t)used + 2 > sizeof(st->sql))
        return -1;
    strcat(st->sql, ")");
    snprintf(st->name, sizeof(st->name), "storyd_insert_%d", index);
    size_t *at = NULL, rows = 0;
    if (sd_copy_decode(step->copy_data, step->copy_len, columns, &st->values, &at, &rows) != 0)
        return -1;
    if (rows * columns > st->params_cap) {
        const char **grown = realloc(st->params, rows * columns * sizeof(*grown));
        if (!grown) {
            free(at);
            return -1;
        }
        st->params = grown;
        st->params_cap = rows * columns;
    }
    for (size_t i = 0; i < rows * columns; i++)
        st->params[i] = at[i] == SIZE_MAX ? NULL : st->values.data + at[i];
    free(at);
    *step = (pgc_step){.kind = PGC_STEP_PIPELINE,
                       .sql = st->sql,
                       .name = st->name,
                       .nparams = (int)columns,
                       .nrows = rows,
                       .params = st->params};
    return 0;
}

int bt_prepare(bt_batch *batch, const char *consumer_group, const int64_t *expected,
               pgc_step **steps, size_t *nsteps)
{
    size_t need = 13 + batch->partition_count;
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
    if (batch->dead_count)
        s[n++] = (pgc_step){.kind = PGC_STEP_COPY,
                            .sql = copy_dead_sql,
                            .copy_data = batch->dead.data,
                            .copy_len = batch->dead.len};
    const sr_rows *st = batch->stories;
    if (batch->deduped && sr_sighting_count(st) > 0) {
        /* Order matters: texts before the story upsert reads them, sightings before the
         * aggregates, and merges last, once every survivor has its row. */
        const sd_buf *texts = sr_text_rows(st);
        if (texts->len) {
            s[n++] = (pgc_step){.kind = PGC_STEP_COPY,
                                .sql = sr_copy_texts_sql,
                                .copy_data = texts->data,
                                .copy_len = texts->len};
            s[n++] = (pgc_step){.kind = PGC_STEP_QUERY, .sql = sr_insert_texts_sql};
        }
        s[n++] = (pgc_step){.kind = PGC_STEP_COPY,
                            .sql = sr_copy_sightings_sql,
                            .copy_data = sr_sighting_rows(st)->data,
                            .copy_len = sr_sighting_rows(st)->len};
        const sd_buf *links = sr_link_rows(st);
        if (links->len)
            s[n++] = (pgc_step){.kind = PGC_STEP_COPY,
                                .sql = sr_copy_links_sql,
                                .copy_data = links->data,
                                .copy_len = links->len};
        batch->seq_params[0] = sr_first_seq_text(st);
        batch->seq_params[1] = sr_last_seq_text(st);
        s[n++] = (pgc_step){.kind = PGC_STEP_QUERY,
                            .sql = sr_upsert_stories_sql,
                            .nparams = 2,
                            .params = batch->seq_params};
        s[n++] = (pgc_step){.kind = PGC_STEP_QUERY,
                            .sql = sr_upsert_variants_sql,
                            .nparams = 2,
                            .params = batch->seq_params};
        const sd_buf *events = sr_event_rows(st);
        if (events->len)
            s[n++] = (pgc_step){.kind = PGC_STEP_COPY,
                                .sql = sr_copy_events_sql,
                                .copy_data = events->data,
                                .copy_len = events->len};
        if (sr_merge_count(st))
            s[n++] = (pgc_step){.kind = PGC_STEP_QUERY,
                                .sql = sr_merge_sql,
                                .nparams = 4,
                                .params = sr_merge_params(st)};
    }
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
    if (batch->statements) {
        /* The staged texts go straight into storyd_text's stage the same way. */
        int copies = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i].kind != PGC_STEP_COPY)
                continue;
            if (copies == BT_MAX_COPIES ||
                copy_to_statement(&batch->statement[copies], copies, &s[i]) != 0)
                return -1;
            copies++;
        }
    }
    *steps = s;
    *nsteps = n;
    return 0;
}
