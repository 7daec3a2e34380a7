/*
 * `storyd produce`: reads page events as JSON Lines and publishes them as
 * storyd.v1.PageEvent protobuf messages keyed by url, with an idempotent
 * producer. Each line: {"url", "final_url", "fetched_at" (RFC 3339 text or
 * epoch ms), "http_status", "content_type", "body" (text) or "body_base64",
 * "source_id", "publisher_hint", "headers": {name: value}}. Only url is
 * required. A bad line is reported with its file and line number and stops
 * the load before anything of it is sent. --format confluent frames the
 * protobuf bytes as the Schema Registry serializers do, --format json sends
 * each line itself, and --content-type adds that header to every event
 * (docs/wire-formats.md): for testing the daemon's inputs as producers send them.
 */
#include <errno.h>
#include <stdint.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/log.h"
#include "core/page_event.h"
#include "core/page_event_json.h"

/* How each event goes on the wire. */
typedef struct produce_wire {
    pe_format format;         /* PE_FORMAT_PROTOBUF, PE_FORMAT_CONFLUENT or PE_FORMAT_JSON */
    uint32_t schema_id;       /* for PE_FORMAT_CONFLUENT */
    const char *content_type; /* borrowed; NULL: no header */
} produce_wire;

typedef struct produce_state {
    size_t delivered;
    size_t failed;
    char first_error[512];
} produce_state;

static void delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque)
{
    (void)rk;
    produce_state *state = opaque;
    if (message->err) {
        if (state->failed++ == 0)
            snprintf(state->first_error, sizeof(state->first_error), "%s",
                     rd_kafka_err2str(message->err));
    } else {
        state->delivered++;
    }
}

/*
 * Builds the protobuf bytes of one line into out with the converter the
 * daemon's JSON input uses, then checks them with the daemon's decoder, so a
 * line is refused here exactly when the daemon would reject it. Returns 0 or
 * -1 with err.
 */
static int encode_line(json_t *line, sd_buf *out, const char **url, char *err, size_t errlen)
{
    if (pe_json_to_protobuf(line, out, err, errlen) != PE_OK)
        return -1;
    *url = json_string_value(json_object_get(line, "url"));
    if (!*url || !(*url)[0]) {
        snprintf(err, errlen, "key url: required");
        return -1;
    }
    pe_page_event *event = NULL;
    if (pe_decode((const uint8_t *)out->data, out->len, &event, err, errlen) != PE_OK)
        return -1;
    pe_free(event);
    return 0;
}

/* Produces one file; returns the number of lines sent or -1. */
/*
 * The value of one event in the wire format: the protobuf bytes as they are, framed, or the JSON
 * line itself (without its line end). Returns 0, or -1 when out of memory.
 */
static int wire_value(const produce_wire *wire, const sd_buf *packed, const char *line,
                      size_t line_len, sd_buf *framed, const void **value, size_t *value_len)
{
    if (wire->format == PE_FORMAT_JSON) {
        while (line_len > 0 && (line[line_len - 1] == '\n' || line[line_len - 1] == '\r'))
            line_len--;
        *value = line;
        *value_len = line_len;
        return 0;
    }
    if (wire->format == PE_FORMAT_CONFLUENT) {
        /* Magic byte 0, the schema id big-endian, and message indexes [0] as the one byte 0. */
        sd_buf_reset(framed);
        sd_buf_append_char(framed, 0);
        for (int shift = 24; shift >= 0; shift -= 8)
            sd_buf_append_char(framed, (char)((wire->schema_id >> shift) & 0xff));
        sd_buf_append_char(framed, 0);
        sd_buf_append(framed, packed->data, packed->len);
        if (framed->failed)
            return -1;
        *value = framed->data;
        *value_len = framed->len;
        return 0;
    }
    *value = packed->data;
    *value_len = packed->len;
    return 0;
}

static long produce_file(rd_kafka_t *rk, const char *topic, const char *path, bool progress,
                         const produce_wire *wire, produce_state *state)
{
    FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!file) {
        sd_log_error("produce", "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, sent = 0;
    sd_buf packed, framed;
    sd_buf_init(&packed);
    sd_buf_init(&framed);
    while ((len = getline(&line, &cap, file)) != -1) {
        lineno++;
        if (len <= 1 && (len == 0 || line[0] == '\n'))
            continue;
        json_error_t jerr;
        json_t *object = json_loadb(line, (size_t)len, 0, &jerr);
        if (!object) {
            sd_log_error("produce", "%s:%ld:%d: %s", path, lineno, jerr.column, jerr.text);
            sent = -1;
            break;
        }
        char err[512];
        const char *url = NULL;
        if (encode_line(object, &packed, &url, err, sizeof(err)) != 0) {
            sd_log_error("produce", "%s:%ld: %s", path, lineno, err);
            json_decref(object);
            sent = -1;
            break;
        }
        const void *value;
        size_t value_len;
        if (wire_value(wire, &packed, line, (size_t)len, &framed, &value, &value_len) != 0) {
            sd_log_error("produce", "%s:%ld: out of memory", path, lineno);
            json_decref(object);
            sent = -1;
            break;
        }
        rd_kafka_resp_err_t rc;
        for (;;) {
            rd_kafka_headers_t *headers = NULL;
            if (wire->content_type) {
                headers = rd_kafka_headers_new(1);
                rd_kafka_header_add(headers, "content-type", -1, wire->content_type, -1);
            }
            rc = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(url, strlen(url)),
                                   RD_KAFKA_V_VALUE((void *)value, value_len),
                                   RD_KAFKA_V_HEADERS(headers),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            /* The message owns the headers only when it was accepted. */
            if (rc && headers)
                rd_kafka_headers_destroy(headers);
            if (rc != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                break;
            rd_kafka_poll(rk, 100);
        }
        json_decref(object);
        if (rc) {
            sd_log_error("produce", "%s:%ld: %s", path, lineno, rd_kafka_err2str(rc));
            sent = -1;
            break;
        }
        sent++;
        rd_kafka_poll(rk, 0);
        if (progress && sent % 1000 == 0)
            fprintf(stderr, "\rproduce: %s: %ld events queued, %zu delivered", path, sent,
                    state->delivered);
    }
    if (progress)
        fprintf(stderr, "\r\033[K");
    free(line);
    sd_buf_release(&packed);
    sd_buf_release(&framed);
    if (file != stdin)
        fclose(file);
    return sent;
}

int sd_cmd_produce(const sd_config *config, const sd_cli_options *options, char **files, int nfiles)
{
    char err[512];
    const char *topic = options->topic ? options->topic : config->input_topic;
    produce_wire wire = {
        .format = PE_FORMAT_PROTOBUF, .schema_id = 1, .content_type = options->content_type};
    if (options->format) {
        wire.format = pe_format_parse(options->format);
        if (wire.format != PE_FORMAT_PROTOBUF && wire.format != PE_FORMAT_CONFLUENT &&
            wire.format != PE_FORMAT_JSON) {
            sd_log_error("produce", "--format %s: expected protobuf, confluent or json",
                         options->format);
            return 2;
        }
    }
    if (options->schema_id) {
        char *end;
        long long id = strtoll(options->schema_id, &end, 10);
        if (*end || end == options->schema_id || id < 0 || id > INT32_MAX) {
            sd_log_error("produce", "--schema-id %s: expected a number from 0 to %d",
                         options->schema_id, INT32_MAX);
            return 2;
        }
        wire.schema_id = (uint32_t)id;
    }
    rd_kafka_conf_t *conf = sd_kafka_client_conf(config, err, sizeof(err));
    if (!conf) {
        sd_log_error("produce", "%s", err);
        return 1;
    }
    produce_state state = {0};
    char inner[512];
    if (rd_kafka_conf_set(conf, "enable.idempotence", "true", inner, sizeof(inner)) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "linger.ms", "5", inner, sizeof(inner)) != RD_KAFKA_CONF_OK) {
        sd_log_error("produce", "%s", inner);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_conf_set_opaque(conf, &state);
    rd_kafka_conf_set_dr_msg_cb(conf, delivery_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, inner, sizeof(inner));
    if (!rk) {
        sd_log_error("produce", "creating the producer: %s", inner);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    bool progress = isatty(STDERR_FILENO);
    long total = 0;
    int code = 0;
    for (int i = 0; i < nfiles; i++) {
        long sent = produce_file(rk, topic, files[i], progress, &wire, &state);
        if (sent < 0) {
            code = 1;
            break;
        }
        total += sent;
    }
    rd_kafka_resp_err_t rc = rd_kafka_flush(rk, 60000);
    if (rc) {
        sd_log_error("produce", "flush: %s (%zu delivered of %ld)", rd_kafka_err2str(rc),
                     state.delivered, total);
        code = 1;
    }
    if (state.failed) {
        sd_log_error("produce", "%zu events failed to deliver; first error: %s", state.failed,
                     state.first_error);
        code = 1;
    }
    rd_kafka_destroy(rk);
    fprintf(stdout, "produced %zu events to %s\n", state.delivered, topic);
    return code;
}
