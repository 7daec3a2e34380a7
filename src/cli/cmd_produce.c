/*
 * `storyd produce`: reads page events as JSON Lines and publishes them as
 * storyd.v1.PageEvent protobuf messages keyed by url, with an idempotent
 * producer. Each line: {"url", "final_url", "fetched_at" (RFC 3339 text or
 * epoch ms), "http_status", "content_type", "body" (text) or "body_base64",
 * "source_id", "publisher_hint", "headers": {name: value}}. Only url is
 * required. A bad line is reported with its file and line number and stops
 * the load before anything of it is sent.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/base64.h"
#include "common/buf.h"
#include "common/log.h"
#include "storyd/v1/page_event.pb-c.h"

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

/* Parses RFC 3339 ("2026-03-02T08:15:00Z", "...+09:00", fractions allowed) into epoch ms. */
static int parse_time(const char *text, int64_t *out_ms)
{
    struct tm tm = {0};
    const char *rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest)
        return -1;
    int64_t millis = 0;
    if (*rest == '.') {
        int digits = 0;
        rest++;
        while (*rest >= '0' && *rest <= '9') {
            if (digits < 3) {
                millis = millis * 10 + (*rest - '0');
                digits++;
            }
            rest++;
        }
        while (digits++ < 3)
            millis *= 10;
    }
    int offset_minutes = 0;
    if (*rest == 'Z' || *rest == 'z') {
        rest++;
    } else if (*rest == '+' || *rest == '-') {
        int hours, minutes;
        if (sscanf(rest + 1, "%2d:%2d", &hours, &minutes) != 2)
            return -1;
        offset_minutes = (hours * 60 + minutes) * (*rest == '-' ? -1 : 1);
        rest += 6;
    } else {
        return -1;
    }
    if (*rest != '\0')
        return -1;
    time_t seconds = timegm(&tm);
    *out_ms = ((int64_t)seconds - offset_minutes * 60) * 1000 + millis;
    return 0;
}

static const char *opt_string(json_t *object, const char *key, char *err, size_t errlen,
                              int *failed)
{
    json_t *value = json_object_get(object, key);
    if (!value || json_is_null(value))
        return "";
    if (!json_is_string(value)) {
        snprintf(err, errlen, "key %s: expected a string", key);
        *failed = 1;
        return "";
    }
    return json_string_value(value);
}

/* Builds the protobuf bytes of one line into out. Returns 0 or -1 with err. */
static int encode_line(json_t *line, sd_buf *out, const char **url, char *err, size_t errlen)
{
    Storyd__V1__PageEvent event = STORYD__V1__PAGE_EVENT__INIT;
    int failed = 0;
    if (!json_is_object(line)) {
        snprintf(err, errlen, "expected a JSON object");
        return -1;
    }
    event.url = (char *)opt_string(line, "url", err, errlen, &failed);
    event.final_url = (char *)opt_string(line, "final_url", err, errlen, &failed);
    event.content_type = (char *)opt_string(line, "content_type", err, errlen, &failed);
    event.source_id = (char *)opt_string(line, "source_id", err, errlen, &failed);
    event.publisher_hint = (char *)opt_string(line, "publisher_hint", err, errlen, &failed);
    if (failed)
        return -1;
    if (!event.url[0]) {
        snprintf(err, errlen, "key url: required");
        return -1;
    }
    *url = event.url;

    json_t *fetched = json_object_get(line, "fetched_at");
    if (json_is_integer(fetched)) {
        event.fetched_at_ms = json_integer_value(fetched);
    } else if (json_is_string(fetched)) {
        if (parse_time(json_string_value(fetched), &event.fetched_at_ms) != 0) {
            snprintf(err, errlen, "key fetched_at: '%s' is not RFC 3339 time",
                     json_string_value(fetched));
            return -1;
        }
    } else if (fetched && !json_is_null(fetched)) {
        snprintf(err, errlen, "key fetched_at: expected RFC 3339 text or epoch milliseconds");
        return -1;
    }
    json_t *status = json_object_get(line, "http_status");
    if (status && !json_is_null(status)) {
        if (!json_is_integer(status) || json_integer_value(status) < 0 ||
            json_integer_value(status) > 999) {
            snprintf(err, errlen, "key http_status: expected an integer 0..999");
            return -1;
        }
        event.http_status = (uint32_t)json_integer_value(status);
    }

    sd_buf body;
    sd_buf_init(&body);
    json_t *text = json_object_get(line, "body");
    json_t *b64 = json_object_get(line, "body_base64");
    if (json_is_string(text)) {
        event.body.data = (uint8_t *)json_string_value(text);
        event.body.len = json_string_length(text);
    } else if (json_is_string(b64)) {
        if (sd_base64_decode(json_string_value(b64), &body) != 0) {
            snprintf(err, errlen, "key body_base64: not base64");
            sd_buf_release(&body);
            return -1;
        }
        event.body.data = (uint8_t *)body.data;
        event.body.len = body.len;
    }

    json_t *headers = json_object_get(line, "headers");
    size_t nheaders = json_is_object(headers) ? json_object_size(headers) : 0;
    Storyd__V1__PageEvent__HeadersEntry *entries =
        calloc(nheaders ? nheaders : 1, sizeof(*entries));
    Storyd__V1__PageEvent__HeadersEntry **entry_ptrs =
        calloc(nheaders ? nheaders : 1, sizeof(*entry_ptrs));
    int rc = 0;
    if (!entries || !entry_ptrs) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
        goto done;
    }
    if (nheaders) {
        const char *name;
        json_t *value;
        size_t i = 0;
        json_object_foreach(headers, name, value)
        {
            if (!json_is_string(value)) {
                snprintf(err, errlen, "key headers.%s: expected a string", name);
                rc = -1;
                goto done;
            }
            storyd__v1__page_event__headers_entry__init(&entries[i]);
            entries[i].key = (char *)name;
            entries[i].value = (char *)json_string_value(value);
            entry_ptrs[i] = &entries[i];
            i++;
        }
        event.n_headers = nheaders;
        event.headers = entry_ptrs;
    }
    size_t size = storyd__v1__page_event__get_packed_size(&event);
    sd_buf_reset(out);
    sd_buf_append(out, "", 0);
    char *packed = malloc(size ? size : 1);
    if (!packed) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
        goto done;
    }
    storyd__v1__page_event__pack(&event, (uint8_t *)packed);
    sd_buf_append(out, packed, size);
    free(packed);
done:
    free(entries);
    free(entry_ptrs);
    sd_buf_release(&body);
    return rc;
}

/* Produces one file; returns the number of lines sent or -1. */
static long produce_file(rd_kafka_t *rk, const char *topic, const char *path, bool progress,
                         produce_state *state)
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
    sd_buf packed;
    sd_buf_init(&packed);
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
        rd_kafka_resp_err_t rc;
        for (;;) {
            rc = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(url, strlen(url)),
                                   RD_KAFKA_V_VALUE(packed.data, packed.len),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
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
    if (file != stdin)
        fclose(file);
    return sent;
}

int sd_cmd_produce(const sd_config *config, const char *topic, char **files, int nfiles)
{
    char err[512];
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
        long sent = produce_file(rk, topic, files[i], progress, &state);
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
